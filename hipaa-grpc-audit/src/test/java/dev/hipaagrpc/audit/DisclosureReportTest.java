package dev.hipaagrpc.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Authorization;
import dev.hipaagrpc.audit.proto.Outcome;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.audit.proto.Source;
import dev.hipaagrpc.audit.proto.Target;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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

  @Test
  void disclosuresOf_externalCallers_excludedPurposesAndUsesLeftOut() throws Exception {
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
}
