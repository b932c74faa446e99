package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.SecretKey;
import org.jspecify.annotations.Nullable;

/**
 * Supplies the raw 256-bit keys of the {@code tk1.<keyId>.} tokens that earlier versions of {@link
 * Tokenizer} made, by key id, so those tokens stay readable ({@link Tokenizer.Builder#legacyKeys}).
 * New tokens are always Tink tokens under {@link TokenKeysets}; these keys are only read, and
 * {@link #currentKeyId()} is no longer used to make anything (keep returning any id you hold).
 *
 * <p>{@link #of} serves fixed keys. Key ids must be 1 to 32 characters of {@code [A-Za-z0-9_-]}.
 * The {@link Tokenizer} never prints or logs key material.
 *
 * <p>Implementations must be thread-safe.
 */
public interface TokenKeyProvider {

  /** The id of the key new tokens are made with. */
  String currentKeyId();

  /**
   * Returns the key with this id, or {@code null} when the provider does not have it (a token made
   * under it can then not be reversed). The key's encoded form must be 32 bytes.
   */
  @Nullable SecretKey key(String keyId);

  /**
   * Returns a provider over fixed keys.
   *
   * @param currentKeyId the id of the key new tokens are made with; must be in {@code keys}
   * @param keys keys by id, each of 32 bytes; copied
   * @throws IllegalArgumentException if the current id is missing, an id is malformed, or a key is
   *     not 32 bytes
   */
  static TokenKeyProvider of(String currentKeyId, Map<String, SecretKey> keys) {
    requireNonNull(currentKeyId, "currentKeyId");
    requireNonNull(keys, "keys");
    Map<String, SecretKey> copy = new LinkedHashMap<>();
    for (Map.Entry<String, SecretKey> e : keys.entrySet()) {
      Tokenizer.checkKeyId(e.getKey());
      Tokenizer.checkKey(requireNonNull(e.getValue(), "key"));
      copy.put(e.getKey(), e.getValue());
    }
    if (!copy.containsKey(currentKeyId)) {
      throw new IllegalArgumentException("currentKeyId is not among the keys");
    }
    Map<String, SecretKey> fixed = Map.copyOf(copy);
    return new TokenKeyProvider() {
      @Override
      public String currentKeyId() {
        return currentKeyId;
      }

      @Override
      public @Nullable SecretKey key(String keyId) {
        return fixed.get(keyId);
      }

      @Override
      public String toString() {
        return "TokenKeyProvider{currentKeyId=" + currentKeyId + ", keys=" + fixed.size() + "}";
      }
    };
  }
}
