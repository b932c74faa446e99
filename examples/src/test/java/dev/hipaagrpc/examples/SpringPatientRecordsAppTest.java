package dev.hipaagrpc.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authn.AccessTokenSource;
import dev.hipaagrpc.auth.authn.BearerCallCredentials;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.Patient;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The patient-records service as a Spring Boot application, configured by properties alone: the
 * demo's PKI over real mutual TLS, its identity provider over HTTPS, its audit keys; masking by
 * role and default deny through the starter's stack.
 */
@SpringBootTest(
    classes = SpringPatientRecordsApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.NONE)
@Timeout(60)
class SpringPatientRecordsAppTest {
  @TempDir static Path dir;
  static DemoEnvironment env;
  static DemoIdentityProvider idp;

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry r) {
    try {
      env = DemoEnvironment.createOrLoad(dir);
      idp = DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    r.add("spring.grpc.server.port", () -> "0");
    r.add("spring.grpc.server.address", () -> "127.0.0.1");
    r.add("hipaa.grpc.tls.certificate-chain", env.serverPem::toString);
    r.add("hipaa.grpc.tls.private-key", env.serverKey::toString);
    r.add("hipaa.grpc.tls.trust-bundle", env.caPem::toString);
    r.add("hipaa.grpc.tls.crls[0]", env.crlPem::toString);
    r.add("hipaa.grpc.authentication.issuers[0].issuer", idp::issuer);
    r.add("hipaa.grpc.authentication.issuers[0].audience", () -> DemoIdentityProvider.AUDIENCE);
    r.add("hipaa.grpc.authentication.issuers[0].jwks-uri", () -> idp.jwksUri().toString());
    r.add("hipaa.grpc.authentication.issuers[0].trust-bundle", env.caPem::toString);
    r.add("hipaa.grpc.authentication.issuers[0].tenant-claim", () -> "tenant");
    r.add("hipaa.grpc.audit.directory", env.auditDir::toString);
    r.add("hipaa.grpc.audit.genesis-key-file", env.genesisKey::toString);
    r.add("hipaa.grpc.audit.identifier-key-file", env.identifierKey::toString);
    r.add("hipaa.grpc.audit.signing-private-key-file", env.checkpointPrivateKey::toString);
    r.add("hipaa.grpc.audit.signing-public-key-file", env.checkpointPublicKey::toString);
  }

  @AfterAll
  static void stopIdentityProvider() {
    idp.close();
  }

  @Autowired GrpcServerLifecycle lifecycle;

  private Patient get(ManagedChannel channel, String subject, List<String> roles) {
    String token =
        idp.mint(
            subject,
            roles,
            List.of("user/Patient.rs"),
            PatientRecordsService.TENANT,
            null,
            Duration.ofMinutes(5));
    return PatientRecordsGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .withCallCredentials(BearerCallCredentials.create(AccessTokenSource.ofStatic(token)))
        .getPatient(
            GetPatientRequest.newBuilder()
                .setTenantId(PatientRecordsService.TENANT)
                .setPatientId("MRN-100234")
                .build());
  }

  @Test
  void servesThePatientRecordsMaskedByRole_andDeniesByDefault() throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "localhost",
                lifecycle.getPort(),
                MtlsChannelCredentials.newBuilder()
                    .trust(TrustMaterial.fromPemFiles(env.caPem))
                    .identity(IdentityMaterial.fromPemFiles(env.portalPem, env.portalKey))
                    .build())
            .build();
    try {
      Patient nurse = get(channel, "nurse.jones", List.of("nurse"));
      assertThat(nurse.getFullName()).isEqualTo("Maria Delgado");
      assertThat(nurse.getSsn()).doesNotContain("123-45"); // the SSN is masked for nurses

      StatusRuntimeException clerk =
          catchThrowableOfType(
              StatusRuntimeException.class, () -> get(channel, "c.clerk", List.of("clerk")));
      assertThat(clerk.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(clerk.getStatus().getDescription()).doesNotContain("MRN-100234");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
