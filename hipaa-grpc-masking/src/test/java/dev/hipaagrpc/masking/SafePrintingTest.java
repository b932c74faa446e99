package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.TypeRegistry;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.Plain;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class SafePrintingTest {

  private final Redactor redactor =
      Redactor.newBuilder()
          .tokenizer(Fixtures.tokenizer())
          .typeRegistry(TypeRegistry.newBuilder().add(ClinicalNote.getDescriptor()).build())
          .build();

  @Test
  void generatedToString_printsPhi_whichIsWhyWeDoNotUseIt() {
    assertThat(Fixtures.patient().toString()).contains("Alice Smith").contains("debug only");
  }

  @Test
  void print_masksEverySensitiveFieldRegardlessOfRole() {
    String out = redactor.print(Fixtures.patient());

    assertThat(out)
        .startsWith("Patient {")
        .contains("id: \"p-1\"")
        .contains("name: \"[REDACTED]\"")
        .contains("ssn: \"****6789\"")
        .contains("note: \"[REDACTED]\"")
        .contains("[type.googleapis.com/hipaagrpc.masking.test.ClinicalNote]")
        .doesNotContain("photo")
        .doesNotContain("Alice")
        .doesNotContain("debug only")
        .doesNotContain("chest pain")
        .doesNotContain("123-45")
        .doesNotContain("MRN0012345");
  }

  @Test
  void print_escapesControlCharacters() {
    Plain forged = Plain.newBuilder().setCode("a\nINFO forged line \"x\"\u0000").build();

    String out = redactor.print(forged);

    assertThat(out).doesNotContain("\n").contains("\\n").contains("\\\"x\\\"").contains("\\u0000");
  }

  @Test
  void print_bytesAsLengthOnly() {
    String out = redactor.print(Plain.newBuilder().setCode("c").build());
    String bytes =
        Redactor.create()
            .print(
                com.google.protobuf.BytesValue.newBuilder()
                    .setValue(com.google.protobuf.ByteString.copyFromUtf8("RAWBYTES"))
                    .build());

    assertThat(out).isEqualTo("Plain { code: \"c\" }");
    assertThat(bytes).contains("<8 bytes>").doesNotContain("RAWBYTES");
  }

  @Test
  void loggable_toStringIsSafePrint_throughSlf4j() {
    Logger log = LoggerFactory.getLogger(SafePrintingTest.class);
    Patient p = Fixtures.patient().toBuilder().clearMrn().build();
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr()) {
      log.info("sending {}", redactor.loggable(p));

      assertThat(err.text()).contains("sending Patient {").doesNotContain("Alice");
    }
    assertThat(redactor.loggable(p).toString()).isEqualTo(redactor.print(p));
  }

  @Test
  void loggable_unprintable_printsTypeNameOnly() {
    Object l = Redactor.create().loggable(Fixtures.patient());

    assertThat(l.toString()).isEqualTo("Patient {<unprintable>}");
  }

  @Test
  void redactForLog_masksDebugRedactToo() {
    Patient masked = redactor.redactForLog(Fixtures.patient());

    assertThat(masked.getNote()).isEqualTo("[REDACTED]");
    assertThat(masked.getName()).isEqualTo("[REDACTED]");
  }
}
