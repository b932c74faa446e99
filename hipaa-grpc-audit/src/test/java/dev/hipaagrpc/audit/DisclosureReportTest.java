package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Authorization;
import dev.hipaagrpc.audit.proto.Outcome;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.audit.proto.Source;
import dev.hipaagrpc.audit.proto.Target;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 164.528: disclosures to other entities only, with the excluded purposes left out. */
class DisclosureReportTest {

  @TempDir Path dir;

  private static AuditEvent call(
      String id, String tenant, String spiffe, String purpose, String status) {
    return AuditEvent.newBuilder()
        .setSchema("hipaagrpc.audit/1")
        .setEventId(id)
        .setType(AuditEvent.Type.CALL)
        .setTime("2026-03-0" + id.length() + "T10:00:00.000Z")
        .setCorrelationId("corr-" + id)
        .setActor(Actor.newBuilder().setSubject("caller-" + id).setTenant(tenant))
        .setSource(Source.newBuilder().setPeerSpiffeId(spiffe))
        .setTarget(
            Target.newBuilder()
                .setService("records.v1.PatientRecords")
                .setMethod("GetPatient")
                .setAction("R"))
        .setResource(
            Resource.newBuilder()
                .setType("Patient")
                .setPatientHmac(AccessReportTest.keyedPatientId("p-1")))
        .setOutcome(Outcome.newBuilder().setStatus(status))
        .setAuthorization(Authorization.newBuilder().setPurposeOfUse(purpose))
        .build();
  }

  private void writeLog() throws Exception {
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.newSecretKey())
            .signingKey(AuditKeys.newSigningKeyPair())
            .checkpointEvery(3, Duration.ofHours(1))
            .build()) {
      sink.write(
          List.of(
              call("a", "", "spiffe://lab.example/results", "HRESCH", "OK"), // research: listed
              call("bb", "payer-1", "", "HPAYMT", "OK"), // payment: excluded
              call("ccc", "", "spiffe://lab.example/results", "TREAT", "OK"), // treatment
              call("dddd", "", "", "HRESCH", "OK"), // inside the entity: a use
              call("eeeee", "payer-1", "", "PUBHLTH", "PERMISSION_DENIED"), // nothing left
              call("ffffff", "payer-1", "", "", "OK"))); // no purpose: listed
    }
  }

  @Test
  void disclosuresOf_externalCallers_excludedPurposesAndUsesLeftOut() throws Exception {
    writeLog();
    DisclosureReport report =
        DisclosureReport.newBuilder(AccessReport.create(TestServer.IDENTIFIER_KEY))
            .recipient("spiffe://lab.example/results", "Reference Lab Inc.")
            .recipient("payer-1", "Health Plan A")
            .build();
    List<DisclosureReport.Disclosure> d =
        report.disclosuresOf(
            dir,
            "p-1",
            Instant.parse("2026-01-01T00:00:00Z"),
            Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(d)
        .extracting(DisclosureReport.Disclosure::correlationId)
        .containsExactly("corr-a", "corr-ffffff");
    assertThat(d.get(0).recipient()).isEqualTo("Reference Lab Inc.");
    assertThat(d.get(0).purpose()).isEqualTo("HRESCH");
    assertThat(d.get(0).description())
        .isEqualTo("R records.v1.PatientRecords/GetPatient (Patient)");
    assertThat(d.get(1).recipient()).isEqualTo("Health Plan A");

    // The access report, by contrast, lists all six accesses.
    assertThat(
            AccessReport.create(TestServer.IDENTIFIER_KEY)
                .accessesTo(
                    dir,
                    "p-1",
                    Instant.parse("2026-01-01T00:00:00Z"),
                    Instant.parse("2027-01-01T00:00:00Z")))
        .hasSize(6);

    assertThatThrownBy(
            () ->
                DisclosureReport.newBuilder(AccessReport.create(TestServer.IDENTIFIER_KEY)).build())
        .isInstanceOf(IllegalStateException.class);
  }

  private int cli(String stdin, ByteArrayOutputStream out, ByteArrayOutputStream err, String... a) {
    return DisclosureReport.run(
        a,
        new ByteArrayInputStream(stdin.getBytes(UTF_8)),
        new PrintStream(out, true, UTF_8),
        new PrintStream(err, true, UTF_8));
  }

  @Test
  void commandLine_listsTheDisclosures_patientIdFromStdinOnly() throws Exception {
    writeLog();
    Path key = dir.resolveSibling(dir.getFileName() + "-id.key");
    AuditKeys.writeSecretKey(key, TestServer.IDENTIFIER_KEY);
    Path recipients = dir.resolveSibling(dir.getFileName() + "-recipients");
    Files.writeString(
        recipients,
        """
        # other entities

        spiffe://lab.example/results = Reference Lab Inc.
        payer-1=Health Plan A
        """);
    String[] args = {
      "--dir",
      dir.toString(),
      "--identifier-key",
      key.toString(),
      "--recipients",
      recipients.toString()
    };
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(cli("p-1\n", out, err, args)).isZero();
    List<String> lines = out.toString(UTF_8).lines().toList();
    assertThat(lines).hasSize(3); // the header and the two disclosures
    assertThat(lines.get(0)).isEqualTo("time\trecipient\tdescription\tpurpose\tcorrelationId");
    assertThat(lines.get(1))
        .isEqualTo(
            "2026-03-01T10:00:00.000Z\tReference Lab Inc.\tR records.v1.PatientRecords/GetPatient"
                + " (Patient)\tHRESCH\tcorr-a");
    assertThat(lines.get(2)).contains("Health Plan A").endsWith("corr-ffffff");
    assertThat(err.toString(UTF_8)).isEqualTo("2 disclosures\n");

    // With no purpose excluded, the payment and the treatment disclosures are listed too.
    String[] none = Arrays.copyOf(args, args.length + 2);
    none[args.length] = "--excluded-purposes";
    none[args.length + 1] = "none";
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    assertThat(cli("p-1", all, new ByteArrayOutputStream(), none)).isZero();
    assertThat(all.toString(UTF_8).lines()).hasSize(5);
    assertThat(all.toString(UTF_8)).contains("corr-bb").contains("corr-ccc");

    // Another patient has none.
    ByteArrayOutputStream other = new ByteArrayOutputStream();
    assertThat(cli("p-2", other, new ByteArrayOutputStream(), args)).isZero();
    assertThat(other.toString(UTF_8).lines()).hasSize(1);
  }

  @Test
  void commandLine_badInput_exit2_withoutContentOrPatientId() throws Exception {
    writeLog();
    Path key = dir.resolveSibling(dir.getFileName() + "-id.key");
    AuditKeys.writeSecretKey(key, TestServer.IDENTIFIER_KEY);
    Path recipients = dir.resolveSibling(dir.getFileName() + "-recipients");
    Files.writeString(recipients, "payer-1 Health Plan A secret-looking-line\n");
    String[] args = {
      "--dir",
      dir.toString(),
      "--identifier-key",
      key.toString(),
      "--recipients",
      recipients.toString()
    };
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(cli("p-1", new ByteArrayOutputStream(), err, args)).isEqualTo(2);
    assertThat(err.toString(UTF_8))
        .contains("line 1 is not callerId=name")
        .doesNotContain("secret-looking-line");

    Files.writeString(recipients, "# nobody\n");
    err.reset();
    assertThat(cli("p-1", new ByteArrayOutputStream(), err, args)).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains("declares no recipient");

    Files.writeString(recipients, "payer-1=Health Plan A\n");
    err.reset();
    assertThat(cli("  \n", new ByteArrayOutputStream(), err, args)).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains("no patient id");

    err.reset();
    assertThat(cli("p-1", new ByteArrayOutputStream(), err, "--dir", dir.toString())).isEqualTo(2);
    assertThat(err.toString(UTF_8)).startsWith("usage: DisclosureReport");

    err.reset();
    String[] badKey = args.clone();
    badKey[3] = dir.resolve("no-such.key").toString();
    assertThat(cli("MRN-0012345", new ByteArrayOutputStream(), err, badKey)).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains("no-such.key").doesNotContain("MRN-0012345");
  }
}
