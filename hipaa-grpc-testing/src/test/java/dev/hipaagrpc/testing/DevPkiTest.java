package dev.hipaagrpc.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Light checks only: the tls and auth tests exercise the PKI over real handshakes. */
class DevPkiTest {

  private static final DevPki PKI = DevPki.create();

  @Test
  void server_chainsToRootWithLocalhostNames() throws Exception {
    DevPki.Credential server = PKI.server();
    X509Certificate leaf = server.certificate();

    leaf.verify(PKI.intermediateCertificate().getPublicKey());
    PKI.intermediateCertificate().verify(PKI.rootCertificate().getPublicKey());
    assertThat(server.chain()).containsExactly(leaf, PKI.intermediateCertificate());
    assertThat(leaf.getSubjectAlternativeNames())
        .extracting(san -> (Object) san.get(1))
        .containsExactly("localhost", "127.0.0.1");
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getSubjectX500Principal().getName())
        .isEqualTo("O=hipaa-grpc development,CN=localhost");
  }

  @Test
  void newLeaf_commonNameWithDnSpecialCharacters_keptVerbatim() throws Exception {
    DevPki.Credential c =
        PKI.newLeaf().commonName("#a, b+c=\"d\"").dnsName("x.internal").clientAuth().issue();

    assertThat(c.certificate().getSubjectX500Principal().getName())
        .isEqualTo("O=hipaa-grpc development,CN=\\#a\\, b\\+c\\=\\\"d\\\"");
    assertThat(c.certificate().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
  }

  @Test
  void newLeaf_ipOnly_commonNameIsTheAddress() {
    DevPki.Credential c = PKI.newLeaf().ipAddress("127.0.0.1").issue();

    assertThat(c.certificate().getSubjectX500Principal().getName())
        .isEqualTo("O=hipaa-grpc development,CN=127.0.0.1");
  }

  @Test
  void newLeaf_withoutSan_refused() {
    assertThatThrownBy(() -> PKI.newLeaf().issue()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void expiredAndNotYetValid_followTheClock() {
    Instant now = Instant.parse("2030-01-01T00:00:00Z");
    DevPki pki = DevPki.newBuilder().clock(Clock.fixed(now, ZoneOffset.UTC)).build();
    String id = pki.spiffeId("ns/a/sa/b");

    assertThat(id).isEqualTo("spiffe://hipaa-grpc.test/ns/a/sa/b");
    assertThat(pki.expiredClient(id).certificate().getNotAfter().toInstant()).isBefore(now);
    assertThat(pki.notYetValidClient(id).certificate().getNotBefore().toInstant()).isAfter(now);
  }

  @Test
  void revokedClient_listedInTheIntermediatesCrl() {
    DevPki pki = DevPki.create();
    DevPki.Credential revoked = pki.revokedClient(pki.spiffeId("r"));
    DevPki.Credential good = pki.client(pki.spiffeId("g"));

    List<X509CRL> crls = pki.crls();

    assertThat(crls).hasSize(2);
    assertThat(crls.get(1).isRevoked(revoked.certificate())).isTrue();
    assertThat(crls.get(1).isRevoked(good.certificate())).isFalse();
    assertThatThrownBy(() -> pki.revoke(pki.foreign().client(pki.spiffeId("f"))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rsaKeyType_issuesRsaKeys() {
    DevPki rsa = DevPki.newBuilder().keyType(DevPki.KeyType.RSA_2048).build();

    assertThat(rsa.server().privateKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(rsa.rootCertificate().getSigAlgName()).isEqualToIgnoringCase("SHA256withRSA");
  }

  @Test
  void writePem_readableByTheJdk(@TempDir Path dir) throws Exception {
    DevPki.PemFiles files = PKI.client(PKI.spiffeId("w")).writePem(dir, "client");
    Path trust = PKI.writeTrustBundle(dir.resolve("ca.pem"));

    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    try (var in = Files.newInputStream(files.certificateChain())) {
      assertThat(cf.generateCertificates(in)).hasSize(2);
    }
    try (var in = Files.newInputStream(trust)) {
      assertThat(cf.generateCertificate(in)).isEqualTo(PKI.rootCertificate());
    }
    assertThat(Files.readString(files.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
  }
}
