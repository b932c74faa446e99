package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.ConfigurationV0;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.KmsEnvelopeAead;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AES-256 envelope encryption with keys held in a KMS (45 CFR 164.312(a)(2)(iv)): every {@link
 * #encrypt} makes a fresh AES-256-GCM data key, encrypts with it, and stores the data key wrapped
 * by the KMS's key-encryption key next to the ciphertext; {@link #decrypt} has the KMS unwrap it.
 * Tink's {@code KmsEnvelopeAead} does the construction; the KMS is reached only through the small
 * {@link KmsKeyWrapper} SPI.
 *
 * <p>Each {@code encrypt} and {@code decrypt} is one KMS call. Every wrap and unwrap is reported to
 * the {@link KeyOperationListener} ({@link KeyOperationListener.Operation#WRAP_KEY}, {@link
 * KeyOperationListener.Operation#UNWRAP_KEY}), successful or not. {@link #keysetEncryptionAead()}
 * is the same KMS seen as a Tink {@code Aead}, to store {@link TokenKeysets} encrypted.
 *
 * <p>Thread-safe if the wrapper is. Errors name no key and no plaintext.
 */
public final class EnvelopeEncryption {

  private static final Logger log = LoggerFactory.getLogger(EnvelopeEncryption.class);

  static {
    TinkRegistration.ensure();
  }

  private final Aead remote;
  private final Aead envelope;

  private EnvelopeEncryption(KmsKeyWrapper kms, KeyOperationListener listener) {
    this.remote = new CountingRemoteAead(kms, listener);
    try {
      this.envelope = KmsEnvelopeAead.create(PredefinedAeadParameters.AES256_GCM, remote);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Tink cannot build an AES-256-GCM envelope on this JVM", e);
    }
  }

  /** Returns envelope encryption over {@code kms}, reporting to no listener. */
  public static EnvelopeEncryption create(KmsKeyWrapper kms) {
    return create(kms, KeyOperationListener.noop());
  }

  /** Returns envelope encryption over {@code kms}, reporting every key operation to listener. */
  public static EnvelopeEncryption create(KmsKeyWrapper kms, KeyOperationListener listener) {
    return new EnvelopeEncryption(requireNonNull(kms, "kms"), requireNonNull(listener, "listener"));
  }

  /**
   * Encrypts {@code plaintext} under a fresh data key, authenticating {@code associatedData}.
   *
   * @throws GeneralSecurityException if the KMS refuses or fails
   */
  public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
    return envelope.encrypt(
        requireNonNull(plaintext, "plaintext"), requireNonNull(associatedData, "associatedData"));
  }

  /**
   * Decrypts what {@link #encrypt} made with the same associated data.
   *
   * @throws GeneralSecurityException if the ciphertext or its associated data was altered, or the
   *     KMS refuses or fails
   */
  public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
    return envelope.decrypt(
        requireNonNull(ciphertext, "ciphertext"), requireNonNull(associatedData, "associatedData"));
  }

  /** The KMS as a Tink {@code Aead} (each call a wrap or unwrap), to encrypt Tink keysets. */
  public Aead keysetEncryptionAead() {
    return remote;
  }

  @Override
  public String toString() {
    return "EnvelopeEncryption{AES256_GCM}";
  }

  /**
   * DANGEROUS: a master key in a local file, for development and tests only. The key-encryption key
   * sits next to the data it protects, readable by anyone who can read the file, so it protects
   * nothing against someone with access to the machine; production keys belong in a KMS or HSM.
   *
   * <p>Reads the Tink JSON AES-256-GCM keyset in {@code file}, or creates it (owner read/write only
   * where the file system supports POSIX permissions) when it does not exist. Logs a warning every
   * time it is used.
   *
   * @throws IOException if the file cannot be read or created
   * @throws IllegalArgumentException if the file does not hold an AES-256-GCM keyset
   */
  public static KmsKeyWrapper insecureLocalFileMasterKeyForDevelopmentOnly(Path file)
      throws IOException {
    requireNonNull(file, "file");
    log.warn(
        "DANGEROUS: envelope encryption uses a development-only master key from a local file;"
            + " never use it for real PHI");
    KeysetHandle handle;
    try {
      if (!Files.exists(file)) {
        handle = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
        String json =
            TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
        create(file, json);
      }
      handle =
          TinkJsonProtoKeysetFormat.parseKeyset(
              Files.readString(file, StandardCharsets.UTF_8), InsecureSecretKeyAccess.get());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the file does not hold a usable Tink AEAD keyset");
    }
    Aead master;
    try {
      TokenKeysets.checkAes256Gcm(handle);
      master = handle.getPrimitive(ConfigurationV0.get(), Aead.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the file does not hold a usable Tink AEAD keyset");
    }
    return new KmsKeyWrapper() {
      @Override
      public byte[] wrap(byte[] dataKey, byte[] associatedData) throws GeneralSecurityException {
        return master.encrypt(dataKey, associatedData);
      }

      @Override
      public byte[] unwrap(byte[] wrappedKey, byte[] associatedData)
          throws GeneralSecurityException {
        return master.decrypt(wrappedKey, associatedData);
      }

      @Override
      public String toString() {
        return "KmsKeyWrapper{INSECURE local file, development only}";
      }
    };
  }

  private static void create(Path file, String json) throws IOException {
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    } catch (FileAlreadyExistsException e) {
      return; // another process made it first: read theirs
    }
    Files.writeString(file, json, StandardCharsets.UTF_8);
  }

  /** The KMS as Tink's remote Aead, each call counted. */
  private static final class CountingRemoteAead implements Aead {
    private final KmsKeyWrapper kms;
    private final KeyOperationListener listener;

    CountingRemoteAead(KmsKeyWrapper kms, KeyOperationListener listener) {
      this.kms = kms;
      this.listener = listener;
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
      boolean ok = false;
      try {
        byte[] wrapped = kms.wrap(plaintext, associatedData);
        ok = true;
        return wrapped;
      } finally {
        listener.onKeyOperation(KeyOperationListener.Operation.WRAP_KEY, ok);
      }
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData)
        throws GeneralSecurityException {
      boolean ok = false;
      try {
        byte[] key = kms.unwrap(ciphertext, associatedData);
        ok = true;
        return key;
      } finally {
        listener.onKeyOperation(KeyOperationListener.Operation.UNWRAP_KEY, ok);
      }
    }
  }
}
