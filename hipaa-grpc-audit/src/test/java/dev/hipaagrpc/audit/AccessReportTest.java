package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.core.KeyedIdentifier;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessReportTest {

  @TempDir Path dir;

  /** The patient's keyed identifier as the interceptors record it (domain "patient"). */
  static String keyedPatientId(String patientId) {
    return KeyedIdentifier.create(TestServer.IDENTIFIER_KEY).of("patient", patientId);
  }

  private static AuditEvent access(String patient, String time, String who) {
    return AuditEvent.newBuilder()
        .setSchema("hipaagrpc.audit/1")
        .setEventId(who + time)
        .setType(AuditEvent.Type.CALL)
        .setTime(time)
        .setActor(dev.hipaagrpc.audit.proto.Actor.newBuilder().setSubject(who))
        .setResource(
            Resource.newBuilder().setType("Patient").setPatientHmac(keyedPatientId(patient)))
        .build();
  }

  @Test
  void accessesTo_patientAndRange_onlyMatchingEvents() throws Exception {
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.newSecretKey())
            .signingKey(AuditKeys.newSigningKeyPair())
            .checkpointEvery(3, Duration.ofHours(1))
            .build()) {
      sink.write(
          List.of(
              access("p-1", "2026-01-01T10:00:00.000Z", "alice"),
              access("p-2", "2026-01-02T10:00:00.000Z", "bob"),
              access("p-1", "2026-02-01T10:00:00.000Z", "carol"),
              access("p-1", "2026-05-01T10:00:00.000Z", "dave")));
    }
    List<AuditEvent> found =
        AccessReport.create(TestServer.IDENTIFIER_KEY)
            .accessesTo(
                dir,
                "p-1",
                Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2026-03-01T00:00:00Z"));
    assertThat(found).extracting(e -> e.getActor().getSubject()).containsExactly("alice", "carol");

    Path key = dir.getParent().resolve(dir.getFileName() + "-id.key");
    AuditKeys.writeSecretKey(key, TestServer.IDENTIFIER_KEY);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc =
        AccessReport.run(
            new String[] {"--dir", dir.toString(), "--identifier-key", key.toString()},
            new ByteArrayInputStream("p-1\n".getBytes(UTF_8)),
            new PrintStream(out, true, UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, UTF_8));
    assertThat(rc).isZero();
    assertThat(out.toString(UTF_8).lines()).hasSize(4); // header + three accesses
    assertThat(out.toString(UTF_8)).contains("dave").doesNotContain("bob").doesNotContain("p-1");
  }

  @Test
  void accessesTo_eventWithSeveralPatients_foundForEach() throws Exception {
    AuditEvent several =
        AuditEvent.newBuilder()
            .setSchema("hipaagrpc.audit/2")
            .setEventId("e1")
            .setType(AuditEvent.Type.CALL)
            .setTime("2026-01-05T10:00:00.000Z")
            .setActor(dev.hipaagrpc.audit.proto.Actor.newBuilder().setSubject("erin"))
            .setResource(
                Resource.newBuilder()
                    .setType("Patient")
                    .addPatients(keyedPatientId("p-1"))
                    .addPatients(keyedPatientId("p-2"))
                    .addPatients(keyedPatientId("p-3")))
            .build();
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.newSecretKey())
            .signingKey(AuditKeys.newSigningKeyPair())
            .build()) {
      sink.write(List.of(several, access("p-9", "2026-01-06T10:00:00.000Z", "old-format")));
    }
    AccessReport report = AccessReport.create(TestServer.IDENTIFIER_KEY);
    Instant from = Instant.parse("2026-01-01T00:00:00Z");
    Instant to = Instant.parse("2026-02-01T00:00:00Z");
    for (String p : List.of("p-1", "p-2", "p-3")) {
      assertThat(report.accessesTo(dir, p, from, to))
          .as(p)
          .extracting(e -> e.getActor().getSubject())
          .containsExactly("erin");
    }
    // A version-1 event (one patient_hmac) is still found.
    assertThat(report.accessesTo(dir, "p-9", from, to)).hasSize(1);
  }
}
