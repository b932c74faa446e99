package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.ConfigurationV0;
import com.google.crypto.tink.DeterministicAead;
import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.Parameters;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.daead.AesSivParameters;
import com.google.crypto.tink.daead.PredefinedDeterministicAeadParameters;
import com.google.crypto.tink.mac.HmacParameters;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import java.security.GeneralSecurityException;
import java.util.function.Predicate;

/**
 * The three Tink keysets behind a {@link Tokenizer}: AES-256-GCM for randomized reversible tokens,
 * AES-256-SIV for deterministic reversible tokens, HMAC-SHA256 (256-bit tags) for irreversible
 * keyed hashes.
 *
 * <p>Each keyset has one primary key and any number of older enabled keys: the primary makes new
 * tokens, every enabled key still reverses (or, for keyed hashes, verifies) what it made. Rotate by
 * adding a new primary and keeping the old keys until every token under them is gone ({@link
 * #withNewPrimary()} does this for all three; with Tink's own {@code KeysetHandle.newBuilder(..)}
 * you can do it per keyset). Tink ciphertexts carry the 5-byte id of their key, so no key id of
 * ours travels in a token.
 *
 * <p>Load keysets from your KMS: store them encrypted with {@code
 * TinkJsonProtoKeysetFormat.serializeEncryptedKeyset} under a key-encryption key ({@link
 * EnvelopeEncryption#keysetEncryptionAead()}) and parse them with {@link #fromEncryptedJson}.
 * {@link #generate()} makes fresh keysets, for tests or a first start.
 *
 * <p>For several tenants use one {@code TokenKeysets} (and one {@link Tokenizer}) per tenant: the
 * same value gives unrelated tokens under each, and one tenant's tokenizer cannot reverse another's
 * tokens.
 *
 * <p>Immutable and thread-safe. {@link #toString()} prints no key material.
 */
public final class TokenKeysets {

  static {
    // Key generation and keyset parsing go through Tink's registry; registering is idempotent.
    TinkRegistration.ensure();
  }

  private final KeysetHandle aeadKeys;
  private final KeysetHandle deterministicKeys;
  private final KeysetHandle macKeys;
  final Aead aead;
  final DeterministicAead deterministicAead;
  final Mac mac;

  private TokenKeysets(KeysetHandle aeadKeys, KeysetHandle deterministicKeys, KeysetHandle macKeys)
      throws GeneralSecurityException {
    check(aeadKeys, "AES-256-GCM", TokenKeysets::isAes256Gcm);
    check(deterministicKeys, "AES-256-SIV", TokenKeysets::isAes256Siv);
    check(macKeys, "HMAC-SHA256 with a 256-bit key and 256-bit tag", TokenKeysets::isHmacSha256);
    this.aeadKeys = aeadKeys;
    this.deterministicKeys = deterministicKeys;
    this.macKeys = macKeys;
    this.aead = aeadKeys.getPrimitive(ConfigurationV0.get(), Aead.class);
    this.deterministicAead =
        deterministicKeys.getPrimitive(ConfigurationV0.get(), DeterministicAead.class);
    this.mac = macKeys.getPrimitive(ConfigurationV0.get(), Mac.class);
  }

  /**
   * Returns keysets over these Tink keyset handles.
   *
   * @param aead AES-256-GCM keys (randomized tokens)
   * @param deterministicAead AES-256-SIV keys (deterministic tokens)
   * @param mac HMAC-SHA256 keys, 32-byte key and tag (keyed hashes)
   * @throws IllegalArgumentException if a keyset holds a key of another kind or size (the message
   *     names the keyset, never key material)
   */
  public static TokenKeysets of(
      KeysetHandle aead, KeysetHandle deterministicAead, KeysetHandle mac) {
    requireNonNull(aead, "aead");
    requireNonNull(deterministicAead, "deterministicAead");
    requireNonNull(mac, "mac");
    try {
      return new TokenKeysets(aead, deterministicAead, mac);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the keysets cannot be used: " + e.getClass().getName());
    }
  }

  /** Returns three fresh keysets of one key each. */
  public static TokenKeysets generate() {
    try {
      return new TokenKeysets(
          KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM),
          KeysetHandle.generateNew(PredefinedDeterministicAeadParameters.AES256_SIV),
          KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Tink cannot generate keys on this JVM", e);
    }
  }

  /**
   * Returns keysets parsed from Tink's JSON keyset format, each encrypted with {@code
   * keysetEncryption} (the key-encryption key in your KMS) and bound to {@code associatedData}.
   *
   * @throws IllegalArgumentException if a keyset does not decrypt or holds the wrong kind of key
   */
  public static TokenKeysets fromEncryptedJson(
      String aeadJson,
      String deterministicAeadJson,
      String macJson,
      Aead keysetEncryption,
      byte[] associatedData) {
    requireNonNull(keysetEncryption, "keysetEncryption");
    requireNonNull(associatedData, "associatedData");
    try {
      return of(
          TinkJsonProtoKeysetFormat.parseEncryptedKeyset(
              requireNonNull(aeadJson, "aeadJson"), keysetEncryption, associatedData),
          TinkJsonProtoKeysetFormat.parseEncryptedKeyset(
              requireNonNull(deterministicAeadJson, "deterministicAeadJson"),
              keysetEncryption,
              associatedData),
          TinkJsonProtoKeysetFormat.parseEncryptedKeyset(
              requireNonNull(macJson, "macJson"), keysetEncryption, associatedData));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("a keyset cannot be decrypted or parsed");
    }
  }

  /**
   * Returns these keysets with a new primary key added to each; the old keys stay enabled, so
   * tokens made under them are still reversed. Keyed hashes change with the new primary (re-hash
   * stored ones if you join on them).
   */
  public TokenKeysets withNewPrimary() {
    try {
      return new TokenKeysets(
          rotate(aeadKeys, PredefinedAeadParameters.AES256_GCM),
          rotate(deterministicKeys, PredefinedDeterministicAeadParameters.AES256_SIV),
          rotate(macKeys, PredefinedMacParameters.HMAC_SHA256_256BITTAG));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Tink cannot generate keys on this JVM", e);
    }
  }

  /** The AES-256-GCM keyset (for storing it encrypted, or rotating it with Tink). */
  public KeysetHandle aeadKeyset() {
    return aeadKeys;
  }

  /** The AES-256-SIV keyset. */
  public KeysetHandle deterministicAeadKeyset() {
    return deterministicKeys;
  }

  /** The HMAC-SHA256 keyset. */
  public KeysetHandle macKeyset() {
    return macKeys;
  }

  private static KeysetHandle rotate(KeysetHandle handle, Parameters parameters)
      throws GeneralSecurityException {
    return KeysetHandle.newBuilder(handle)
        .addEntry(KeysetHandle.generateEntryFromParameters(parameters).withRandomId().makePrimary())
        .build();
  }

  /** Refuses a keyset holding anything but AES-256-GCM keys with Tink's key-id prefix. */
  static void checkAes256Gcm(KeysetHandle handle) {
    check(handle, "AES-256-GCM", TokenKeysets::isAes256Gcm);
  }

  private static void check(KeysetHandle handle, String kind, Predicate<Parameters> allowed) {
    for (int i = 0; i < handle.size(); i++) {
      KeysetHandle.Entry entry = handle.getAt(i);
      if (entry.getStatus() != KeyStatus.DESTROYED
          && !allowed.test(entry.getKey().getParameters())) {
        throw new IllegalArgumentException("every key of this keyset must be " + kind);
      }
    }
  }

  private static boolean isAes256Gcm(Parameters p) {
    return p instanceof AesGcmParameters g
        && g.getKeySizeBytes() == 32
        && g.getTagSizeBytes() == 16
        && g.hasIdRequirement();
  }

  private static boolean isAes256Siv(Parameters p) {
    return p instanceof AesSivParameters s && s.getKeySizeBytes() == 64 && s.hasIdRequirement();
  }

  private static boolean isHmacSha256(Parameters p) {
    return p instanceof HmacParameters h
        && h.getKeySizeBytes() == 32
        && h.getCryptographicTagSizeBytes() == 32
        && h.getHashType() == HmacParameters.HashType.SHA256
        && h.hasIdRequirement();
  }

  @Override
  public String toString() {
    return "TokenKeysets{aeadKeys="
        + aeadKeys.size()
        + ", deterministicAeadKeys="
        + deterministicKeys.size()
        + ", macKeys="
        + macKeys.size()
        + "}";
  }
}
