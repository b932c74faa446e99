package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.hipaagrpc.masking.testproto.Patient;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Edge cases of the generalizations, which run on untrusted text. */
class FieldRuleTest {

  private static FieldRule rule(FieldRule.Kind kind) {
    return new FieldRule(kind, "[X]", 4, Set.of(), false, false, null);
  }

  private static Object mask(FieldRule.Kind kind, Object value) {
    return rule(kind).mask(value, Patient.getDescriptor().findFieldByName("birth_date"));
  }

  @Test
  void dateToYear_acceptsIsoAndUsFormsOnly() {
    assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, "1961")).isEqualTo("1961");
    assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, "1961-04")).isEqualTo("1961");
    assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, " 1961-04-12T10:00:00Z ")).isEqualTo("1961");
    assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, "4/12/1961")).isEqualTo("1961");
    assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, "04/12/1961")).isEqualTo("1961");
    for (String bad :
        new String[] {"", "196", "1961-4-12", "April 12, 1961", "12/1961", "1/2/61", "x1961"}) {
      assertThat(mask(FieldRule.Kind.DATE_TO_YEAR, bad)).as(bad).isEqualTo("[X]");
    }
  }

  @Test
  void zip3_acceptsZipFormsOnlyAndZeroesRestrictedAreas() {
    assertThat(mask(FieldRule.Kind.ZIP3, "02139")).isEqualTo("021");
    assertThat(mask(FieldRule.Kind.ZIP3, "02139-4307")).isEqualTo("021");
    assertThat(mask(FieldRule.Kind.ZIP3, "021394307")).isEqualTo("021");
    assertThat(mask(FieldRule.Kind.ZIP3, "89012")).isEqualTo("000");
    for (String bad : new String[] {"", "0213", "02139-43", "Cambridge", "02139 4307", "O2139"}) {
      assertThat(mask(FieldRule.Kind.ZIP3, bad)).as(bad).isEqualTo("[X]");
    }
  }

  @Test
  void age_generalizesOver89AndRedactsText() {
    assertThat(mask(FieldRule.Kind.AGE, "89")).isEqualTo("89");
    assertThat(mask(FieldRule.Kind.AGE, "90")).isEqualTo("90+");
    assertThat(mask(FieldRule.Kind.AGE, "ninety")).isEqualTo("[X]");
    assertThat(mask(FieldRule.Kind.AGE, "-5")).isEqualTo("[X]");
    assertThat(mask(FieldRule.Kind.AGE, "1234567890")).isEqualTo("[X]");
    assertThat(mask(FieldRule.Kind.AGE, 120)).isEqualTo(90);
    assertThat(mask(FieldRule.Kind.AGE, 120L)).isEqualTo(90L);
  }

  @Test
  void keepLast_shortValuesFullyMasked() {
    assertThat(mask(FieldRule.Kind.KEEP_LAST, "1234567")).isEqualTo("****");
    assertThat(mask(FieldRule.Kind.KEEP_LAST, "12345678")).isEqualTo("****5678");
    assertThat(mask(FieldRule.Kind.KEEP_LAST, "ab😀😀😀😀cd")).isEqualTo("****😀😀cd");
  }

  @Test
  void timestampToYear_outOfRangeBecomesEpoch() {
    assertThat(
            mask(
                FieldRule.Kind.TIMESTAMP_TO_YEAR,
                Timestamp.newBuilder().setSeconds(Long.MAX_VALUE).build()))
        .isEqualTo(Timestamp.getDefaultInstance());
    assertThat(
            mask(
                FieldRule.Kind.TIMESTAMP_TO_YEAR,
                Timestamp.newBuilder().setSeconds(-1).setNanos(5).build()))
        .isEqualTo(Timestamp.newBuilder().setSeconds(-31_536_000L).build());
  }
}
