package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.internal.Checks;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
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
 * Turns identifiers into tokens (45 CFR 164.312(a)(2)(iv)) with Tink keysets ({@link
 * TokenKeysets}):
 *
 * <ul>
 *   <li>{@link #keyedHash(String)}: {@code kh2.<tag>}, an irreversible HMAC-SHA256 tag (Tink MAC,
 *       over {@value #KEYED_HASH_DOMAIN} || 0x00 || the UTF-8 value). Equal values give equal
 *       tokens under one primary key (joins); without the key it cannot be recomputed from a
 *       guessed value.
 *   <li>{@link #tokenize(String)}: {@code tk2.<ciphertext>}, a randomized AES-256-GCM token (Tink
 *       AEAD): two tokens of one value differ.
 *   <li>{@link #deterministicToken(String)}: {@code td1.<ciphertext>}, a deterministic AES-256-SIV
 *       token (Tink deterministic AEAD): equal values give equal tokens under one keyset, so
 *       pseudonymized records still join, and the token is still reversible.
 * </ul>
 *
 * <p>{@link #detokenize} reverses {@code tk2} and {@code td1} tokens, and the {@code tk1} tokens of
 * earlier versions when the keys they were made with are given to {@link Builder#legacyKeys}, only
 * for a principal holding the detokenize role (default {@value #DEFAULT_DETOKENIZE_ROLE}). Each
 * token kind is bound (as associated data) to its own label, so a token of one kind never opens as
 * another. Rotation is the keysets' ({@link TokenKeysets#withNewPrimary()}): new tokens use the
 * primary key, old tokens reverse while their key is in the keyset.
 *
 * <p>Every operation is reported to the {@link Builder#keyOperationListener}. Errors never echo a
 * token or a value, and {@link #toString()} prints no key material.
 *
 * <p>Thread-safe.
 */
public final class Tokenizer {

  /** The role that may reverse tokens unless {@link Builder#detokenizeRole} says otherwise. */
  public static final String DEFAULT_DETOKENIZE_ROLE = "detokenize";

  /** The domain label MACed before every keyed-hash value. */
  public static final String KEYED_HASH_DOMAIN = "value";

  private static final String KEYED_HASH_PREFIX = "kh2.";
  private static final String TOKEN_PREFIX = "tk2.";
  private static final String DETERMINISTIC_PREFIX = "td1.";
  private static final String LEGACY_PREFIX = "tk1.";
  private static final byte[] TOKEN_AD = "hipaa-grpc/token/v2".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DETERMINISTIC_AD =
      "hipaa-grpc/deterministic-token/v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEYED_HASH_LABEL =
      (KEYED_HASH_DOMAIN + "\0").getBytes(StandardCharsets.US_ASCII);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final TokenKeysets keys;
  private final @Nullable TokenKeyProvider legacyKeys;
  private final String detokenizeRole;
  private final KeyOperationListener listener;

  private Tokenizer(Builder b) {
    this.keys = b.keys;
    this.legacyKeys = b.legacyKeys;
    this.detokenizeRole = b.detokenizeRole;
    this.listener = b.listener;
  }

  /** Returns a tokenizer over {@code keys} with the default detokenize role. */
  public static Tokenizer create(TokenKeysets keys) {
    return newBuilder(keys).build();
  }

  /** Starts a tokenizer over {@code keys}. */
  public static Builder newBuilder(TokenKeysets keys) {
    return new Builder(requireNonNull(keys, "keys"));
  }

  /** Returns the irreversible keyed-hash token of {@code value} under the primary MAC key. */
  public String keyedHash(String value) {
    requireNonNull(value, "value");
    return KEYED_HASH_PREFIX + B64.encodeToString(mac(value.getBytes(StandardCharsets.UTF_8)));
  }

  /** Returns the raw tag of {@link #keyedHash(String)}'s form over these bytes. */
  public ByteString keyedHash(ByteString value) {
    requireNonNull(value, "value");
    return ByteString.copyFrom(mac(value.toByteArray()));
  }

  /** Returns a randomized reversible token of {@code value}; each call gives another token. */
  public String tokenize(String value) {
    requireNonNull(value, "value");
    return TOKEN_PREFIX + B64.encodeToString(seal(value.getBytes(StandardCharsets.UTF_8)));
  }

  /** Returns a randomized reversible binary token: the UTF-8 bytes of the string form. */
  public ByteString tokenize(ByteString value) {
    requireNonNull(value, "value");
    return ByteString.copyFromUtf8(TOKEN_PREFIX + B64.encodeToString(seal(value.toByteArray())));
  }

  /** Returns the deterministic reversible token of {@code value} under the primary AES-SIV key. */
  public String deterministicToken(String value) {
    requireNonNull(value, "value");
    return DETERMINISTIC_PREFIX
        + B64.encodeToString(sealDeterministic(value.getBytes(StandardCharsets.UTF_8)));
  }

  /** Returns a deterministic reversible binary token: the UTF-8 bytes of the string form. */
  public ByteString deterministicToken(ByteString value) {
    requireNonNull(value, "value");
    return ByteString.copyFromUtf8(
        DETERMINISTIC_PREFIX + B64.encodeToString(sealDeterministic(value.toByteArray())));
  }

  /**
   * Reverses a token made by {@link #tokenize(String)} or {@link #deterministicToken(String)} (or
   * an earlier version's {@code tk1} token, with {@link Builder#legacyKeys}).
   *
   * @param principal the caller; must hold the detokenize role
   * @throws SecurityException if the principal is null or lacks the detokenize role
   * @throws IllegalArgumentException if the token is malformed, altered, or its key is not
   *     available (the message never contains the token)
   */
  public String detokenize(String token, @Nullable Principal principal) {
    return new String(open(token, principal), StandardCharsets.UTF_8);
  }

  /** Reverses a binary token; see {@link #detokenize(String, Principal)}. */
  public ByteString detokenize(ByteString token, @Nullable Principal principal) {
    requireNonNull(token, "token");
    return ByteString.copyFrom(open(token.toStringUtf8(), principal));
  }

  /** The role that may reverse tokens. */
  public String detokenizeRole() {
    return detokenizeRole;
  }

  KeyOperationListener listener() {
    return listener;
  }

  @Override
  public String toString() {
    return "Tokenizer{detokenizeRole=" + detokenizeRole + ", keys=" + keys + "}";
  }

  private byte[] mac(byte[] value) {
    byte[] data = new byte[KEYED_HASH_LABEL.length + value.length];
    System.arraycopy(KEYED_HASH_LABEL, 0, data, 0, KEYED_HASH_LABEL.length);
    System.arraycopy(value, 0, data, KEYED_HASH_LABEL.length, value.length);
    try {
      byte[] tag = keys.mac.computeMac(data);
      listener.onKeyOperation(KeyOperationListener.Operation.KEYED_HASH, true);
      return tag;
    } catch (GeneralSecurityException e) {
      listener.onKeyOperation(KeyOperationListener.Operation.KEYED_HASH, false);
      throw new IllegalStateException("the MAC keyset cannot compute a tag", e);
    }
  }

  private byte[] seal(byte[] plaintext) {
    try {
      byte[] ct = keys.aead.encrypt(plaintext, TOKEN_AD);
      listener.onKeyOperation(KeyOperationListener.Operation.TOKENIZE, true);
      return ct;
    } catch (GeneralSecurityException e) {
      listener.onKeyOperation(KeyOperationListener.Operation.TOKENIZE, false);
      throw new IllegalStateException("the AEAD keyset cannot encrypt", e);
    }
  }

  private byte[] sealDeterministic(byte[] plaintext) {
    try {
      byte[] ct = keys.deterministicAead.encryptDeterministically(plaintext, DETERMINISTIC_AD);
      listener.onKeyOperation(KeyOperationListener.Operation.DETERMINISTIC_TOKENIZE, true);
      return ct;
    } catch (GeneralSecurityException e) {
      listener.onKeyOperation(KeyOperationListener.Operation.DETERMINISTIC_TOKENIZE, false);
      throw new IllegalStateException("the deterministic AEAD keyset cannot encrypt", e);
    }
  }

  private byte[] open(String token, @Nullable Principal principal) {
    requireNonNull(token, "token");
    boolean ok = false;
    try {
      if (principal == null || !principal.hasRole(detokenizeRole)) {
        throw new SecurityException("the caller may not detokenize");
      }
      byte[] plain;
      if (token.startsWith(TOKEN_PREFIX)) {
        plain = keys.aead.decrypt(decode(token, TOKEN_PREFIX.length()), TOKEN_AD);
      } else if (token.startsWith(DETERMINISTIC_PREFIX)) {
        plain =
            keys.deterministicAead.decryptDeterministically(
                decode(token, DETERMINISTIC_PREFIX.length()), DETERMINISTIC_AD);
      } else if (token.startsWith(LEGACY_PREFIX)) {
        plain = openLegacy(token);
      } else {
        throw new IllegalArgumentException("not a token");
      }
      ok = true;
      return plain;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the token is not valid");
    } finally {
      listener.onKeyOperation(KeyOperationListener.Operation.DETOKENIZE, ok);
    }
  }

  private static byte[] decode(String token, int from) {
    try {
      return B64D.decode(token.substring(from));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a token");
    }
  }

  // ---- Reading the tk1 tokens of earlier versions (hand-built AES-GCM; never written any more).

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  private static final byte[] LEGACY_LABEL = "hipaa-grpc/token/v1".getBytes(StandardCharsets.UTF_8);
  private static final int LEGACY_NONCE_BYTES = 12;
  private static final int LEGACY_TAG_BITS = 128;

  /** tk1.{keyId}.{nonce | AES-GCM(HMAC-SHA256(key, label), value, AD = "tk1.{keyId}.")}. */
  private byte[] openLegacy(String token) throws GeneralSecurityException {
    TokenKeyProvider legacy = legacyKeys;
    int dot = token.indexOf('.', LEGACY_PREFIX.length());
    if (dot < 0 || !KEY_ID.matcher(token.substring(LEGACY_PREFIX.length(), dot)).matches()) {
      throw new IllegalArgumentException("not a token");
    }
    byte[] sealed = decode(token, dot + 1);
    if (sealed.length < LEGACY_NONCE_BYTES + LEGACY_TAG_BITS / 8) {
      throw new IllegalArgumentException("not a token");
    }
    SecretKey key =
        legacy == null ? null : legacy.key(token.substring(LEGACY_PREFIX.length(), dot));
    if (key == null) {
      throw new IllegalArgumentException("the token's key is not available");
    }
    byte[] encoded = checkKey(key);
    byte[] sub;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(encoded, "HmacSHA256"));
      sub = mac.doFinal(LEGACY_LABEL);
    } finally {
      Arrays.fill(encoded, (byte) 0);
    }
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(
        Cipher.DECRYPT_MODE,
        new SecretKeySpec(sub, "AES"),
        new GCMParameterSpec(LEGACY_TAG_BITS, sealed, 0, LEGACY_NONCE_BYTES));
    Arrays.fill(sub, (byte) 0);
    cipher.updateAAD(token.substring(0, dot + 1).getBytes(StandardCharsets.US_ASCII));
    return cipher.doFinal(sealed, LEGACY_NONCE_BYTES, sealed.length - LEGACY_NONCE_BYTES);
  }

  static void checkKeyId(@Nullable String keyId) {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("key id must be 1 to 32 characters of [A-Za-z0-9_-]");
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
    private final TokenKeysets keys;
    private @Nullable TokenKeyProvider legacyKeys;
    private String detokenizeRole = DEFAULT_DETOKENIZE_ROLE;
    private KeyOperationListener listener = KeyOperationListener.noop();

    private Builder(TokenKeysets keys) {
      this.keys = keys;
    }

    /** Sets the role that may reverse tokens. Default: {@value #DEFAULT_DETOKENIZE_ROLE}. */
    public Builder detokenizeRole(String role) {
      this.detokenizeRole = Checks.requireNonBlank(role, "role");
      return this;
    }

    /**
     * Lets {@link #detokenize} reverse the {@code tk1} tokens of earlier versions, made under these
     * raw 256-bit keys. They are read only: every new token is a Tink token. Default: none ({@code
     * tk1} tokens are refused as "the token's key is not available").
     */
    public Builder legacyKeys(TokenKeyProvider legacyKeys) {
      this.legacyKeys = requireNonNull(legacyKeys, "legacyKeys");
      return this;
    }

    /** Sets who is told about every key operation. Default: {@link KeyOperationListener#noop()}. */
    public Builder keyOperationListener(KeyOperationListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /** Returns the tokenizer. */
    public Tokenizer build() {
      return new Tokenizer(this);
    }
  }
}
