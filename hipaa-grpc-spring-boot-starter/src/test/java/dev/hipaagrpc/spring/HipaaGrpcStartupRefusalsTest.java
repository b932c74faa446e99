package dev.hipaagrpc.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.SecurityStack;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Start-up fails, with the library's own message, for each configuration the library refuses; and a
 * complete configuration starts. One application context per case.
 */
@Timeout(60)
class HipaaGrpcStartupRefusalsTest {
  @TempDir Path dir;
  private StarterFixture fixture;

  @Configuration(proxyBeanMethods = false)
  static class Service {
    @Bean
    BindableService notes() {
      return new StarterFixture.Notes();
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    fixture = new StarterFixture(dir);
  }

  private void run(Map<String, String> properties, Consumer<AssertableApplicationContext> check) {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                HipaaGrpcAutoConfiguration.class, GrpcServerAutoConfiguration.class))
        .withUserConfiguration(Service.class)
        .withPropertyValues(fixture.propertyPairs(properties))
        .run(check::accept);
  }

  private void refused(Map<String, String> properties, String message) {
    run(
        properties,
        context -> {
          assertThat(context).hasFailed();
          // The library's own message, as the failure or its root cause.
          assertThat(context.getStartupFailure()).hasStackTraceContaining(message);
        });
  }

  private Map<String, String> without(String key) {
    Map<String, String> p = fixture.properties();
    assertThat(p.remove(key)).as(key).isNotNull();
    return p;
  }

  private Map<String, String> with(String key, String value) {
    Map<String, String> p = fixture.properties();
    p.put(key, value);
    return p;
  }

  @Test
  void completeConfiguration_starts() {
    run(
        fixture.properties(),
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(HipaaGrpcServerFactory.class);
          assertThat(context.getBean(SecurityStack.class).summary())
              .contains("authentication")
              .contains("authorization");
        });
  }

  @Test
  void noServerCertificate_refused() {
    refused(
        without("hipaa.grpc.tls.certificate-chain"),
        "hipaa.grpc.tls.certificate-chain is required");
  }

  @Test
  void noClientTrust_refusedWhileClientCertificatesAreRequired() {
    refused(without("hipaa.grpc.tls.trust-bundle"), "hipaa.grpc.tls.trust-bundle is required");
  }

  @Test
  void noAuditDirectory_refused() {
    refused(without("hipaa.grpc.audit.directory"), "hipaa.grpc.audit.directory is required");
  }

  @Test
  void auditDisabledWithoutTheUnsafeOptOut_refusedWithTheLibrarysReason() {
    refused(with("hipaa.grpc.audit.enabled", "false"), "SecurityStack has no AUDIT layer");
  }

  @Test
  void auditDisabledWithTheUnsafeOptOut_starts() {
    Map<String, String> p = with("hipaa.grpc.audit.enabled", "false");
    p.put("hipaa.grpc.audit.allow-unsafe-without-audit", "true");
    run(p, context -> assertThat(context).hasNotFailed());
  }

  @Test
  void issuerWithTwoKeySources_refused() {
    refused(
        with("hipaa.grpc.authentication.issuers[0].jwks-uri", "https://idp.example/jwks"),
        "set exactly one of jwks-uri, discovery=true and jwk-set-file");
  }

  @Test
  void issuerWithoutAudience_refused() {
    refused(
        without("hipaa.grpc.authentication.issuers[0].audience"),
        "hipaa.grpc.authentication.issuers[0].audience is required");
  }

  @Test
  void keycloakPresetWithoutClientId_refused() {
    refused(
        with("hipaa.grpc.authentication.issuers[0].preset", "keycloak"),
        "hipaa.grpc.authentication.issuers[0].client-id is required");
  }

  @Test
  void policyFileThatDoesNotCompile_refused() throws IOException {
    Path policy = Files.writeString(dir.resolve("policy.txtpb"), "version: \"v1\" rules { id: }");
    run(
        with("hipaa.grpc.authorization.policy-file", policy.toString()),
        context -> assertThat(context).hasFailed());
  }

  @Test
  void anExemptionFromAuditWithoutOneFromAuthentication_refused() {
    refused(
        with("hipaa.grpc.exempt-from-audit", "hipaagrpc.spring.testing.Notes/*"),
        "needs exemptFromAuthentication for the same methods");
  }

  @Test
  void anotherServerFactory_wouldServeWithoutTheStack_refused() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                HipaaGrpcAutoConfiguration.class, GrpcServerAutoConfiguration.class))
        .withUserConfiguration(Service.class, PlainFactory.class)
        .withPropertyValues(fixture.propertyPairs(fixture.properties()))
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining("would serve the services without the hipaa-grpc stack");
            });
  }

  @Test
  void springsInProcessServer_refusedUnlessAllowed() {
    refused(
        with("spring.grpc.server.inprocess.name", "in-test"),
        "would serve the services without the hipaa-grpc stack");
    Map<String, String> allowed = with("spring.grpc.server.inprocess.name", "in-test");
    allowed.put("hipaa.grpc.allow-unsafe-other-server-factories", "true");
    run(allowed, context -> assertThat(context).hasNotFailed());
  }

  @Configuration(proxyBeanMethods = false)
  static class PlainFactory {
    @Bean
    org.springframework.grpc.server.NettyGrpcServerFactory plainFactory() {
      return new org.springframework.grpc.server.NettyGrpcServerFactory(
          "127.0.0.1:0", java.util.List.of(), null, null, null);
    }
  }

  @Test
  void aUsersOwnStackBean_isUsedInstead() {
    run(
        with("hipaa.grpc.audit.enabled", "false"),
        context -> assertThat(context).hasFailed()); // the library's refusal, as above
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                HipaaGrpcAutoConfiguration.class, GrpcServerAutoConfiguration.class))
        .withUserConfiguration(Service.class, OwnStack.class)
        .withPropertyValues(fixture.propertyPairs(with("hipaa.grpc.audit.enabled", "false")))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(SecurityStack.class))
                  .isSameAs(context.getBean(OwnStack.class).stack);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnStack {
    final SecurityStack stack =
        SecurityStack.newBuilder()
            .allowUnsafeWithoutAudit()
            .allowUnsafeWithoutTransportGuard()
            .allowUnsafeWithoutAuthentication()
            .allowUnsafeWithoutAuthorization()
            .build();

    @Bean
    SecurityStack ownStack() {
      return stack;
    }
  }
}
