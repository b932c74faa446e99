package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
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
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemObjectGenerator;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * Creates, stores and loads the audit keys.
 *
 * <ul>
 *   <li><b>Identifier key</b> (32 bytes, secret): the key of the {@link
 *       dev.hipaagrpc.core.KeyedIdentifier}s that stand for patient ids and patient-facing subjects
 *       in events. Held by the service and by whoever runs {@link AccessReport}.
 *   <li><b>Genesis chain key</b> K<sub>0</sub> (32 bytes, secret): given to {@link ChainedFileSink}
 *       once, then kept offline for {@link AuditVerifier}. Proves every record's integrity and
 *       origin.
 *   <li><b>Checkpoint signing key</b> (Ed25519): private half on the service, public half with
 *       anyone who verifies. Proves checkpoints, and through the hash chain everything before them.
 * </ul>
 *
 * <p>Files are PEM (RFC 7468), read and written through BouncyCastle:
 *
 * <ul>
 *   <li>the Ed25519 private key as PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}), exactly what
 *       {@code openssl genpkey -algorithm ed25519} writes;
 *   <li>the Ed25519 public key as X.509 SubjectPublicKeyInfo ({@code -----BEGIN PUBLIC KEY-----}),
 *       what {@code openssl pkey -pubout} writes;
 *   <li>a secret key as its raw bytes in a {@code -----BEGIN SECRET KEY-----} block (PEM has no
 *       standard label for a symmetric key; this one keeps every audit key file in one format).
 * </ul>
 *
 * <p>The one-line files of earlier versions are still read: a private key as base64 PKCS#8, a
 * public key as base64 X.509, a secret key as hex (also what {@code openssl rand -hex 32} writes).
 * Secret and private key files are created with owner-only permissions where the file system
 * supports them. Run {@code java -cp ... dev.hipaagrpc.audit.AuditKeys <directory>} to create
 * {@code identifier.key}, {@code chain-genesis.key}, {@code checkpoint-signing.key} and {@code
 * checkpoint-signing.pub} there.
 *
 * <p>Thread-safe (stateless).
 */
public final class AuditKeys {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ED25519 = "Ed25519";
  private static final String SECRET_KEY = "SECRET KEY";
  private static final String PRIVATE_KEY = "PRIVATE KEY";
  private static final String PUBLIC_KEY = "PUBLIC KEY";

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
      return KeyPairGenerator.getInstance(ED25519).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 unavailable", e);
    }
  }

  /**
   * Writes a secret key as a PEM {@code SECRET KEY} block, readable by the owner only where
   * supported.
   *
   * @throws IOException if the file exists or cannot be written
   */
  public static void writeSecretKey(Path file, byte[] key) throws IOException {
    requireNonNull(key, "key");
    writeSecret(file, new PemObject(SECRET_KEY, key));
  }

  /**
   * Reads a secret key: a PEM {@code SECRET KEY} block as {@link #writeSecretKey} writes it, or the
   * legacy format, one line of hex.
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not a secret key of at least 32 bytes
   */
  public static byte[] readSecretKey(Path file) throws IOException {
    String text = Files.readString(requireNonNull(file, "file"), US_ASCII).strip();
    byte[] key;
    if (isPem(text)) {
      key = pemContent(text, SECRET_KEY);
    } else {
      try {
        key = Crypto.HEX.parseHex(text);
      } catch (IllegalArgumentException e) {
        // HexFormat's message quotes the offending character: a secret's. No cause either.
        throw new IllegalArgumentException("not a PEM SECRET KEY file nor legacy hex");
      }
    }
    return Crypto.requireKey(key, "key");
  }

  /**
   * Writes a private key as PEM PKCS#8 ({@code PRIVATE KEY}), owner-only where supported.
   *
   * @throws IOException if the file exists or cannot be written
   */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    requireNonNull(key, "key");
    writeSecret(file, new JcaPKCS8Generator(key, null).generate());
  }

  /**
   * Writes a public key as PEM X.509 SubjectPublicKeyInfo ({@code PUBLIC KEY}).
   *
   * @throws IOException if it cannot be written
   */
  public static void writePublicKey(Path file, PublicKey key) throws IOException {
    requireNonNull(file, "file");
    requireNonNull(key, "key");
    Files.writeString(file, pem(key), US_ASCII);
  }

  /**
   * Reads an Ed25519 public key: PEM {@code PUBLIC KEY} (as {@link #writePublicKey} and {@code
   * openssl pkey -pubout} write it), or the legacy format, one line of base64 X.509.
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not an Ed25519 public key
   */
  public static PublicKey readPublicKey(Path file) throws IOException {
    byte[] der = der(requireNonNull(file, "file"), PUBLIC_KEY);
    try {
      return KeyFactory.getInstance(ED25519).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  /**
   * Reads the Ed25519 key pair from a private key file (PEM PKCS#8 {@code PRIVATE KEY}, as {@code
   * openssl genpkey -algorithm ed25519} writes it, or the legacy one line of base64 PKCS#8) and its
   * public key file (see {@link #readPublicKey}).
   *
   * @throws IOException if unreadable
   * @throws IllegalArgumentException if not Ed25519 keys
   */
  public static KeyPair readSigningKeyPair(Path privateKeyFile, Path publicKeyFile)
      throws IOException {
    byte[] der = der(requireNonNull(privateKeyFile, "privateKeyFile"), PRIVATE_KEY);
    try {
      PrivateKey priv =
          KeyFactory.getInstance(ED25519).generatePrivate(new PKCS8EncodedKeySpec(der));
      return new KeyPair(readPublicKey(requireNonNull(publicKeyFile, "publicKeyFile")), priv);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key", e);
    } finally {
      Arrays.fill(der, (byte) 0);
    }
  }

  /** The DER of a PEM block of {@code type}, or of a legacy one-line base64 file. */
  private static byte[] der(Path file, String type) throws IOException {
    String text = Files.readString(file, US_ASCII).strip();
    if (isPem(text)) {
      return pemContent(text, type);
    }
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a PEM " + type + " file nor legacy base64 DER", e);
    }
  }

  private static boolean isPem(String text) {
    return text.startsWith("-----BEGIN ");
  }

  /** The content of the one PEM block in {@code text}, which must be of {@code type}. */
  private static byte[] pemContent(String text, String type) throws IOException {
    try (PemReader reader = new PemReader(new StringReader(text))) {
      PemObject o = reader.readPemObject();
      if (o == null || !o.getType().equals(type)) {
        // The label only: a key file's content is a secret.
        throw new IllegalArgumentException("expected a PEM " + type + " block");
      }
      if (reader.readPemObject() != null) {
        throw new IllegalArgumentException("more than one PEM block in a " + type + " file");
      }
      return o.getContent();
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }

  /** Creates {@code file} readable and writable by its owner only, where supported. */
  static void createOwnerOnly(Path file) throws IOException {
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
  }

  private static void writeSecret(Path file, PemObjectGenerator pem) throws IOException {
    requireNonNull(file, "file");
    createOwnerOnly(file);
    Files.writeString(file, pem(pem), US_ASCII);
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
