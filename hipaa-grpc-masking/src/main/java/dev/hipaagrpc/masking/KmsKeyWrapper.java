package dev.hipaagrpc.masking;

import java.security.GeneralSecurityException;

/**
 * The key-management service seen by {@link EnvelopeEncryption}: it wraps (encrypts) and unwraps a
 * data key under a key-encryption key that never leaves the KMS. One call each; no other operation
 * is needed.
 *
 * <p>Adapters for AWS KMS ({@code Encrypt}/{@code Decrypt} with {@code EncryptionContext}), Google
 * Cloud KMS ({@code encrypt}/{@code decrypt} with {@code additionalAuthenticatedData}) and
 * HashiCorp Vault transit ({@code transit/encrypt}/{@code transit/decrypt} with {@code context})
 * are a few lines each over the vendor's client and are shown in the masking module's
 * documentation; this module depends on none of those clients. For development only, {@link
 * EnvelopeEncryption#insecureLocalFileMasterKeyForDevelopmentOnly} keeps the master key in a local
 * file.
 *
 * <p>Implementations must be thread-safe, must authenticate {@code associatedData} (a different
 * value must make {@link #unwrap} fail), and must never log or print a data key. Throw {@link
 * GeneralSecurityException} for a refusal or an outage, with a message that holds no key material.
 */
public interface KmsKeyWrapper {

  /** Returns {@code dataKey} encrypted under the key-encryption key, bound to the data. */
  byte[] wrap(byte[] dataKey, byte[] associatedData) throws GeneralSecurityException;

  /** Returns the data key of {@code wrappedKey}, or throws if it is not authentic. */
  byte[] unwrap(byte[] wrappedKey, byte[] associatedData) throws GeneralSecurityException;
}
