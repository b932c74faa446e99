package dev.hipaagrpc.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole demo (real mTLS server on loopback, HTTPS JWKS, every interceptor, chained audit
 * file, verifier, access report) and requires every scenario to end as the demo says it should.
 */
class DemoTest {

  @Test
  void run_everyCallerScenario_endsAsExpectedAndAuditVerifies(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    int failures = Demo.run(dir, out);

    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(failures).as(printed).isZero();
    assertThat(printed)
        .contains("VERIFIED:")
        .contains("receipt VERIFIED: record seq")
        .contains("WITNESSED: ")
        .contains("log closed")
        .contains("RESOURCE_EXHAUSTED")
        .contains("physician BREAK-GLASS (PATIENT_EMERGENCY)")
        .doesNotContain("UNEXPECTED");
    // Billing never sees clinical data; the nurse never sees the full SSN.
    assertThat(printed).contains("ssn=****6789").contains("notes=(removed)");
  }
}
