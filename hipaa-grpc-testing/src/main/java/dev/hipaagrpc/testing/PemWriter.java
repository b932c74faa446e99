package dev.hipaagrpc.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.Provider;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.jspecify.annotations.Nullable;

/** PEM writing for the development PKI, through BouncyCastle (what {@code openssl} reads). */
final class PemWriter {

  private static final Provider BC = new BouncyCastleProvider();

  private PemWriter() {}

  static String encode(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        writer.writeObject(o);
      }
    } catch (IOException e) {
      throw new IllegalStateException("PEM encoding failed", e);
    }
    return out.toString();
  }

  /** PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}, with curve parameters). */
  static String encodeTraditional(PrivateKey key) {
    if (!(key instanceof java.security.interfaces.ECPrivateKey ec)) {
      return encode(key);
    }
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
    // The JDK's PKCS#8 encoding keeps the curve only in the algorithm identifier; SEC1 readers
    // (OpenSSL, BouncyCastle) need it inside the ECPrivateKey structure.
    org.bouncycastle.asn1.sec.ECPrivateKey sec1 =
        new org.bouncycastle.asn1.sec.ECPrivateKey(
            ec.getParams().getOrder().bitLength(),
            ec.getS(),
            info.getPrivateKeyAlgorithm().getParameters());
    try {
      return encode(
          new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    } catch (IOException e) {
      throw new IllegalStateException("SEC1 encoding failed", e);
    }
  }

  static String encodePkcs8(PrivateKey key, char @Nullable [] password) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      if (password == null) {
        writer.writeObject(new JcaPKCS8Generator(key, null));
      } else {
        writer.writeObject(
            new JcaPKCS8Generator(
                key,
                new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                    .setProvider(BC)
                    .setPassword(password)
                    .build()));
      }
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("private key PEM encoding failed", e);
    }
    return out.toString();
  }

  /** Writes {@code content} to {@code file} atomically (temp file + move), owner-only if POSIX. */
  static void writeAtomically(Path file, String content, boolean secret) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = Files.createTempFile(dir, ".hipaagrpc-", ".tmp");
    try {
      if (secret) {
        try {
          Files.setPosixFilePermissions(
              tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // Not a POSIX file system: keep the platform default.
        }
      }
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
        w.write(content);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (java.nio.file.AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
