package dev.hipaagrpc.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authn.AccessTokenSource;
import dev.hipaagrpc.auth.authn.BearerCallCredentials;
import dev.hipaagrpc.examples.PatientRecordsServer.Options;
import dev.hipaagrpc.examples.PatientRecordsServer.Wiring;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.Patient;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc.PatientRecordsBlockingStub;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The full-stack benchmark's seam: each wiring serves the benchmark's call, applies the layers it
 * names (masking shows whether the stack ran), and never rate-limits.
 */
class BenchmarkServerTest {

  @ParameterizedTest
  @EnumSource(Wiring.class)
  void start_eachWiring_servesThePhysiciansCallsUnlimited(Wiring wiring, @TempDir Path dir)
      throws Exception {
    DemoEnvironment env = DemoEnvironment.createOrLoad(dir);
    PatientRecordsService service = new PatientRecordsService();
    Patient record = BenchmarkServer.benchmarkPatient();
    service.put(record);
    try (DemoIdentityProvider idp =
            DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
        PatientRecordsServer server =
            PatientRecordsServer.start(
                env,
                0,
                idp.issuer(),
                idp.jwksUri(),
                env.trustingDevRoot(),
                new Options(
                    wiring,
                    true,
                    dir.resolve("audit-" + wiring.name().toLowerCase(Locale.ROOT)),
                    service))) {
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "localhost",
                  server.port(),
                  MtlsChannelCredentials.newBuilder()
                      .trust(TrustMaterial.fromPemFiles(env.caPem))
                      .identity(IdentityMaterial.fromPemFiles(env.portalPem, env.portalKey))
                      .build())
              .build();
      try {
        String token =
            idp.mint(
                "dr.bench",
                List.of("physician"),
                List.of("user/*.rs"),
                PatientRecordsService.TENANT,
                null,
                Duration.ofMinutes(5));
        PatientRecordsBlockingStub stub =
            PatientRecordsGrpc.newBlockingStub(channel)
                .withCallCredentials(
                    BearerCallCredentials.create(AccessTokenSource.ofStatic(token)));
        GetPatientRequest request =
            GetPatientRequest.newBuilder()
                .setTenantId(PatientRecordsService.TENANT)
                .setPatientId(BenchmarkServer.BENCHMARK_PATIENT)
                .build();
        Patient seen = record;
        for (int i = 0; i < 60; i++) { // the example's limit would refuse after a burst of 40
          seen = stub.withDeadlineAfter(20, TimeUnit.SECONDS).getPatient(request);
        }
        assertThat(seen.getPatientId()).isEqualTo(BenchmarkServer.BENCHMARK_PATIENT);
        if (wiring == Wiring.TLS_ONLY) {
          assertThat(seen).isEqualTo(record);
        } else {
          assertThat(seen.getSsn()).isNotEqualTo(record.getSsn());
        }
        if (wiring == Wiring.BUFFERED_AUDIT || wiring == Wiring.EXAMPLE) {
          assertThat(server.auditDispatcher().durableBeforeResponse())
              .isEqualTo(wiring == Wiring.EXAMPLE);
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertThat(record.getSerializedSize()).isBetween(900, 1200);
  }
}
