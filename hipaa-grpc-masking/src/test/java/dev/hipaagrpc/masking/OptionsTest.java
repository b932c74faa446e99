package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.hospital.records.OtherRecords.Encounter;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.UnknownFieldSet;
import dev.hipaagrpc.masking.proto.DataClass;
import dev.hipaagrpc.masking.proto.Identifier;
import dev.hipaagrpc.masking.proto.Sensitivity;
import dev.hipaagrpc.masking.proto.SensitivityProto;
import dev.hipaagrpc.masking.testproto.MisconfiguredServiceGrpc;
import dev.hipaagrpc.masking.testproto.PatientServiceGrpc;
import dev.hipaagrpc.masking.testproto.UnreviewedServiceGrpc;
import dev.hipaagrpc.masking.testproto.VitalsServiceGrpc;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Identifier defaults, options in any form or package, fail-closed compilation, strict mode. */
class OptionsTest {

  private static final String SENSITIVITY_FILE = "hipaagrpc/masking/sensitivity.proto";

  /** Input and expected masked output per identifier kind (string fields). */
  private static final Map<Identifier, String[]> DEFAULTS = new EnumMap<>(Identifier.class);

  static {
    DEFAULTS.put(Identifier.IDENTIFIER_NAME, new String[] {"Jane Roe", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_GEOGRAPHIC, new String[] {"10001", "100"});
    DEFAULTS.put(Identifier.IDENTIFIER_DATE, new String[] {"02/03/2001", "2001"});
    DEFAULTS.put(Identifier.IDENTIFIER_PHONE, new String[] {"+1 555 0100", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_FAX, new String[] {"+1 555 0101", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_EMAIL, new String[] {"j@example.org", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_SSN, new String[] {"123-45-6789", "****6789"});
    DEFAULTS.put(
        Identifier.IDENTIFIER_MEDICAL_RECORD_NUMBER, new String[] {"MRN-12345", "****2345"});
    DEFAULTS.put(
        Identifier.IDENTIFIER_HEALTH_PLAN_BENEFICIARY_NUMBER,
        new String[] {"HP-777888", "****7888"});
    DEFAULTS.put(Identifier.IDENTIFIER_ACCOUNT_NUMBER, new String[] {"ACC-4444333", "****4333"});
    DEFAULTS.put(
        Identifier.IDENTIFIER_CERTIFICATE_LICENSE_NUMBER, new String[] {"LIC-1", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_VEHICLE, new String[] {"1HGCM82633A", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_DEVICE, new String[] {"PACER-SN-9", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_URL, new String[] {"https://x.example/j", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_IP_ADDRESS, new String[] {"10.1.2.3", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_BIOMETRIC, new String[] {"fingerprint", ""});
    DEFAULTS.put(Identifier.IDENTIFIER_PHOTO, new String[] {"face.jpg", ""});
    DEFAULTS.put(Identifier.IDENTIFIER_OTHER, new String[] {"badge-7", "[REDACTED]"});
    DEFAULTS.put(Identifier.IDENTIFIER_AGE, new String[] {"104", "90+"});
  }

  @Test
  void identifierDefaults_coverEveryIdentifierKind() {
    for (Identifier id : Identifier.values()) {
      if (id != Identifier.IDENTIFIER_UNSPECIFIED && id != Identifier.UNRECOGNIZED) {
        assertThat(DEFAULTS).containsKey(id);
      }
    }
  }

  @Test
  void redact_identifierKindAlone_appliesItsDefaultStrategy() throws Exception {
    Descriptor type = buildDefaultsType(false);
    DynamicMessage message = fillDefaults(type);

    DynamicMessage masked = Redactor.create().redact(message, null);

    assertDefaults(type, masked);
  }

  @Test
  void redact_optionsOnlyAsUnknownFields_reparsed() throws Exception {
    Descriptor type = buildDefaultsType(true);
    FieldDescriptor ssn = type.findFieldByName("f_identifier_ssn");
    assertThat(ssn.getOptions().hasExtension(SensitivityProto.sensitivity)).isFalse();
    assertThat(ssn.getOptions().getUnknownFields().hasField(51000)).isTrue();

    DynamicMessage masked = Redactor.create().redact(fillDefaults(type), null);

    assertDefaults(type, masked);
  }

  @Test
  void redact_generatedInAnotherJavaPackage_masks() {
    Encounter e =
        Encounter.newBuilder()
            .setEncounterId("e-1")
            .setPatientName("Bob")
            .setSsn("111223333")
            .build();

    Encounter masked = Redactor.create().redact(e, null);

    assertThat(masked.getEncounterId()).isEqualTo("e-1");
    assertThat(masked.getPatientName()).isEqualTo("[REDACTED]");
    assertThat(masked.getSsn()).isEqualTo("****3333");
  }

  @Test
  void redact_optionsFromAnotherCopyOfTheExtension_masks() throws Exception {
    // A user who generated sensitivity.proto into their own java_package has their own extension
    // object for number 51000: ours sees it as a foreign extension, not as "ours".
    FileDescriptorProto copyProto =
        SensitivityProto.getDescriptor().toProto().toBuilder()
            .setOptions(
                DescriptorProtos.FileOptions.newBuilder().setJavaPackage("org.hospital.gen"))
            .build();
    FileDescriptor copy =
        FileDescriptor.buildFrom(
            copyProto, new FileDescriptor[] {DescriptorProtos.getDescriptor()});
    FieldDescriptor copyExtension = copy.findExtensionByName("sensitivity");
    ExtensionRegistry foreign = ExtensionRegistry.newInstance();
    foreign.add(copyExtension, DynamicMessage.getDefaultInstance(copyExtension.getMessageType()));
    FileDescriptorProto userProto =
        FileDescriptorProto.parseFrom(
            Encounter.getDescriptor().getFile().toProto().toByteString(), foreign);
    FileDescriptor user = FileDescriptor.buildFrom(userProto, new FileDescriptor[] {copy});
    assertThat(userProto.getMessageType(0).getField(2).getOptions().getAllFields())
        .containsKey(copyExtension);
    Descriptor type = user.findMessageTypeByName("Encounter");
    FieldDescriptor ssn = type.findFieldByName("ssn");

    DynamicMessage message =
        DynamicMessage.newBuilder(type)
            .setField(ssn, "999887777")
            .setField(type.findFieldByName("patient_name"), "Eve")
            .build();
    DynamicMessage masked = Redactor.create().redact(message, null);

    assertThat(masked.getField(ssn)).isEqualTo("****7777");
    assertThat(masked.getField(type.findFieldByName("patient_name"))).isEqualTo("[REDACTED]");
  }

  @Test
  void redact_everyScalarKind_maskedByType() throws Exception {
    FieldDescriptorProto.Type[] kinds = {
      FieldDescriptorProto.Type.TYPE_DOUBLE, FieldDescriptorProto.Type.TYPE_FLOAT,
      FieldDescriptorProto.Type.TYPE_INT64, FieldDescriptorProto.Type.TYPE_UINT64,
      FieldDescriptorProto.Type.TYPE_INT32, FieldDescriptorProto.Type.TYPE_FIXED64,
      FieldDescriptorProto.Type.TYPE_FIXED32, FieldDescriptorProto.Type.TYPE_BOOL,
      FieldDescriptorProto.Type.TYPE_STRING, FieldDescriptorProto.Type.TYPE_BYTES,
      FieldDescriptorProto.Type.TYPE_UINT32, FieldDescriptorProto.Type.TYPE_SFIXED32,
      FieldDescriptorProto.Type.TYPE_SFIXED64, FieldDescriptorProto.Type.TYPE_SINT32,
      FieldDescriptorProto.Type.TYPE_SINT64, FieldDescriptorProto.Type.TYPE_ENUM
    };
    FieldOptions phi =
        FieldOptions.newBuilder()
            .setExtension(
                SensitivityProto.sensitivity,
                Sensitivity.newBuilder().setDataClass(DataClass.DATA_CLASS_PHI).build())
            .build();
    DescriptorProto.Builder message = DescriptorProto.newBuilder().setName("Scalars");
    for (int i = 0; i < kinds.length; i++) {
      FieldDescriptorProto.Builder f =
          field("f" + i, i + 1, kinds[i], phi).toBuilder()
              .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
      if (kinds[i] == FieldDescriptorProto.Type.TYPE_ENUM) {
        f.setTypeName(".gen.Kind");
      }
      message.addField(f);
      FieldDescriptorProto.Builder r =
          field("r" + i, 100 + i, kinds[i], phi).toBuilder()
              .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED);
      if (kinds[i] == FieldDescriptorProto.Type.TYPE_ENUM) {
        r.setTypeName(".gen.Kind");
      }
      message.addField(r);
    }
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("gen/scalars.proto")
            .setPackage("gen")
            .setSyntax("proto3")
            .addDependency(SENSITIVITY_FILE)
            .addEnumType(
                DescriptorProtos.EnumDescriptorProto.newBuilder()
                    .setName("Kind")
                    .addValue(
                        DescriptorProtos.EnumValueDescriptorProto.newBuilder()
                            .setName("KIND_UNSPECIFIED")
                            .setNumber(0))
                    .addValue(
                        DescriptorProtos.EnumValueDescriptorProto.newBuilder()
                            .setName("KIND_A")
                            .setNumber(1)))
            .addMessageType(message)
            .build();
    Descriptor type =
        FileDescriptor.buildFrom(file, new FileDescriptor[] {SensitivityProto.getDescriptor()})
            .findMessageTypeByName("Scalars");
    DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
    for (FieldDescriptor f : type.getFields()) {
      Object v =
          switch (f.getJavaType()) {
            case INT -> 120;
            case LONG -> 120L;
            case FLOAT -> 1.5f;
            case DOUBLE -> 2.5;
            case BOOLEAN -> true;
            case STRING -> "secret";
            case BYTE_STRING -> ByteString.copyFromUtf8("secret");
            case ENUM -> f.getEnumType().findValueByNumber(1);
            case MESSAGE -> throw new AssertionError();
          };
      if (f.isRepeated()) {
        b.addRepeatedField(f, v);
      } else {
        b.setField(f, v);
      }
    }

    DynamicMessage masked = Redactor.create().redact(b.build(), null);

    for (FieldDescriptor f : type.getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.STRING) {
        Object expected = f.isRepeated() ? java.util.List.of("[REDACTED]") : "[REDACTED]";
        assertThat(masked.getField(f)).as(f.getName()).isEqualTo(expected);
      } else if (f.isRepeated()) {
        assertThat(masked.getRepeatedFieldCount(f)).as(f.getName()).isZero();
      } else {
        assertThat(masked.hasField(f)).as(f.getName()).isFalse();
      }
    }
  }

  @Test
  void redact_generalizeAge_everyIntegerKindIncludingUnsigned() throws Exception {
    FieldOptions age =
        FieldOptions.newBuilder()
            .setExtension(
                SensitivityProto.sensitivity,
                Sensitivity.newBuilder().setIdentifier(Identifier.IDENTIFIER_AGE).build())
            .build();
    DescriptorProto message =
        DescriptorProto.newBuilder()
            .setName("Ages")
            .addField(field("u64", 1, FieldDescriptorProto.Type.TYPE_UINT64, age))
            .addField(field("s32", 2, FieldDescriptorProto.Type.TYPE_SINT32, age))
            .addField(field("f32", 3, FieldDescriptorProto.Type.TYPE_FIXED32, age))
            .build();
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("gen/ages.proto")
            .setPackage("gen")
            .setSyntax("proto3")
            .addDependency(SENSITIVITY_FILE)
            .addMessageType(message)
            .build();
    Descriptor type =
        FileDescriptor.buildFrom(file, new FileDescriptor[] {SensitivityProto.getDescriptor()})
            .findMessageTypeByName("Ages");
    DynamicMessage m =
        DynamicMessage.newBuilder(type)
            .setField(type.findFieldByName("u64"), -5L) // 2^64 - 5 as unsigned
            .setField(type.findFieldByName("s32"), 45)
            .setField(type.findFieldByName("f32"), 91)
            .build();

    DynamicMessage masked = Redactor.create().redact(m, null);

    assertThat(masked.getField(type.findFieldByName("u64"))).isEqualTo(90L);
    assertThat(masked.getField(type.findFieldByName("s32"))).isEqualTo(45);
    assertThat(masked.getField(type.findFieldByName("f32"))).isEqualTo(90);
  }

  @Test
  void compile_unrecognizedOptionNumber_failsClosed() throws Exception {
    Descriptor type =
        singleField(
            FieldOptions.newBuilder()
                .setUnknownFields(
                    UnknownFieldSet.newBuilder()
                        .addField(51050, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                        .build())
                .build());

    assertThatThrownBy(() -> Redactor.create().precompile(type))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("gen.M.v")
        .hasMessageContaining("51050");
    Redactor.newBuilder().allowUnrecognizedOptions("gen.M.v").build().precompile(type);
  }

  @Test
  void compile_unrecognizedEnumValue_failsClosedOrFallsBackWhenAllowed() throws Exception {
    Descriptor type =
        singleField(
            FieldOptions.newBuilder()
                .setExtension(
                    SensitivityProto.sensitivity,
                    Sensitivity.newBuilder()
                        .setIdentifier(Identifier.IDENTIFIER_NAME)
                        .setStrategyValue(77)
                        .build())
                .build());
    DynamicMessage message =
        DynamicMessage.newBuilder(type).setField(type.findFieldByName("v"), "Jane").build();

    assertThatThrownBy(() -> Redactor.create().redact(message, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("does not understand");
    DynamicMessage masked =
        Redactor.newBuilder().allowUnrecognizedOptions("gen.M.v").build().redact(message, null);
    assertThat(masked.getField(type.findFieldByName("v"))).isEqualTo("[REDACTED]");
  }

  @Test
  void compile_unrecognizedSensitivityField_failsClosed() throws Exception {
    Descriptor type =
        singleField(
            FieldOptions.newBuilder()
                .setExtension(
                    SensitivityProto.sensitivity,
                    Sensitivity.newBuilder()
                        .setIdentifier(Identifier.IDENTIFIER_NAME)
                        .setUnknownFields(
                            UnknownFieldSet.newBuilder()
                                .addField(
                                    40,
                                    UnknownFieldSet.Field.newBuilder()
                                        .addLengthDelimited(ByteString.copyFromUtf8("x"))
                                        .build())
                                .build())
                        .build())
                .build());

    assertThatThrownBy(() -> Redactor.create().precompile(type))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void compile_emptySensitivity_failsClosed() throws Exception {
    Descriptor type =
        singleField(
            FieldOptions.newBuilder()
                .setExtension(SensitivityProto.sensitivity, Sensitivity.getDefaultInstance())
                .build());

    assertThatThrownBy(() -> Redactor.create().precompile(type))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("empty sensitivity");
  }

  @Test
  void compile_failure_isNotCachedAsSuccess() throws Exception {
    Descriptor type =
        singleField(
            FieldOptions.newBuilder()
                .setExtension(SensitivityProto.sensitivity, Sensitivity.getDefaultInstance())
                .build());
    Redactor redactor = Redactor.create();

    assertThatThrownBy(() -> redactor.precompile(type)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> redactor.precompile(type)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void unclassifiedFields_reportsEveryUnmarkedFieldThatCanCarryPhi() {
    Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();

    assertThat(redactor.unclassifiedFields(UnreviewedServiceGrpc.getServiceDescriptor()))
        .containsExactly(
            "hipaagrpc.masking.test.Unreviewed.free_text",
            "hipaagrpc.masking.test.Unreviewed.blob",
            "hipaagrpc.masking.test.Unreviewed.number",
            "hipaagrpc.masking.test.Unreviewed.lab_value",
            "hipaagrpc.masking.test.Unreviewed.severity",
            "hipaagrpc.masking.test.Unreviewed.taken_at",
            "hipaagrpc.masking.test.UnreviewedPart.positive",
            "hipaagrpc.masking.test.Unreviewed.flags",
            "hipaagrpc.masking.test.Unreviewed.results",
            "hipaagrpc.masking.test.Plain.code",
            "hipaagrpc.masking.test.Plain.count");
    // A message default classifies scalars (a double, an enum) but not a Timestamp field.
    assertThat(redactor.unclassifiedFields(VitalsServiceGrpc.getServiceDescriptor()))
        .containsExactly(
            "hipaagrpc.masking.test.DefaultedVitals.measured_at",
            "hipaagrpc.masking.test.Plain.code",
            "hipaagrpc.masking.test.Plain.count");
    assertThat(redactor.unclassifiedFields(PatientServiceGrpc.getServiceDescriptor())).isEmpty();
    assertThatThrownBy(
            () -> redactor.requireClassified(UnreviewedServiceGrpc.getServiceDescriptor()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("free_text");
    redactor.requireClassified(PatientServiceGrpc.getServiceDescriptor());
  }

  @Test
  void requireClassified_keepLastWithoutItsStrategy_refusedAtStartNotPerCall() {
    Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();
    assertThat(redactor.unclassifiedFields(MisconfiguredServiceGrpc.getServiceDescriptor()))
        .isEmpty();
    assertThatThrownBy(
            () -> redactor.requireClassified(MisconfiguredServiceGrpc.getServiceDescriptor()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("KeepLastWithoutStrategy");
  }

  private static void assertDefaults(Descriptor type, DynamicMessage masked) {
    for (Map.Entry<Identifier, String[]> e : DEFAULTS.entrySet()) {
      FieldDescriptor f = type.findFieldByName(fieldName(e.getKey()));
      assertThat(masked.getField(f)).as(e.getKey().name()).isEqualTo(e.getValue()[1]);
    }
    assertThat(masked.getField(type.findFieldByName("numeric_age"))).isEqualTo(90L);
  }

  private static DynamicMessage fillDefaults(Descriptor type) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
    for (Map.Entry<Identifier, String[]> e : DEFAULTS.entrySet()) {
      b.setField(type.findFieldByName(fieldName(e.getKey())), e.getValue()[0]);
    }
    b.setField(type.findFieldByName("numeric_age"), 97L);
    return b.build();
  }

  private static String fieldName(Identifier id) {
    return "f_" + id.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** One string field per identifier kind, plus an int64 age; options optionally as unknowns. */
  private static Descriptor buildDefaultsType(boolean optionsAsUnknownFields) throws Exception {
    DescriptorProto.Builder message = DescriptorProto.newBuilder().setName("Defaults");
    int number = 1;
    for (Identifier id : DEFAULTS.keySet()) {
      message.addField(
          field(fieldName(id), number++, FieldDescriptorProto.Type.TYPE_STRING, options(id)));
    }
    message.addField(
        field(
            "numeric_age",
            number,
            FieldDescriptorProto.Type.TYPE_INT64,
            options(Identifier.IDENTIFIER_AGE)));
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("gen/defaults.proto")
            .setPackage("gen")
            .setSyntax("proto3")
            .addDependency(SENSITIVITY_FILE)
            .addMessageType(message)
            .build();
    if (optionsAsUnknownFields) {
      // As a tool that parses descriptors without our extension registry would see them.
      file = FileDescriptorProto.parseFrom(file.toByteString());
    }
    return FileDescriptor.buildFrom(file, new FileDescriptor[] {SensitivityProto.getDescriptor()})
        .findMessageTypeByName("Defaults");
  }

  private static Descriptor singleField(FieldOptions options) throws Exception {
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("gen/single.proto")
            .setPackage("gen")
            .setSyntax("proto3")
            .addDependency(SENSITIVITY_FILE)
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("M")
                    .addField(field("v", 1, FieldDescriptorProto.Type.TYPE_STRING, options)))
            .build();
    return FileDescriptor.buildFrom(file, new FileDescriptor[] {SensitivityProto.getDescriptor()})
        .findMessageTypeByName("M");
  }

  private static FieldOptions options(Identifier id) {
    return FieldOptions.newBuilder()
        .setExtension(
            SensitivityProto.sensitivity, Sensitivity.newBuilder().setIdentifier(id).build())
        .build();
  }

  private static FieldDescriptorProto field(
      String name, int number, FieldDescriptorProto.Type type, FieldOptions options) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
        .setOptions(options)
        .build();
  }
}
