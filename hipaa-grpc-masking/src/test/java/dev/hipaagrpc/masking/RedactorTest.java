package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Timestamp;
import com.google.protobuf.TypeRegistry;
import dev.hipaagrpc.masking.testproto.BadKeepLast;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.Contact;
import dev.hipaagrpc.masking.testproto.FamilyNode;
import dev.hipaagrpc.masking.testproto.GetPatientRequest;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.Plain;
import dev.hipaagrpc.masking.testproto.PublicWithRoles;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RedactorTest {

  private final Redactor redactor =
      Redactor.newBuilder()
          .tokenizer(Fixtures.tokenizer())
          .typeRegistry(TypeRegistry.newBuilder().add(ClinicalNote.getDescriptor()).build())
          .build();

  @Test
  void redact_noPrincipal_masksEveryStrategy() {
    Patient masked = redactor.redact(Fixtures.patient(), null);

    assertThat(masked.getId()).isEqualTo("p-1");
    assertThat(masked.getName()).isEqualTo("[REDACTED]");
    assertThat(masked.getSsn()).isEqualTo("****6789");
    assertThat(masked.getBirthDate()).isEqualTo("1961");
    assertThat(masked.getAdmittedAt())
        .isEqualTo(
            Timestamp.newBuilder()
                .setSeconds(Instant.parse("2024-01-01T00:00:00Z").getEpochSecond())
                .build());
    assertThat(masked.getAge()).isEqualTo(90);
    assertThat(masked.getAddress().getStreet()).isEqualTo("[REDACTED]");
    assertThat(masked.getAddress().getZip()).isEqualTo("021");
    assertThat(masked.getAddress().getState()).isEqualTo("MA");
    assertThat(masked.getContacts(0).getPhone()).isEqualTo("[REDACTED]");
    assertThat(masked.getContacts(0).getEmail()).isEqualTo("[REDACTED]");
    assertThat(masked.getLabelsMap()).containsExactly(java.util.Map.entry("note", "[REDACTED]"));
    assertThat(masked.getContactByKindMap().get("home").getPhone()).isEqualTo("[REDACTED]");
    assertThat(masked.getMemberId()).isEqualTo("****7766");
    assertThat(masked.getPhoto()).isEqualTo(ByteString.EMPTY);
    assertThat(masked.getMrn()).startsWith("tk2.").doesNotContain("MRN0012345");
    assertThat(masked.getEmailHash()).startsWith("kh2.");
    assertThat(masked.getResearchId()).startsWith("td1.").doesNotContain("MRN0012345");
    assertThat(masked.getAliasesList()).containsExactly("[REDACTED]", "[REDACTED]");
    assertThat(masked.getNote()).as("debug_redact is for printing only").isEqualTo("debug only");
    assertThat(masked.getWeightKg()).isZero();
    assertThat(masked.getDeceased()).isFalse();
    assertThat(masked.getApiSecret()).as("SECRET defaults to remove").isEmpty();
    assertThat(masked.getZip()).as("restricted ZIP3 area").isEqualTo("000");
    assertThat(masked.getAgeText()).isEqualTo("90+");
    assertThat(masked.getCustomMarker()).isEqualTo("<hidden>");
    assertThat(masked.getKeep2()).isEqualTo("****ef");
  }

  @Test
  void redact_keyedHash_isDeterministicAndTokenReversible() throws Exception {
    Patient a = redactor.redact(Fixtures.patient(), null);
    Patient b = redactor.redact(Fixtures.patient(), null);

    assertThat(a.getEmailHash()).isEqualTo(b.getEmailHash());
    assertThat(a.getMrn()).isNotEqualTo(b.getMrn());
    assertThat(Fixtures.tokenizer().detokenize(a.getMrn(), Fixtures.principal("detokenize")))
        .isEqualTo("MRN0012345");
    // Deterministic tokens join across responses and still reverse.
    assertThat(a.getResearchId()).isEqualTo(b.getResearchId());
    assertThat(Fixtures.tokenizer().detokenize(a.getResearchId(), Fixtures.principal("detokenize")))
        .isEqualTo("MRN0012345");
  }

  @Test
  void redact_any_unpackedAndMaskedWhenTypeKnown() throws Exception {
    Patient masked = redactor.redact(Fixtures.patient(), null);

    ClinicalNote note = masked.getAttachment().unpack(ClinicalNote.class);
    assertThat(note.getText()).isEqualTo("[REDACTED]");
    assertThat(note.getAuthor()).isEqualTo("dr-who");
  }

  @Test
  void redact_any_removedWhenTypeUnknown() {
    Redactor noRegistry = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();

    Patient masked = noRegistry.redact(Fixtures.patient(), null);

    assertThat(masked.hasAttachment()).isFalse();
  }

  @Test
  void redact_any_keptWhenContentHasNothingSensitive() {
    Redactor withPlain =
        Redactor.newBuilder()
            .typeRegistry(TypeRegistry.newBuilder().add(Plain.getDescriptor()).build())
            .build();
    Any any = Any.pack(Plain.newBuilder().setCode("x").build());

    assertThat(withPlain.redact(any, null)).isSameAs(any);
  }

  @Test
  void redact_anyInsideAny_innerContentMasked() throws Exception {
    Redactor withAny =
        Redactor.newBuilder()
            .typeRegistry(
                TypeRegistry.newBuilder()
                    .add(ClinicalNote.getDescriptor())
                    .add(Any.getDescriptor())
                    .build())
            .build();
    Any inner = Fixtures.patient().getAttachment();
    Any outer = Any.pack(Any.pack(inner));

    Any masked = withAny.redact(outer, null);

    ClinicalNote note = masked.unpack(Any.class).unpack(Any.class).unpack(ClinicalNote.class);
    assertThat(note.getText()).isEqualTo("[REDACTED]");
    assertThat(note.getAuthor()).isEqualTo("dr-who");
  }

  @Test
  void redact_any_garbageContentRemoved() {
    Any garbage =
        Any.newBuilder()
            .setTypeUrl("type.googleapis.com/" + ClinicalNote.getDescriptor().getFullName())
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}))
            .build();

    assertThat(redactor.redact(garbage, null)).isEqualTo(Any.getDefaultInstance());
  }

  @Test
  void redact_roleListedInRevealTo_seesField() {
    Patient masked = redactor.redact(Fixtures.patient(), Fixtures.principal("clinician"));

    assertThat(masked.getName()).isEqualTo("Alice Smith");
    assertThat(masked.getSsn()).isEqualTo("****6789");
  }

  @Test
  void redact_roleNotListed_masked() {
    Patient masked = redactor.redact(Fixtures.patient(), Fixtures.principal("billing"));

    assertThat(masked.getName()).isEqualTo("[REDACTED]");
  }

  @Test
  void redact_oneofOtherCase_masked() {
    Patient p = Fixtures.patient().toBuilder().setSelfPayAccount("ACCT-55554444").build();

    Patient masked = redactor.redact(p, null);

    assertThat(masked.getInsuranceCase()).isEqualTo(Patient.InsuranceCase.SELF_PAY_ACCOUNT);
    assertThat(masked.getSelfPayAccount()).isEqualTo("****4444");
  }

  @Test
  void redact_nothingSensitive_returnsSameInstance() {
    Plain plain =
        Plain.newBuilder()
            .setCode("a")
            .addChildren(Plain.newBuilder().setCode("b"))
            .putByName("c", Plain.newBuilder().setCode("d").build())
            .build();
    GetPatientRequest request = GetPatientRequest.newBuilder().setId("p-1").build();

    assertThat(redactor.redact(plain, null)).isSameAs(plain);
    assertThat(redactor.redact(request, null)).isSameAs(request);
  }

  @Test
  void redact_nothingToMaskInSensitiveType_returnsSameInstance() {
    Patient onlyPublic = Patient.newBuilder().setId("p-1").build();

    assertThat(redactor.redact(onlyPublic, null)).isSameAs(onlyPublic);
  }

  @Test
  void redact_recursiveType_masksEveryLevel() {
    FamilyNode tree =
        FamilyNode.newBuilder()
            .setPatient(Patient.newBuilder().setName("Root"))
            .addChildren(
                FamilyNode.newBuilder()
                    .setRelation("child")
                    .setPatient(Patient.newBuilder().setName("Kid"))
                    .addChildren(
                        FamilyNode.newBuilder()
                            .setPatient(Patient.newBuilder().setSsn("987654321"))))
            .setParent(FamilyNode.newBuilder().setPatient(Patient.newBuilder().setName("Mom")))
            .build();

    FamilyNode masked = redactor.redact(tree, null);

    assertThat(masked.getPatient().getName()).isEqualTo("[REDACTED]");
    assertThat(masked.getChildren(0).getRelation()).isEqualTo("child");
    assertThat(masked.getChildren(0).getPatient().getName()).isEqualTo("[REDACTED]");
    assertThat(masked.getChildren(0).getChildren(0).getPatient().getSsn()).isEqualTo("****4321");
    assertThat(masked.getParent().getPatient().getName()).isEqualTo("[REDACTED]");
  }

  @Test
  void redact_messageDefaultSensitivity_masksUnmarkedFields() {
    ClinicalNote note =
        ClinicalNote.newBuilder().setText("pain").setAuthor("dr").setMinutes(12).build();

    ClinicalNote masked = redactor.redact(note, null);

    assertThat(masked.getText()).isEqualTo("[REDACTED]");
    assertThat(masked.getAuthor()).isEqualTo("dr");
    assertThat(masked.getMinutes()).isZero();
  }

  @Test
  void redact_unknownFieldsOfSensitiveType_dropped() throws Exception {
    Patient withUnknown =
        Patient.newBuilder()
            .setId("p-1")
            .setUnknownFields(
                com.google.protobuf.UnknownFieldSet.newBuilder()
                    .addField(
                        999,
                        com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                            .addLengthDelimited(ByteString.copyFromUtf8("future-ssn"))
                            .build())
                    .build())
            .build();

    Patient masked = redactor.redact(withUnknown, null);

    assertThat(masked.getUnknownFields().asMap()).isEmpty();
    assertThat(masked.getId()).isEqualTo("p-1");
  }

  @Test
  void redact_dynamicMessage_sameResultAsGenerated() throws Exception {
    Patient source = Fixtures.patient().toBuilder().clearMrn().build();
    DynamicMessage dynamic =
        DynamicMessage.parseFrom(Patient.getDescriptor(), source.toByteString());

    DynamicMessage masked = redactor.redact(dynamic, null);

    assertThat(masked).isInstanceOf(DynamicMessage.class);
    assertThat(Patient.parseFrom(masked.toByteString())).isEqualTo(redactor.redact(source, null));
  }

  @Test
  void redact_countsMaskedValues() {
    Masker.Counter counter = new Masker.Counter();
    Patient p =
        Patient.newBuilder()
            .setName("A")
            .setSsn("123456789")
            .addAliases("x")
            .addAliases("y")
            .setAge(40)
            .build();

    redactor.redact(p, null, counter);

    assertThat(counter.count).as("age 40 is kept, so not counted").isEqualTo(4);
  }

  @Test
  void redact_keepLastOutOfRange_failsClosed() {
    assertThatThrownBy(() -> redactor.redact(BadKeepLast.newBuilder().setV("x").build(), null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("hipaagrpc.masking.test.BadKeepLast.v")
        .hasMessageContaining("keep_last")
        .hasMessageNotContaining("x\"");
  }

  @Test
  void redact_publicWithStrategy_failsClosed() {
    assertThatThrownBy(() -> redactor.precompile(PublicWithRoles.getDescriptor()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DATA_CLASS_PUBLIC");
  }

  @Test
  void redact_tokenStrategyWithoutTokenizer_failsClosed() {
    Redactor noTokenizer = Redactor.create();

    assertThatThrownBy(() -> noTokenizer.redact(Fixtures.patient(), null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Tokenizer");
    assertThatThrownBy(() -> noTokenizer.precompile(Patient.getDescriptor()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void redact_contactRevealedParentStillMasksNested() {
    Contact contact = Contact.newBuilder().setPhone("555").build();

    assertThat(redactor.redact(contact, Fixtures.principal("clinician")).getPhone())
        .isEqualTo("[REDACTED]");
  }
}
