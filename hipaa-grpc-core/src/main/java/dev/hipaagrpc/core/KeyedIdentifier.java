package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The one keyed-identifier format of hipaa-grpc: what audit events, access reports, masking tokens
 * and external stores (Redis keys) carry instead of a patient, subject or tenant id.
 *
 * <p>Format: {@code kh1.<keyId>.<mac>}, where {@code mac} is the unpadded base64url encoding of
 * {@code HMAC-SHA256(subkey, ascii(domain) || 0x00 || utf8(value))} and {@code subkey =
 * HMAC-SHA256(key, "hipaa-grpc/keyed-hash/v1")}. The domain ({@code patient}, {@code subject},
 * {@code tenant}, …) keeps equal values of different kinds from sharing a hash. Equal values give
 * equal identifiers under one key, so records can be joined and searched; without the key a guessed
 * value cannot be checked. The key id names the key, so a reader can tell which key made an
 * identifier after rotation: by default it is derived from the key ({@link #create(byte[])}), so it
 * needs no configuration and reveals nothing about the key.
 *
 * <p>{@link #toString()} prints the key id only. Immutable and thread-safe.
 */
public final class KeyedIdentifier {

  /** The prefix of every identifier of this format (version 1). */
  public static final String PREFIX = "kh1.";

  /** The shortest key accepted, in bytes (256 bits). */
  public static final int MIN_KEY_BYTES = 32;

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  private static final Pattern DOMAIN = Pattern.compile("[a-z][a-z0-9_]{0,31}");
  private static final byte[] SUBKEY_LABEL =
      "hipaa-grpc/keyed-hash/v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEY_ID_LABEL =
      "hipaa-grpc/key-id/v1".getBytes(StandardCharsets.US_ASCII);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final String keyId;
  private final String prefix;
  private final Mac prototype;

  private KeyedIdentifier(String keyId, byte[] subkey) {
    this.keyId = keyId;
    this.prefix = PREFIX + keyId + ".";
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
      this.prototype = mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    } finally {
      Arrays.fill(subkey, (byte) 0);
    }
  }

  /**
   * Returns the format over {@code key}, with a key id derived from the key (the first 6 bytes of
   * {@code HMAC-SHA256(key, "hipaa-grpc/key-id/v1")}, base64url: 8 characters).
   *
   * @throws IllegalArgumentException if the key is shorter than {@value #MIN_KEY_BYTES} bytes
   */
  public static KeyedIdentifier create(byte[] key) {
    checkKey(key);
    String id = B64.encodeToString(Arrays.copyOf(hmac(key, KEY_ID_LABEL), 6));
    return new KeyedIdentifier(id, hmac(key, SUBKEY_LABEL));
  }

  /**
   * Returns the format over {@code key} under an explicit key id (for key providers that name their
   * keys).
   *
   * @param keyId 1 to 32 characters of {@code [A-Za-z0-9_-]}
   * @throws IllegalArgumentException if the key id or the key is not acceptable
   */
  public static KeyedIdentifier create(String keyId, byte[] key) {
    requireNonNull(keyId, "keyId");
    if (!KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("keyId must be 1-32 characters of [A-Za-z0-9_-]");
    }
    checkKey(key);
    return new KeyedIdentifier(keyId, hmac(key, SUBKEY_LABEL));
  }

  /** The key id written into every identifier. */
  public String keyId() {
    return keyId;
  }

  /**
   * Returns the keyed identifier of {@code value} in {@code domain}.
   *
   * @param domain the kind of value: a lower-case word such as {@code patient} or {@code subject}
   * @throws IllegalArgumentException if the domain is not such a word
   */
  public String of(String domain, String value) {
    requireNonNull(value, "value");
    return of(domain, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Returns the keyed identifier of the bytes {@code value} in {@code domain}. */
  public String of(String domain, byte[] value) {
    requireNonNull(domain, "domain");
    requireNonNull(value, "value");
    if (!DOMAIN.matcher(domain).matches()) {
      throw new IllegalArgumentException("domain must match " + DOMAIN);
    }
    Mac mac;
    try {
      mac = (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("HmacSHA256 provider cannot clone", e);
    }
    mac.update(domain.getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) 0);
    return prefix + B64.encodeToString(mac.doFinal(value));
  }

  /** Whether {@code s} has the shape of an identifier of this format (any key). */
  public static boolean isKeyedIdentifier(String s) {
    requireNonNull(s, "s");
    if (!s.startsWith(PREFIX)) {
      return false;
    }
    int dot = s.indexOf('.', PREFIX.length());
    return dot > PREFIX.length()
        && KEY_ID.matcher(s.substring(PREFIX.length(), dot)).matches()
        && s.length() - dot - 1 == 43;
  }

  @Override
  public String toString() {
    return "KeyedIdentifier{keyId=" + keyId + "}";
  }

  private static void checkKey(byte[] key) {
    requireNonNull(key, "key");
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key must be at least " + MIN_KEY_BYTES + " bytes (got " + key.length + ")");
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException("key is not usable for HmacSHA256", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
