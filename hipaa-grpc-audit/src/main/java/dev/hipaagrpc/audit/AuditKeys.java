package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Creates, stores and loads the audit keys.
 *
 * <ul>
 *   <li><b>Identifier key</b> (32 bytes, secret): HMAC key for patient ids and patient-facing
 *       subjects in events. Held by the service and by whoever runs {@link AccessReport}.
 *   <li><b>Genesis chain key</b> K<sub>0</sub> (32 bytes, secret): given to {@link ChainedFileSink}
 *       once, then kept offline for {@link AuditVerifier}. Proves every record's integrity and
 *       origin.
 *   <li><b>Checkpoint signing key</b> (Ed25519): private half on the service, public half with
 *       anyone who verifies. Proves checkpoints, and through the hash chain everything before them.
 * </ul>
 *
 * <p>Files: secret keys as lowercase hex, private keys as base64 PKCS#8, public keys as base64
 * X.509, one line each; secrets are created with owner-only permissions where the file system
 * supports them. Run {@code java -cp ... dev.hipaagrpc.audit.AuditKeys <directory>} to create
 * {@code identifier.key}, {@code chain-genesis.key}, {@code checkpoint-signing.key} and {@code
 * checkpoint-signing.pub} there.
 *
 * <p>Thread-safe (stateless).
 */
public final class AuditKeys {

  private static final SecureRandom RANDOM = new SecureRandom();

  private AuditKeys() {}

  /** Returns 32 random bytes from {@link SecureRandom}: an identifier key or genesis key. */
  public static byte[] newSecretKey() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return k;
  }

  /** Returns a new Ed25519 key pair for signing checkpoints. */
  public static KeyPair newSigningKeyPair() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 unavailable", e);
    }
  }

  /**
   * Writes a secret key as hex, readable by the owner only where supported.
   *
   * @throws IOException if the file exists or cannot be written
   */
  public static void writeSecretKey(Path file, byte[] key) throws IOException {
    writeSecret(file, Crypto.HEX.formatHex(key));
  }

  /**
   * Reads a secret key written by {@link #writeSecretKey}.
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not hex of at least 32 bytes
   */
  public static byte[] readSecretKey(Path file) throws IOException {
    String text = Files.readString(requireNonNull(file, "file"), US_ASCII).trim();
    return Crypto.requireKey(Crypto.HEX.parseHex(text), "key");
  }

  /**
   * Writes a private key as base64 PKCS#8, owner-only where supported.
   *
   * @throws IOException if the file exists or cannot be written
   */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    writeSecret(file, Base64.getEncoder().encodeToString(key.getEncoded()));
  }

  /**
   * Writes a public key as base64 X.509.
   *
   * @throws IOException if it cannot be written
   */
  public static void writePublicKey(Path file, PublicKey key) throws IOException {
    Files.writeString(file, Base64.getEncoder().encodeToString(key.getEncoded()) + "\n", US_ASCII);
  }

  /**
   * Reads an Ed25519 public key written by {@link #writePublicKey}.
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not an Ed25519 public key
   */
  public static PublicKey readPublicKey(Path file) throws IOException {
    byte[] der = Base64.getDecoder().decode(Files.readString(file, US_ASCII).trim());
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  /**
   * Reads the Ed25519 key pair from a private key file and its public key file.
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not Ed25519 keys
   */
  public static KeyPair readSigningKeyPair(Path privateKeyFile, Path publicKeyFile)
      throws IOException {
    byte[] der = Base64.getDecoder().decode(Files.readString(privateKeyFile, US_ASCII).trim());
    try {
      PrivateKey priv =
          KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
      return new KeyPair(readPublicKey(publicKeyFile), priv);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key", e);
    }
  }

  private static void writeSecret(Path file, String text) throws IOException {
    requireNonNull(file, "file");
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, text + "\n", US_ASCII);
  }

  /**
   * Creates the four key files in the directory given as the only argument.
   *
   * @param args {@code <directory>}
   * @throws IOException if a file exists or cannot be written
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: AuditKeys <directory>");
      System.exit(2);
      return;
    }
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    writeSecretKey(dir.resolve("identifier.key"), newSecretKey());
    writeSecretKey(dir.resolve("chain-genesis.key"), newSecretKey());
    KeyPair pair = newSigningKeyPair();
    writePrivateKey(dir.resolve("checkpoint-signing.key"), pair.getPrivate());
    writePublicKey(dir.resolve("checkpoint-signing.pub"), pair.getPublic());
    System.out.println("wrote identifier.key, chain-genesis.key, checkpoint-signing.key/.pub");
  }
}
