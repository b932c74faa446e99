package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.hipaagrpc.core.KeyedIdentifier;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.internal.Checks;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Turns identifiers into tokens (45 CFR 164.312(a)(2)(iv), encryption of stored identifiers).
 *
 * <ul>
 *   <li>{@link #keyedHash(String)}: a deterministic HMAC-SHA256 token in hipaa-grpc's one
 *       keyed-identifier format ({@link KeyedIdentifier}, domain {@value #KEYED_HASH_DOMAIN}),
 *       {@code kh1.<keyId>.<mac>}, for joins and analytics. Equal values give equal tokens under
 *       one key; it cannot be reversed, and without the key it cannot be recomputed from a guessed
 *       value.
 *   <li>{@link #tokenize(String)}: a reversible AES-256-GCM envelope, {@code
 *       tk1.<keyId>.<nonce+ciphertext+tag>}, that {@link #detokenize} turns back only for a
 *       principal holding the detokenize role (default {@value #DEFAULT_DETOKENIZE_ROLE}).
 * </ul>
 *
 * <p>The two uses get separate subkeys derived from each provider key (HMAC-SHA256 of a fixed
 * label), so one key is never used by two algorithms. The key id and version are authenticated as
 * associated data. Rotation: new tokens use the provider's current key; old tokens stay reversible
 * while the provider still has their key; keyed hashes change with the key. Errors never echo a
 * token or a value, and {@link #toString()} prints no key material.
 *
 * <p>Thread-safe.
 */
public final class Tokenizer {

  /** The role that may reverse tokens unless {@link Builder#detokenizeRole} says otherwise. */
  public static final String DEFAULT_DETOKENIZE_ROLE = "detokenize";

  /** The {@link KeyedIdentifier} domain of every keyed hash this class makes. */
  public static final String KEYED_HASH_DOMAIN = "value";

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  private static final String TOKEN_PREFIX = "tk1.";
  private static final byte[] TOKEN_LABEL = "hipaa-grpc/token/v1".getBytes(StandardCharsets.UTF_8);
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final TokenKeyProvider keys;
  private final String detokenizeRole;
  private final SecureRandom random = new SecureRandom();
  // The format over the provider's current key, rebuilt only when the key id or key changes.
  private volatile @Nullable Hasher hasher;

  private Tokenizer(TokenKeyProvider keys, String detokenizeRole) {
    this.keys = keys;
    this.detokenizeRole = detokenizeRole;
  }

  /** Returns a tokenizer over {@code keys} with the default detokenize role. */
  public static Tokenizer create(TokenKeyProvider keys) {
    return newBuilder(keys).build();
  }

  /** Starts a tokenizer over {@code keys}. */
  public static Builder newBuilder(TokenKeyProvider keys) {
    return new Builder(requireNonNull(keys, "keys"));
  }

  /**
   * Returns the deterministic keyed-hash token of {@code value} under the current key: {@code
   * KeyedIdentifier.create(currentKeyId, key).of("value", value)}.
   *
   * @throws IllegalStateException if the provider has no usable current key
   */
  public String keyedHash(String value) {
    requireNonNull(value, "value");
    return hasher().of(KEYED_HASH_DOMAIN, value);
  }

  /**
   * Returns the raw 32-byte keyed hash of {@code value} under the current key: the MAC of {@link
   * #keyedHash(String)}'s identifier over these bytes, without its prefix and key id.
   *
   * @throws IllegalStateException if the provider has no usable current key
   */
  public ByteString keyedHash(ByteString value) {
    requireNonNull(value, "value");
    String id = hasher().of(KEYED_HASH_DOMAIN, value.toByteArray());
    return ByteString.copyFrom(B64D.decode(id.substring(id.lastIndexOf('.') + 1)));
  }

  private KeyedIdentifier hasher() {
    String keyId = currentKeyId();
    SecretKey key = keys.key(keyId);
    if (key == null) {
      throw new IllegalStateException("the key provider has no key for its current key id");
    }
    Hasher h = hasher;
    if (h == null || !h.keyId().equals(keyId) || !h.key().equals(key)) {
      byte[] encoded = checkKey(key);
      try {
        h = new Hasher(keyId, key, KeyedIdentifier.create(keyId, encoded));
      } finally {
        Arrays.fill(encoded, (byte) 0);
      }
      hasher = h;
    }
    return h.format();
  }

  private record Hasher(String keyId, SecretKey key, KeyedIdentifier format) {}

  /**
   * Returns a reversible token of {@code value} under the current key; each call gives a different
   * token.
   *
   * @throws IllegalStateException if the provider has no usable current key
   */
  public String tokenize(String value) {
    requireNonNull(value, "value");
    String keyId = currentKeyId();
    String prefix = TOKEN_PREFIX + keyId + ".";
    byte[] sealed = seal(keyId, prefix, value.getBytes(StandardCharsets.UTF_8));
    return prefix + B64.encodeToString(sealed);
  }

  /**
   * Returns a reversible binary token: the UTF-8 token string of {@link #tokenize(String)}'s form.
   */
  public ByteString tokenize(ByteString value) {
    requireNonNull(value, "value");
    String keyId = currentKeyId();
    String prefix = TOKEN_PREFIX + keyId + ".";
    byte[] sealed = seal(keyId, prefix, value.toByteArray());
    return ByteString.copyFromUtf8(prefix + B64.encodeToString(sealed));
  }

  /**
   * Reverses a token made by {@link #tokenize(String)}.
   *
   * @param principal the caller; must hold the detokenize role
   * @throws SecurityException if the principal is null or lacks the detokenize role
   * @throws IllegalArgumentException if the token is malformed, altered, or its key is not
   *     available (the message never contains the token)
   */
  public String detokenize(String token, @Nullable Principal principal) {
    return new String(open(token, principal), StandardCharsets.UTF_8);
  }

  /** Reverses a binary token made by {@link #tokenize(ByteString)}; see {@link #detokenize}. */
  public ByteString detokenize(ByteString token, @Nullable Principal principal) {
    return ByteString.copyFrom(open(token.toStringUtf8(), principal));
  }

  /** The role that may reverse tokens. */
  public String detokenizeRole() {
    return detokenizeRole;
  }

  @Override
  public String toString() {
    return "Tokenizer{detokenizeRole=" + detokenizeRole + "}";
  }

  private byte[] open(String token, @Nullable Principal principal) {
    requireNonNull(token, "token");
    if (principal == null || !principal.hasRole(detokenizeRole)) {
      throw new SecurityException("the caller may not detokenize");
    }
    if (!token.startsWith(TOKEN_PREFIX)) {
      throw new IllegalArgumentException("not a token");
    }
    int dot = token.indexOf('.', TOKEN_PREFIX.length());
    if (dot < 0) {
      throw new IllegalArgumentException("not a token");
    }
    String keyId = token.substring(TOKEN_PREFIX.length(), dot);
    if (!KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("not a token");
    }
    byte[] sealed;
    try {
      sealed = B64D.decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a token");
    }
    if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new IllegalArgumentException("not a token");
    }
    SecretKey key = keys.key(keyId);
    if (key == null) {
      throw new IllegalArgumentException("the token's key is not available");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE,
          derive(key, TOKEN_LABEL, "AES"),
          new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(token.substring(0, dot + 1).getBytes(StandardCharsets.US_ASCII));
      return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the token is not valid");
    }
  }

  private byte[] seal(String keyId, String prefix, byte[] plaintext) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.ENCRYPT_MODE,
          subkey(keyId, TOKEN_LABEL, "AES"),
          new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(prefix.getBytes(StandardCharsets.US_ASCII));
      byte[] ct = cipher.doFinal(plaintext);
      return ByteBuffer.allocate(NONCE_BYTES + ct.length).put(nonce).put(ct).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  private String currentKeyId() {
    String keyId = keys.currentKeyId();
    checkKeyIdState(keyId);
    return keyId;
  }

  private SecretKeySpec subkey(String keyId, byte[] label, String algorithm) {
    SecretKey key = keys.key(keyId);
    if (key == null) {
      throw new IllegalStateException("the key provider has no key for its current key id");
    }
    return derive(key, label, algorithm);
  }

  private static SecretKeySpec derive(SecretKey key, byte[] label, String algorithm) {
    byte[] encoded = checkKey(key);
    try {
      byte[] sub = mac(new SecretKeySpec(encoded, "HmacSHA256"), label);
      return new SecretKeySpec(sub, algorithm);
    } finally {
      Arrays.fill(encoded, (byte) 0);
    }
  }

  private static byte[] mac(SecretKeySpec key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  static void checkKeyId(@Nullable String keyId) {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("key id must be 1 to 32 characters of [A-Za-z0-9_-]");
    }
  }

  private static void checkKeyIdState(@Nullable String keyId) {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new IllegalStateException("the key provider's current key id is malformed");
    }
  }

  static byte[] checkKey(SecretKey key) {
    byte[] encoded = key.getEncoded();
    if (encoded == null || encoded.length != 32) {
      throw new IllegalArgumentException("token keys must be 256-bit keys with an encoded form");
    }
    return encoded;
  }

  /** Builds a {@link Tokenizer}. Not thread-safe. */
  public static final class Builder {
    private final TokenKeyProvider keys;
    private String detokenizeRole = DEFAULT_DETOKENIZE_ROLE;

    private Builder(TokenKeyProvider keys) {
      this.keys = keys;
    }

    /** Sets the role that may reverse tokens. Default: {@value #DEFAULT_DETOKENIZE_ROLE}. */
    public Builder detokenizeRole(String role) {
      this.detokenizeRole = Checks.requireNonBlank(role, "role");
      return this;
    }

    /**
     * Returns the tokenizer.
     *
     * @throws IllegalStateException if the provider's current key is missing or not 256 bits
     */
    public Tokenizer build() {
      String current = keys.currentKeyId();
      checkKeyIdState(current);
      SecretKey key = keys.key(current);
      if (key == null) {
        throw new IllegalStateException(
            "the key provider has no key for its current key id; give it a 256-bit key");
      }
      try {
        Arrays.fill(checkKey(key), (byte) 0);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("the current token key must be a 256-bit key", e);
      }
      return new Tokenizer(keys, detokenizeRole);
    }
  }
}
