package dev.hipaagrpc.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.BindableService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code hipaagrpc} actuator endpoint: absent unless actuator's exposure settings include it,
 * and then the stack's posture report from the running configuration; the TLS and identity-provider
 * meters registered when a {@link MeterRegistry} bean exists.
 */
@Timeout(60)
class HipaaGrpcEndpointTest {
  @TempDir Path dir;
  private StarterFixture fixture;

  @Configuration(proxyBeanMethods = false)
  static class Service {
    @Bean
    BindableService notes() {
      return new StarterFixture.Notes();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Registry {
    @Bean
    MeterRegistry registry() {
      return new SimpleMeterRegistry();
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    fixture = new StarterFixture(dir);
  }

  private void run(
      Map<String, String> extra, Class<?> user, Consumer<AssertableApplicationContext> check) {
    Map<String, String> properties = fixture.properties();
    properties.putAll(extra);
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                HipaaGrpcAutoConfiguration.class,
                GrpcServerAutoConfiguration.class,
                EndpointAutoConfiguration.class))
        .withUserConfiguration(Service.class, user)
        .withPropertyValues(fixture.propertyPairs(properties))
        .run(check::accept);
  }

  @Test
  void endpoint_notExposed_noBean() {
    run(
        Map.of(),
        Service.class,
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).doesNotHaveBean(HipaaGrpcEndpoint.class);
        });
  }

  @Test
  void endpoint_exposed_reportsTheRunningStackWithTlsAndCertificates() {
    run(
        Map.of("management.endpoints.web.exposure.include", "hipaagrpc"),
        Service.class,
        context -> {
          assertThat(context).hasNotFailed();
          String json = context.getBean(HipaaGrpcEndpoint.class).posture();
          JsonObject report = JsonParser.parseString(json).getAsJsonObject();
          assertThat(report.get("schema").getAsString()).isEqualTo("hipaa-grpc-posture/1");
          List<String> keys = new ArrayList<>();
          for (JsonElement e : report.getAsJsonArray("items")) {
            keys.add(e.getAsJsonObject().get("key").getAsString());
          }
          assertThat(keys)
              .contains(
                  "stack.layers",
                  "stack.required.audit",
                  "tls.transport_guard",
                  "auth.issuers",
                  "authz.policy",
                  "audit.delivery",
                  "audit.chain",
                  "masking.status_sanitizer",
                  "tls.protocols",
                  "tls.client_auth",
                  "tls.certificates");
          assertThat(report.getAsJsonArray("unsafe")).isEmpty();
          // Configuration facts only: no key file content, no token.
          assertThat(json).doesNotContain("PRIVATE KEY");
        });
  }

  @Test
  void meterRegistryBean_tlsHandshakeMetersRegistered() {
    run(
        Map.of(),
        Registry.class,
        context -> {
          assertThat(context).hasNotFailed();
          MeterRegistry registry = context.getBean(MeterRegistry.class);
          context.getBean(io.grpc.ServerCredentials.class); // built with the observer
          assertThat(registry.find("hipaa.grpc.tls.handshake.failures").counters()).isNotEmpty();
        });
  }
}
