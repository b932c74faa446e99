package dev.hipaagrpc.spring;

import dev.hipaagrpc.auth.authn.KeyFetchObserver;
import dev.hipaagrpc.auth.authn.KeySource;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.observability.MicrometerAuthMetrics;
import dev.hipaagrpc.observability.MicrometerTlsMetrics;
import dev.hipaagrpc.tls.TlsHandshakeObserver;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The optional integrations: Micrometer meters and the actuator endpoint, each by classpath. */
final class HipaaGrpcObservabilityConfiguration {

  private HipaaGrpcObservabilityConfiguration() {}

  /** Meters for the identity providers of the configured issuers, or none. */
  interface IssuerMetrics {
    IssuerMetrics NONE =
        new IssuerMetrics() {
          @Override
          public KeyFetchObserver observer(String source) {
            return KeyFetchObserver.NOOP;
          }

          @Override
          public void bindKeyAge(KeySource keys, String source) {}
        };

    KeyFetchObserver observer(String source);

    void bindKeyAge(KeySource keys, String source);
  }

  /**
   * With Micrometer and hipaa-grpc-observability on the classpath and a {@link MeterRegistry} bean:
   * {@code hipaa.grpc.tls.handshake.failures}, {@code hipaa.grpc.auth.idp.requests} and {@code
   * hipaa.grpc.auth.keys.age}, each issuer's tagged {@code source=issuer-<index>} (its index in
   * {@code hipaa.grpc.authentication.issuers}: bounded by the configuration).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({MeterRegistry.class, MicrometerTlsMetrics.class})
  static class Metrics {
    @Bean
    @ConditionalOnMissingBean
    TlsHandshakeObserver hipaaGrpcTlsMetrics(ObjectProvider<MeterRegistry> registry) {
      MeterRegistry r = registry.getIfAvailable();
      return r == null ? TlsHandshakeObserver.NOOP : MicrometerTlsMetrics.create(r);
    }

    @Bean
    @ConditionalOnMissingBean
    IssuerMetrics hipaaGrpcIssuerMetrics(ObjectProvider<MeterRegistry> registry) {
      MeterRegistry r = registry.getIfAvailable();
      if (r == null) {
        return IssuerMetrics.NONE;
      }
      return new IssuerMetrics() {
        @Override
        public KeyFetchObserver observer(String source) {
          return MicrometerAuthMetrics.create(r, source);
        }

        @Override
        public void bindKeyAge(KeySource keys, String source) {
          MicrometerAuthMetrics.bindKeyAge(r, keys, source);
        }
      };
    }
  }

  /** With actuator on the classpath: the {@code hipaagrpc} endpoint, when exposed. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
        "org.springframework.boot.actuate.autoconfigure.endpoint.condition"
            + ".ConditionalOnAvailableEndpoint"
      })
  static class Actuator {
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    HipaaGrpcEndpoint hipaaGrpcEndpoint(SecurityStack stack) {
      return new HipaaGrpcEndpoint(stack);
    }
  }
}
