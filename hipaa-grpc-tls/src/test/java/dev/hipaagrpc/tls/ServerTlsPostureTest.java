package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.PostureSource;
import dev.hipaagrpc.testing.DevPki;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The posture of TLS server credentials reads the live engine and the current material. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerTlsPostureTest {

  private static final DevPki PKI = DevPki.create();

  @TempDir Path dir;

  private static PostureItem item(PostureSource source, String key) {
    return source.posture().stream()
        .filter(i -> i.key().equals(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no item " + key));
  }

  private static List<Object> strings(Object value) {
    return List.copyOf((List<?>) value);
  }

  private MtlsServerCredentials.Builder builder(IdentityMaterial identity) {
    return MtlsServerCredentials.newBuilder()
        .identity(identity)
        .trust(TrustMaterial.of(List.of(PKI.rootCertificate())));
  }

  @Test
  void posture_defaults_liveEngineListsNoWeakSchemeClientAuthRequired() {
    DevPki.Credential server = PKI.server();
    ServerCredentials creds =
        builder(IdentityMaterial.of(server.privateKey(), server.chain()))
            .protocols("TLSv1.3")
            .build();
    PostureSource posture = MtlsServerCredentials.posture(creds);

    // Narrowed to TLS 1.3 on the builder: the engine says so, not the profile's list.
    assertThat(item(posture, "tls.protocols").value()).isEqualTo(List.of("TLSv1.3"));
    assertThat((List<?>) item(posture, "tls.cipher_suites").value())
        .isNotEmpty()
        .allSatisfy(s -> assertThat(TlsProfile.isApprovedSuite((String) s)).isTrue());
    List<Object> schemes = strings(item(posture, "tls.signature_schemes").value());
    assertThat(schemes)
        .contains("ecdsa_secp256r1_sha256")
        .doesNotContain("ecdsa_sha1", "rsa_pkcs1_sha1", "ecdsa_sha224", "ed25519");
    assertThat(item(posture, "tls.signature_schemes").status()).isEqualTo(PostureItem.Status.OK);
    assertThat(strings(item(posture, "tls.named_groups").value()))
        .containsExactlyInAnyOrderElementsOf(
            List.copyOf(TlsProfile.NIST_SP_800_52R2.namedGroups()));
    assertThat(item(posture, "tls.alpn").value()).isEqualTo(List.of("h2"));
    assertThat(item(posture, "tls.client_auth").value()).isEqualTo("required");
    Map<?, ?> identity = (Map<?, ?>) item(posture, "tls.identity").value();
    assertThat(identity.get("sha256")).isEqualTo(Certs.sha256Hex(server.certificate()));
    assertThat((Long) identity.get("daysLeft")).isPositive();
    assertThat(item(posture, "tls.trust").status()).isEqualTo(PostureItem.Status.OK);
  }

  @Test
  void posture_optionalClientAuthAndOcspSoftFail_unsafe() {
    DevPki.Credential server = PKI.server();
    PostureSource posture =
        MtlsServerCredentials.posture(
            builder(IdentityMaterial.of(server.privateKey(), server.chain()))
                .allowUnsafeOptionalClientAuth()
                .enableOcsp()
                .allowUnsafeOcspSoftFail()
                .build());
    assertThat(item(posture, "tls.client_auth").status()).isEqualTo(PostureItem.Status.UNSAFE);
    assertThat(item(posture, "tls.client_auth").note()).contains("allowUnsafeOptionalClientAuth");
    assertThat(item(posture, "tls.revocation").status()).isEqualTo(PostureItem.Status.UNSAFE);
  }

  @Test
  void posture_refusedReload_warnsWithTheReasonOldCertificateStillReported() throws Exception {
    DevPki.Credential server = PKI.server();
    DevPki.PemFiles files = server.writePem(dir, "server");
    IdentityMaterial identity =
        IdentityMaterial.fromPemFiles(files.certificateChain(), files.privateKey());
    PostureSource posture = MtlsServerCredentials.posture(builder(identity).build());
    assertThat(item(posture, "tls.identity").status()).isEqualTo(PostureItem.Status.OK);

    Files.writeString(files.certificateChain(), "not a certificate", StandardCharsets.US_ASCII);
    assertThat(identity.reload()).isFalse();

    PostureItem after = item(posture, "tls.identity");
    assertThat(after.status()).isEqualTo(PostureItem.Status.WARN);
    Map<?, ?> v = (Map<?, ?>) after.value();
    assertThat(((Map<?, ?>) v.get("reload")).get("lastRefusal")).isNotEqualTo("none");
    assertThat(v.get("sha256")).isEqualTo(Certs.sha256Hex(server.certificate()));
  }

  @Test
  void posture_credentialsNotBuiltHere_refused() {
    assertThatThrownBy(() -> MtlsServerCredentials.posture(InsecureServerCredentials.create()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void expiryMonitorPosture_withinThreshold_warnsExpired_unsafe() {
    DevPki.Credential server = PKI.server();
    IdentityMaterial identity = IdentityMaterial.of(server.privateKey(), server.chain());
    Instant notAfter = server.certificate().getNotAfter().toInstant();
    CertificateExpiryMonitor soon =
        CertificateExpiryMonitor.newBuilder()
            .watch(identity)
            .clock(Clock.fixed(notAfter.minus(Duration.ofDays(3)), ZoneOffset.UTC))
            .build();
    CertificateExpiryMonitor past =
        CertificateExpiryMonitor.newBuilder()
            .watch(identity)
            .clock(Clock.fixed(notAfter.plusSeconds(1), ZoneOffset.UTC))
            .build();
    assertThat(item(soon, "tls.certificates").status()).isEqualTo(PostureItem.Status.WARN);
    assertThat(item(past, "tls.certificates").status()).isEqualTo(PostureItem.Status.UNSAFE);
    assertThat(CertificateExpiryMonitor.newBuilder().watch(identity).build().posture())
        .singleElement()
        .satisfies(i -> assertThat(i.status()).isEqualTo(PostureItem.Status.OK));
  }

  @Test
  void transportGuardPosture_inProcessAllowed_warns() {
    assertThat(TransportGuardServerInterceptor.create().posture().get(0).status())
        .isEqualTo(PostureItem.Status.OK);
    assertThat(
            TransportGuardServerInterceptor.newBuilder()
                .allowInProcessTransport()
                .build()
                .posture()
                .get(0)
                .status())
        .isEqualTo(PostureItem.Status.WARN);
  }
}
