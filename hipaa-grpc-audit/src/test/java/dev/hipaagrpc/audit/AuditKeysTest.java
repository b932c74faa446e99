package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditKeysTest {

  // Written by `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` (OpenSSL 3.0).
  private static final String OPENSSL_PRIVATE =
      """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VwBCIEIDXhhlWxYQ5qgR+jeJciZ/YQQVrUwe3m9lG9Tk+Bxj9m
      -----END PRIVATE KEY-----
      """;
  private static final String OPENSSL_PUBLIC =
      """
      -----BEGIN PUBLIC KEY-----
      MCowBQYDK2VwAyEAz1kGEKCVerkQuUMKWOUYmIYYNiP8X8y9istUJXpQE/U=
      -----END PUBLIC KEY-----
      """;

  @TempDir Path dir;

  @Test
  void readSigningKeyPair_opensslPem_signsAndVerifies() throws Exception {
    Path priv = write("openssl.key", OPENSSL_PRIVATE);
    Path pub = write("openssl.pub", OPENSSL_PUBLIC);

    KeyPair kp = AuditKeys.readSigningKeyPair(priv, pub);

    assertSignsAndVerifies(kp);
  }

  @Test
  void writeKeys_pem_readBackAndLabelledAsOpenSsl() throws Exception {
    KeyPair kp = AuditKeys.newSigningKeyPair();
    Path priv = dir.resolve("signing.key");
    Path pub = dir.resolve("signing.pub");
    Path secret = dir.resolve("chain.key");
    byte[] key = AuditKeys.newSecretKey();

    AuditKeys.writePrivateKey(priv, kp.getPrivate());
    AuditKeys.writePublicKey(pub, kp.getPublic());
    AuditKeys.writeSecretKey(secret, key);

    assertThat(Files.readString(priv, US_ASCII))
        .startsWith("-----BEGIN PRIVATE KEY-----\n")
        .endsWith("-----END PRIVATE KEY-----\n");
    assertThat(Files.readString(pub, US_ASCII))
        .startsWith("-----BEGIN PUBLIC KEY-----\n")
        .endsWith("-----END PUBLIC KEY-----\n");
    assertThat(Files.readString(secret, US_ASCII)).startsWith("-----BEGIN SECRET KEY-----\n");
    KeyPair read = AuditKeys.readSigningKeyPair(priv, pub);
    assertThat(read.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    assertSignsAndVerifies(read);
    assertThat(AuditKeys.readSecretKey(secret)).isEqualTo(key);
  }

  @Test
  void writeKeys_pem_opensslReadsThem() throws Exception {
    Path openssl = Path.of("/usr/bin/openssl");
    assumeTrue(Files.isExecutable(openssl), "openssl not installed");
    KeyPair kp = AuditKeys.newSigningKeyPair();
    Path priv = dir.resolve("signing.key");
    Path pub = dir.resolve("signing.pub");
    AuditKeys.writePrivateKey(priv, kp.getPrivate());
    AuditKeys.writePublicKey(pub, kp.getPublic());

    // openssl derives the public key from ours: it must be the one we wrote.
    String derived = run(openssl.toString(), "pkey", "-in", priv.toString(), "-pubout");
    assertThat(derived).isEqualTo(Files.readString(pub, US_ASCII));
    run(openssl.toString(), "pkey", "-pubin", "-in", pub.toString(), "-noout");
  }

  @Test
  void readKeys_legacyOneLineFormats_stillRead() throws Exception {
    KeyPair kp = AuditKeys.newSigningKeyPair();
    byte[] key = AuditKeys.newSecretKey();
    Base64.Encoder b64 = Base64.getEncoder();
    Path priv = write("legacy.key", b64.encodeToString(kp.getPrivate().getEncoded()) + "\n");
    Path pub = write("legacy.pub", b64.encodeToString(kp.getPublic().getEncoded()) + "\n");
    Path secret = write("legacy-chain.key", HexFormat.of().formatHex(key) + "\n");

    KeyPair read = AuditKeys.readSigningKeyPair(priv, pub);

    assertThat(read.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    assertSignsAndVerifies(read);
    assertThat(AuditKeys.readPublicKey(pub).getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    assertThat(AuditKeys.readSecretKey(secret)).isEqualTo(key);
  }

  @Test
  void readKeys_wrongPemBlock_refusedWithoutContent() throws Exception {
    Path pub = write("openssl.pub", OPENSSL_PUBLIC);
    Path priv = write("openssl.key", OPENSSL_PRIVATE);

    assertThatThrownBy(() -> AuditKeys.readSigningKeyPair(pub, pub))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expected a PEM PRIVATE KEY block");
    assertThatThrownBy(() -> AuditKeys.readPublicKey(priv))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expected a PEM PUBLIC KEY block");
    assertThatThrownBy(() -> AuditKeys.readSecretKey(priv))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expected a PEM SECRET KEY block");
  }

  @Test
  void readSecretKey_shortKey_refused() throws Exception {
    Path secret = dir.resolve("short.key");
    AuditKeys.writeSecretKey(secret, new byte[16]);

    assertThatThrownBy(() -> AuditKeys.readSecretKey(secret))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void main_writesAllFourFiles_readable() throws Exception {
    AuditKeys.main(new String[] {dir.toString()});

    assertThat(AuditKeys.readSecretKey(dir.resolve("identifier.key"))).hasSize(32);
    assertThat(AuditKeys.readSecretKey(dir.resolve("chain-genesis.key"))).hasSize(32);
    assertSignsAndVerifies(
        AuditKeys.readSigningKeyPair(
            dir.resolve("checkpoint-signing.key"), dir.resolve("checkpoint-signing.pub")));
  }

  private Path write(String name, String content) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, content, US_ASCII);
    return p;
  }

  private static void assertSignsAndVerifies(KeyPair kp) {
    byte[] data = "checkpoint".getBytes(UTF_8);
    String sig = Checkpoints.sign(kp.getPrivate(), data);
    assertThat(Checkpoints.verify(kp.getPublic(), data, sig)).isTrue();
  }

  private String run(String... cmd) throws Exception {
    Path out = Files.createTempFile(dir, "openssl", ".out");
    Process p =
        new ProcessBuilder(List.of(cmd))
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean finished = p.waitFor(30, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    String text = Files.readString(out, US_ASCII);
    assertThat(finished).as("openssl finished within 30 s").isTrue();
    assertThat(p.exitValue()).as("openssl: %s", text).isZero();
    return text;
  }
}
