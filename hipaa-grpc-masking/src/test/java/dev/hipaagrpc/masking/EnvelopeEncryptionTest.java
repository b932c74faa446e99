package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.ConfigurationV0;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.protobuf.ByteString;
import dev.hipaagrpc.masking.testproto.BadEncrypted;
import dev.hipaagrpc.masking.testproto.StoredNote;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvelopeEncryptionTest {

  private static final String CANARY_SSN = "987-65-4321";
  private static final String CANARY_NOTE = "CANARY note: chest pain";
  private static final byte[] AD = "acme.Patient.ssn".getBytes(StandardCharsets.UTF_8);

  /** A KMS in memory: a real AES-256-GCM key-encryption key, counting every call. */
  static final class FakeKms implements KmsKeyWrapper {
    final AtomicInteger wraps = new AtomicInteger();
    final AtomicInteger unwraps = new AtomicInteger();
    final AtomicBoolean down = new AtomicBoolean();
    private final Aead kek;

    FakeKms() throws GeneralSecurityException {
      TinkRegistration.ensure();
      kek =
          KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM)
              .getPrimitive(ConfigurationV0.get(), Aead.class);
    }

    @Override
    public byte[] wrap(byte[] dataKey, byte[] associatedData) throws GeneralSecurityException {
      if (down.get()) {
        throw new GeneralSecurityException("kms unavailable");
      }
      wraps.incrementAndGet();
      return kek.encrypt(dataKey, associatedData);
    }

    @Override
    public byte[] unwrap(byte[] wrappedKey, byte[] associatedData) throws GeneralSecurityException {
      if (down.get()) {
        throw new GeneralSecurityException("kms unavailable");
      }
      unwraps.incrementAndGet();
      return kek.decrypt(wrappedKey, associatedData);
    }
  }

  /** Counts key operations by kind and outcome, as an audit or metrics adapter would. */
  static final class Counting implements KeyOperationListener {
    final Map<Operation, Integer> ok = new EnumMap<>(Operation.class);
    final Map<Operation, Integer> failed = new EnumMap<>(Operation.class);

    @Override
    public synchronized void onKeyOperation(Operation operation, boolean succeeded) {
      (succeeded ? ok : failed).merge(operation, 1, Integer::sum);
    }
  }

  @Test
  void roundTrip_oneWrapPerEncryptOneUnwrapPerDecrypt_everyOperationCounted() throws Exception {
    FakeKms kms = new FakeKms();
    Counting counting = new Counting();
    EnvelopeEncryption envelope = EnvelopeEncryption.create(kms, counting);

    byte[] a = envelope.encrypt(CANARY_SSN.getBytes(StandardCharsets.UTF_8), AD);
    byte[] b = envelope.encrypt(CANARY_SSN.getBytes(StandardCharsets.UTF_8), AD);

    assertThat(a).isNotEqualTo(b);
    assertThat(new String(a, StandardCharsets.ISO_8859_1)).doesNotContain(CANARY_SSN);
    assertThat(new String(envelope.decrypt(a, AD), StandardCharsets.UTF_8)).isEqualTo(CANARY_SSN);
    assertThat(kms.wraps).hasValue(2);
    assertThat(kms.unwraps).hasValue(1);
    assertThat(counting.ok)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                KeyOperationListener.Operation.WRAP_KEY, 2,
                KeyOperationListener.Operation.UNWRAP_KEY, 1));
  }

  @Test
  void otherAssociatedDataOrAlteredCiphertext_refused() throws Exception {
    EnvelopeEncryption envelope = EnvelopeEncryption.create(new FakeKms());
    byte[] ct = envelope.encrypt(CANARY_SSN.getBytes(StandardCharsets.UTF_8), AD);
    byte[] altered = ct.clone();
    altered[altered.length - 1] ^= 1;

    assertThatThrownBy(
            () -> envelope.decrypt(ct, "acme.Patient.name".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(GeneralSecurityException.class);
    assertThatThrownBy(() -> envelope.decrypt(altered, AD))
        .isInstanceOf(GeneralSecurityException.class);
  }

  @Test
  void kmsDown_failsAndIsCountedAsFailed() throws Exception {
    FakeKms kms = new FakeKms();
    Counting counting = new Counting();
    EnvelopeEncryption envelope = EnvelopeEncryption.create(kms, counting);
    kms.down.set(true);

    assertThatThrownBy(() -> envelope.encrypt(new byte[] {1}, AD))
        .isInstanceOf(GeneralSecurityException.class);
    assertThat(counting.failed).containsEntry(KeyOperationListener.Operation.WRAP_KEY, 1);
  }

  @Test
  void tokenKeysets_storedEncryptedUnderTheKms_loadBack() throws Exception {
    FakeKms kms = new FakeKms();
    EnvelopeEncryption envelope = EnvelopeEncryption.create(kms);
    TokenKeysets keys = TokenKeysets.generate();
    byte[] ad = "hipaa-grpc/token-keysets/tenant-a".getBytes(StandardCharsets.UTF_8);
    Aead kek = envelope.keysetEncryptionAead();

    TokenKeysets loaded =
        TokenKeysets.fromEncryptedJson(
            TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(keys.aeadKeyset(), kek, ad),
            TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(
                keys.deterministicAeadKeyset(), kek, ad),
            TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(keys.macKeyset(), kek, ad),
            kek,
            ad);

    assertThat(Tokenizer.create(loaded).deterministicToken("MRN-1"))
        .isEqualTo(Tokenizer.create(keys).deterministicToken("MRN-1"));
    assertThat(kms.wraps).hasValue(3);
    assertThat(kms.unwraps).hasValue(3);
  }

  @Test
  void localFileMasterKey_createdOwnerOnly_reusedByTheNextStart(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("dev-master-key.json");

    EnvelopeEncryption first =
        EnvelopeEncryption.create(
            EnvelopeEncryption.insecureLocalFileMasterKeyForDevelopmentOnly(file));
    byte[] ct = first.encrypt(CANARY_SSN.getBytes(StandardCharsets.UTF_8), AD);
    EnvelopeEncryption second =
        EnvelopeEncryption.create(
            EnvelopeEncryption.insecureLocalFileMasterKeyForDevelopmentOnly(file));

    assertThat(new String(second.decrypt(ct, AD), StandardCharsets.UTF_8)).isEqualTo(CANARY_SSN);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    Path garbage = dir.resolve("garbage.json");
    Files.writeString(garbage, "{\"not\": \"a keyset\"}");
    assertThatThrownBy(
            () -> EnvelopeEncryption.insecureLocalFileMasterKeyForDevelopmentOnly(garbage))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static StoredNote note() {
    return StoredNote.newBuilder()
        .setPatientId("p-1")
        .setSsn(CANARY_SSN)
        .setClinicalNote(CANARY_NOTE)
        .setScan(ByteString.copyFromUtf8("SCANDATA"))
        .addAddenda(StoredNote.newBuilder().setClinicalNote(CANARY_NOTE + " addendum"))
        .putByAuthor("dr-a", StoredNote.newBuilder().setSsn(CANARY_SSN).build())
        .build();
  }

  @Test
  void fieldEncryptor_encryptsMarkedFieldsAtAnyDepth_decryptsForRevealToOrDecryptRole()
      throws Exception {
    FakeKms kms = new FakeKms();
    Counting counting = new Counting();
    FieldEncryptor fields =
        FieldEncryptor.newBuilder(EnvelopeEncryption.create(kms, counting))
            .keyOperationListener(counting)
            .build();

    StoredNote stored = fields.encrypt(note());

    assertThat(stored.getPatientId()).isEqualTo("p-1");
    assertThat(stored.getSsn()).startsWith("fe1.");
    assertThat(stored.getAddenda(0).getClinicalNote()).startsWith("fe1.");
    assertThat(stored.getByAuthorMap().get("dr-a").getSsn()).startsWith("fe1.");
    assertThat(stored.getScan().toStringUtf8()).doesNotContain("SCANDATA");
    assertThat(new String(stored.toByteArray(), StandardCharsets.ISO_8859_1))
        .doesNotContain(CANARY_SSN)
        .doesNotContain("CANARY");
    assertThat(kms.wraps).hasValue(5);
    assertThat(counting.ok).containsEntry(KeyOperationListener.Operation.ENCRYPT_FIELD, 5);

    StoredNote billing = fields.decrypt(stored, Fixtures.principal("billing"));
    assertThat(billing.getSsn()).as("reveal_to billing").isEqualTo(CANARY_SSN);
    assertThat(billing.getClinicalNote()).as("not for billing").startsWith("fe1.");
    StoredNote all = fields.decrypt(stored, Fixtures.principal("detokenize"));
    assertThat(all).isEqualTo(note());
    StoredNote none = fields.decrypt(stored, null);
    assertThat(none).isEqualTo(stored);
  }

  @Test
  void fieldEncryptor_ciphertextMovedToAnotherField_refusedNamingTheField() throws Exception {
    FieldEncryptor fields = FieldEncryptor.create(EnvelopeEncryption.create(new FakeKms()));
    StoredNote stored = fields.encrypt(note());
    StoredNote moved = stored.toBuilder().setClinicalNote(stored.getSsn()).build();

    assertThatThrownBy(() -> fields.decrypt(moved, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hipaagrpc.masking.test.StoredNote.clinical_note")
        .hasMessageNotContaining(CANARY_SSN)
        .hasMessageNotContaining(stored.getSsn());
    StoredNote plain = stored.toBuilder().setSsn(CANARY_SSN).build();
    assertThatThrownBy(() -> fields.decrypt(plain, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining(CANARY_SSN);
  }

  @Test
  void fieldEncryptor_markOnNonTextField_refused() throws Exception {
    FieldEncryptor fields = FieldEncryptor.create(EnvelopeEncryption.create(new FakeKms()));

    assertThatThrownBy(() -> fields.encrypt(BadEncrypted.newBuilder().setV(3).build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("hipaagrpc.masking.test.BadEncrypted.v");
  }
}
