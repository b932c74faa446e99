package dev.hipaagrpc.masking;

/**
 * Told about every key operation of this module (tokenizing, detokenizing, keyed hashing, wrapping
 * and unwrapping data keys, encrypting and decrypting fields), so that each can be counted and,
 * where an audit module is present, recorded ("log every key operation") without the masking module
 * depending on it.
 *
 * <p>It is told only the kind of operation and whether it succeeded: never a value, a token, a key
 * or a key id. It runs on the caller's thread, inside the operation; keep it fast and never throw
 * (an exception it throws is propagated to the operation's caller). Implementations must be
 * thread-safe.
 */
@FunctionalInterface
public interface KeyOperationListener {

  /** The kinds of key operation. */
  enum Operation {
    /** {@link Tokenizer#keyedHash}: an irreversible HMAC token. */
    KEYED_HASH,
    /** {@link Tokenizer#tokenize}: a randomized reversible AES-GCM token. */
    TOKENIZE,
    /** {@link Tokenizer#deterministicToken}: a deterministic reversible AES-SIV token. */
    DETERMINISTIC_TOKENIZE,
    /** {@link Tokenizer#detokenize}: a token reversed (or refused). */
    DETOKENIZE,
    /** A data key wrapped by the key-encryption key in the KMS ({@link KmsKeyWrapper#wrap}). */
    WRAP_KEY,
    /** A data key unwrapped by the KMS ({@link KmsKeyWrapper#unwrap}). */
    UNWRAP_KEY,
    /** A field value encrypted at rest ({@link FieldEncryptor#encrypt}). */
    ENCRYPT_FIELD,
    /** A field value decrypted ({@link FieldEncryptor#decrypt}), or refused. */
    DECRYPT_FIELD
  }

  /**
   * Called once per operation, after it finished.
   *
   * @param operation what was done
   * @param succeeded false when it was refused (no role, tampered or foreign ciphertext, KMS
   *     failure)
   */
  void onKeyOperation(Operation operation, boolean succeeded);

  /** A listener that does nothing: the default. */
  static KeyOperationListener noop() {
    return (operation, succeeded) -> {};
  }
}
