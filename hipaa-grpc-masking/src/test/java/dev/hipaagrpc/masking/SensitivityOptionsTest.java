package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import dev.hipaagrpc.masking.proto.DataClass;
import dev.hipaagrpc.masking.proto.Sensitivity;
import dev.hipaagrpc.masking.proto.Strategy;
import dev.hipaagrpc.masking.testproto.Address;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.Patient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The resolution tools read must be the one the redactor compiles. */
class SensitivityOptionsTest {

  private static Sensitivity effective(Descriptor type, String field) {
    return SensitivityOptions.effective(type.findFieldByName(field));
  }

  @Test
  void effective_messageDefault_appliesToScalarsAndStringMapsNotToClassifiedFields() {
    Descriptor note = ClinicalNote.getDescriptor();

    assertThat(effective(note, "text").getDataClass()).isEqualTo(DataClass.DATA_CLASS_PHI);
    assertThat(effective(note, "tags").getDataClass()).isEqualTo(DataClass.DATA_CLASS_PHI);
    assertThat(effective(note, "author")).isNull();
  }

  @Test
  void effective_agreesWithTheRedactorOnAStringMapUnderAMessageDefault() {
    ClinicalNote masked =
        Redactor.create()
            .redact(
                ClinicalNote.newBuilder().setText("t").putTags("k", "chest pain").build(), null);

    assertThat(masked.getTagsMap()).containsExactly(Map.entry("k", "[REDACTED]"));
  }

  @Test
  void effective_debugRedactOnly_emptySensitivity_publicField_null() {
    assertThat(effective(Patient.getDescriptor(), "note"))
        .isEqualTo(Sensitivity.getDefaultInstance());
    assertThat(effective(Patient.getDescriptor(), "id")).isNull();
  }

  @Test
  void strategy_geographicIdentifierWithoutStrategy_zip3() {
    Sensitivity zip = effective(Address.getDescriptor(), "zip");

    assertThat(SensitivityOptions.strategy(zip)).isEqualTo(Strategy.STRATEGY_GENERALIZE_ZIP3);
    assertThat(SensitivityOptions.strategy(Sensitivity.getDefaultInstance()))
        .isEqualTo(Strategy.STRATEGY_REDACT);
  }
}
