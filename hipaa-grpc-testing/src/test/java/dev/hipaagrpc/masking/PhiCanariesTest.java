package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.FamilyNode;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.testing.PhiCanaries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PhiCanariesTest {

  @Test
  void fill_setsEverySensitiveFieldToARegisteredCanary() {
    PhiCanaries canaries = PhiCanaries.create(1);

    Patient p = canaries.fill(Patient.getDefaultInstance());

    assertThat(canaries.values())
        .contains(p.getName(), p.getSsn(), p.getBirthDate(), p.getZip(), p.getMrn(), p.getNote())
        .contains(Integer.toString(p.getAge()), p.getContacts(0).getPhone(), p.getAliases(1))
        .contains(p.getLabelsMap().values().iterator().next());
    assertThat(p.getId()).startsWith("public-");
    assertThat(canaries.values()).doesNotContain(p.getId(), p.getAddress().getState());
    assertThat(p.getBirthDate()).matches("18\\d\\d-\\d\\d-\\d\\d");
    assertThat(p.getZip()).matches("9\\d{4}-\\d{4}");
  }

  @Test
  void fill_sameSeed_sameCanaries() {
    assertThat(PhiCanaries.create(5).fill(Patient.getDefaultInstance()))
        .isEqualTo(PhiCanaries.create(5).fill(Patient.getDefaultInstance()));
  }

  @Test
  void fill_recursiveAndMessageDefault_bounded() {
    PhiCanaries canaries = PhiCanaries.create(2);

    FamilyNode tree = canaries.fill(FamilyNode.getDefaultInstance());
    ClinicalNote note = canaries.fill(ClinicalNote.getDefaultInstance());

    assertThat(tree.getChildren(0).getPatient().getName()).startsWith("CANARY-");
    assertThat(canaries.values()).contains(note.getText(), Long.toString(note.getMinutes()));
    assertThat(note.getAuthor()).startsWith("public-");
  }

  @Test
  void findIn_findsPlainAndBase64_inTextAndFiles(@TempDir Path dir) throws Exception {
    PhiCanaries canaries = PhiCanaries.create(3);
    Patient p = canaries.fill(Patient.getDefaultInstance());
    String b64 =
        Base64.getEncoder()
            .withoutPadding()
            .encodeToString(p.getSsn().getBytes(StandardCharsets.UTF_8));
    Path file = dir.resolve("audit.jsonl");
    Files.writeString(file, "{\"x\":\"" + b64 + "\"}");

    assertThat(canaries.findIn("user " + p.getName() + " logged")).containsExactly(p.getName());
    assertThat(canaries.findIn(file)).containsExactly(p.getSsn());
    assertThat(canaries.findIn("nothing here")).isEmpty();
    assertThatThrownBy(() -> canaries.assertAbsent(p.getName(), "log"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("log");
  }
}
