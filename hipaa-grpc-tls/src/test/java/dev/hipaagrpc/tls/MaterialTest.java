package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and validating key and trust material in every supported form. */
class MaterialTest {

  private static final DevPki EC = DevPki.create();
  private static final DevPki RSA =
      DevPki.newBuilder().keyType(DevPki.KeyType.RSA_2048).name("RSA Dev").build();
  private static final char[] PASSWORD = "correct horse battery staple".toCharArray();

  @TempDir Path dir;

  @Test
  void fromPemFiles_pkcs8Ec_loads() {
    DevPki.Credential c = EC.server();
    DevPki.PemFiles f = c.writePem(dir, "ec");
    assertThat(
            IdentityMaterial.fromPemFiles(f.certificateChain(), f.privateKey()).certificateChain())
        .containsExactlyElementsOf(c.chain());
  }

  @Test
  void fromPemFiles_sec1EcKey_loads() throws Exception {
    DevPki.Credential c = EC.server();
    Path key = c.writeTraditionalKeyPem(dir.resolve("ec.key"));
    assertThat(Files.readString(key)).contains("BEGIN EC PRIVATE KEY");
    IdentityMaterial.fromPemFiles(c.writeChainPem(dir.resolve("ec.pem")), key);
  }

  @Test
  void fromPemFiles_pkcs1RsaKey_loads() throws Exception {
    DevPki.Credential c = RSA.server();
    Path key = c.writeTraditionalKeyPem(dir.resolve("rsa.key"));
    assertThat(Files.readString(key)).contains("BEGIN RSA PRIVATE KEY");
    IdentityMaterial.fromPemFiles(c.writeChainPem(dir.resolve("rsa.pem")), key);
  }

  @Test
  void fromPemFiles_encryptedPkcs8WithPassword_loads() throws Exception {
    DevPki.Credential c = EC.server();
    Path key = c.writeEncryptedKeyPem(dir.resolve("enc.key"), PASSWORD);
    assertThat(Files.readString(key)).contains("BEGIN ENCRYPTED PRIVATE KEY");
    IdentityMaterial.fromPemFiles(c.writeChainPem(dir.resolve("enc.pem")), key, PASSWORD);
  }

  @Test
  void fromPemFiles_encryptedKeyWrongOrNoPassword_refusedWithoutSecrets() {
    DevPki.Credential c = EC.server();
    Path key = c.writeEncryptedKeyPem(dir.resolve("enc.key"), PASSWORD);
    Path chain = c.writeChainPem(dir.resolve("enc.pem"));
    assertThatThrownBy(() -> IdentityMaterial.fromPemFiles(chain, key, "Tr0ub4dor&3".toCharArray()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed")
        .hasMessageNotContaining("Tr0ub4dor")
        .hasNoCause();
    assertThatThrownBy(() -> IdentityMaterial.fromPemFiles(chain, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no password");
  }

  @Test
  void fromPemFiles_keyOfAnotherCertificate_refusedKeyMismatch() {
    Path chain = EC.server().writeChainPem(dir.resolve("a.pem"));
    Path key = EC.server().writeKeyPem(dir.resolve("b.key"));
    assertThatThrownBy(() -> IdentityMaterial.fromPemFiles(chain, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key_mismatch");
  }

  @Test
  void fromPemFiles_expiredCertificate_refused() {
    DevPki.Credential c = EC.expiredClient(EC.spiffeId("a"));
    DevPki.PemFiles f = c.writePem(dir, "expired");
    assertThatThrownBy(() -> IdentityMaterial.fromPemFiles(f.certificateChain(), f.privateKey()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expired");
  }

  @Test
  void fromPemFiles_chainOutOfOrder_refusedBrokenChain() {
    DevPki.Credential c = EC.server();
    DevPki.Credential other = EC.foreign().server();
    assertThatThrownBy(
            () ->
                IdentityMaterial.of(c.privateKey(), List.of(c.certificate(), other.chain().get(1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("broken_chain");
  }

  @Test
  void fromPemFiles_keyFileHoldsCertificate_refusedWithoutContent() {
    Path chain = EC.server().writeChainPem(dir.resolve("c.pem"));
    assertThatThrownBy(() -> IdentityMaterial.fromPemFiles(chain, chain))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not hold a private key")
        .hasMessageNotContaining("MII");
  }

  @Test
  void fromKeyStore_pkcs12_loads() throws Exception {
    DevPki.Credential c = EC.server();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", c.privateKey(), PASSWORD, c.chain().toArray(new Certificate[0]));
    assertThat(IdentityMaterial.fromKeyStore(ks, PASSWORD).certificateChain())
        .containsExactlyElementsOf(c.chain());
    assertThatThrownBy(() -> IdentityMaterial.fromKeyStore(ks, "nope".toCharArray()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasNoCause();

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", EC.rootCertificate());
    assertThat(TrustMaterial.fromKeyStore(trust).trustedCertificates())
        .containsExactly(EC.rootCertificate());
  }

  @Test
  void trustFromPemFiles_withCrls_loadsBoth() {
    Path ca = EC.writeTrustBundle(dir.resolve("ca.pem"));
    Path crl = EC.writeCrls(dir.resolve("crl.pem"));
    TrustMaterial t = TrustMaterial.fromPemFiles(ca, List.of(crl));
    assertThat(t.trustedCertificates()).containsExactly(EC.rootCertificate());
    assertThat(t.crls()).hasSize(2);
  }

  @Test
  void trustFromPemFiles_emptyOrGarbage_refused() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "");
    assertThatThrownBy(() -> TrustMaterial.fromPemFiles(empty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed");
    assertThatThrownBy(() -> TrustMaterial.of(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void trustReload_newCaBundle_installedAndReported() throws Exception {
    Path ca = EC.writeTrustBundle(dir.resolve("ca.pem"));
    TrustMaterial t = TrustMaterial.fromPemFiles(ca);
    List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    t.addListener(
        new RotationListener() {
          @Override
          public void onReloaded(Path file) {
            events.add("reloaded");
          }

          @Override
          public void onRefused(Path file, String reason) {
            events.add(reason);
          }
        });
    assertThat(t.reload()).isFalse(); // unchanged
    Files.writeString(
        ca,
        Files.readString(ca)
            + Files.readString(EC.foreign().writeTrustBundle(dir.resolve("f.pem"))));
    assertThat(t.reload()).isTrue();
    assertThat(t.trustedCertificates()).hasSize(2);
    Files.writeString(ca, "garbage");
    assertThat(t.reload()).isFalse();
    assertThat(t.trustedCertificates()).hasSize(2);
    assertThat(events).containsExactly("reloaded", "malformed");
  }

  @Test
  void reloadEvery_notFileBacked_refused() {
    DevPki.Credential c = EC.server();
    IdentityMaterial m = IdentityMaterial.of(c.privateKey(), c.chain());
    java.util.concurrent.ScheduledExecutorService executor =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      assertThatThrownBy(() -> m.reloadEvery(Duration.ofSeconds(1), executor))
          .isInstanceOf(IllegalStateException.class);
    } finally {
      executor.shutdownNow();
    }
    assertThatThrownBy(m::reload).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void devPki_notYetValidAndRevoked_variantsAreWhatTheySay() {
    DevPki.Credential future = EC.notYetValidClient(EC.spiffeId("f"));
    assertThat(future.certificate().getNotBefore().toInstant()).isAfter(Instant.now());
    DevPki.Credential revoked = EC.revokedClient(EC.spiffeId("r"));
    assertThat(EC.crls().get(1).isRevoked(revoked.certificate())).isTrue();
    assertThat(EC.crls().get(1).isRevoked(EC.client(EC.spiffeId("ok")).certificate())).isFalse();
    assertThat(RSA.server().privateKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(EC.server().privateKey().getAlgorithm()).isEqualTo("EC");
  }
}
