package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The receiver-side verification logic on real logs, without Kafka. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShippedLogVerifierTest {

  @TempDir Path tmp;
  private TestLogs log;
  private List<byte[]> lines;
  private String origin;

  @BeforeEach
  void setUp() throws Exception {
    log = new TestLogs(tmp.resolve("log")).writeClosed(120);
    lines = log.lines();
    origin = log.origin();
  }

  private ShippedLogVerifier verifier() {
    return ShippedLogVerifier.newBuilder()
        .origin(origin, log.signing.getPublic(), log.genesis)
        .build();
  }

  private static ShippingReport.OriginReport finish(ShippedLogVerifier v) {
    v.finish();
    return v.report().origins().get(0);
  }

  @Test
  void inOrder_everyRecordAndNoteVerified() throws Exception {
    ShippedLogVerifier v = verifier();
    int noteAt = lines.size();
    for (byte[] l : lines) {
      v.accept(origin.getBytes(UTF_8), l, "record");
    }
    for (String n : log.notes) {
      v.accept(origin.getBytes(UTF_8), n.getBytes(UTF_8), "note");
    }
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.records()).isEqualTo(noteAt);
    assertThat(r.lastSeq()).isEqualTo(noteAt - 1);
    assertThat(r.checkpointsVerified()).isGreaterThan(10);
    assertThat(r.notesVerified()).isEqualTo(log.notes.size());
    assertThat(v.report().ok()).isTrue();
    assertThat(v.report().toJson()).contains("\"ok\": true").contains(origin);
  }

  @Test
  void redelivery_identicalDuplicatesDroppedAndCounted() {
    ShippedLogVerifier v = verifier();
    for (byte[] l : lines.subList(0, 50)) {
      v.acceptRecord(origin, l);
    }
    for (byte[] l : lines) { // the forwarder restarted from an older position
      v.acceptRecord(origin, l);
    }
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.duplicatesDropped()).isEqualTo(50);
    assertThat(r.records()).isEqualTo(lines.size());
  }

  @Test
  void missingRecords_reportedAsGapWithRange() {
    ShippedLogVerifier v = verifier();
    for (int i = 0; i < lines.size(); i++) {
      if (i < 40 || i > 44) {
        v.acceptRecord(origin, lines.get(i));
      }
    }
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.gaps()).containsExactly(new ShippingReport.Gap(40, 44));
    assertThat(r.errorCount()).as(r.errors().toString()).isZero();
    assertThat(r.lastSeq()).isEqualTo(lines.size() - 1);
  }

  @Test
  void missingHead_reportedAsGapFromZero() {
    ShippedLogVerifier v = verifier();
    for (byte[] l : lines.subList(30, lines.size())) {
      v.acceptRecord(origin, l);
    }
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.gaps()).containsExactly(new ShippingReport.Gap(0, 29));
  }

  @Test
  void reorderedWithinWindow_verifiesWithoutGap() {
    ShippedLogVerifier v = verifier();
    List<byte[]> shuffled = new ArrayList<>(lines.subList(10, 30));
    Collections.reverse(shuffled);
    lines.subList(0, 10).forEach(l -> v.acceptRecord(origin, l));
    shuffled.forEach(l -> v.acceptRecord(origin, l));
    lines.subList(30, lines.size()).forEach(l -> v.acceptRecord(origin, l));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.records()).isEqualTo(lines.size());
  }

  @Test
  void conflictingDuplicate_reportedNotDropped() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    // Same origin and seq, different bytes: what a record lost in an OS crash looks like.
    byte[] other = new TestLogs(tmp.resolve("other")).writeClosed(60).lines().get(50);
    v.acceptRecord(origin, other);
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.conflicts()).isEqualTo(1);
    assertThat(r.conflictSeqs()).containsExactly(50L);
    assertThat(r.duplicatesDropped()).isZero();
  }

  @Test
  void wrongCheckpointKey_badSignatureReported() {
    ShippedLogVerifier v =
        ShippedLogVerifier.newBuilder()
            .origin(origin, AuditKeys.newSigningKeyPair().getPublic())
            .build();
    lines.forEach(l -> v.acceptRecord(origin, l));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.errors()).anyMatch(e -> e.startsWith("BAD_SIGNATURE at seq 0"));
  }

  @Test
  void editedLine_reportedAsEdited() {
    ShippedLogVerifier v = verifier();
    byte[] edited = lines.get(33).clone();
    String s = new String(edited, UTF_8).replace("corr-", "CORR-");
    lines.set(33, s.getBytes(UTF_8));
    lines.forEach(l -> v.acceptRecord(origin, l));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.errors()).anyMatch(e -> e.startsWith("EDITED at seq 33"));
    // The chain resumes after the bad record: the rest still verifies.
    assertThat(r.records()).isEqualTo(lines.size() - 1);
  }

  @Test
  void editedNote_reportedAsEdited() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    // Another log under the same origin and key: validly signed notes with other roots (a fork).
    TestLogs fork = new TestLogs(tmp.resolve("fork"), log.genesis, log.signing);
    fork.origin = origin;
    fork.writeClosed(120);
    String forked = fork.notes.get(3);
    assertThat(dev.hipaagrpc.audit.AuditChain.noteSize(forked))
        .isEqualTo(dev.hipaagrpc.audit.AuditChain.noteSize(log.notes.get(3)));
    v.acceptNote(origin, forked);
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.errors()).anyMatch(e -> e.contains("do not reproduce the root"));
  }

  @Test
  void noteBeyondShippedRecords_reportedAsMissingTail() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.subList(0, 60).forEach(l -> v.acceptRecord(origin, l));
    v.acceptNote(origin, log.latestNote());
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.errors()).anyMatch(e -> e.contains("the tail is missing"));
  }

  @Test
  void report_namesSequenceNumbersNeverContent() throws Exception {
    ShippedLogVerifier v = verifier();
    String edited = new String(lines.get(33), UTF_8).replace("corr-", "CORR-");
    lines.set(33, edited.getBytes(UTF_8));
    lines.forEach(l -> v.acceptRecord(origin, l));
    v.acceptRecord(origin, "{\"seq\":7,corr-garbage".getBytes(UTF_8));
    v.acceptRecord(origin, new TestLogs(tmp.resolve("x")).writeClosed(60).lines().get(40));
    v.finish();
    String json = v.report().toJson();
    assertThat(v.report().origins().get(0).errorCount()).isGreaterThanOrEqualTo(2);
    assertThat(json).doesNotContain("corr-").doesNotContain("CORR-").doesNotContain("000000000");
  }

  @Test
  void unknownOrigin_reported() {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    v.accept("someone-else".getBytes(UTF_8), lines.get(0), null);
    v.finish();
    ShippingReport report = v.report();
    assertThat(report.origins().get(0).ok()).isTrue();
    assertThat(report.unknownOrigins()).containsEntry("someone-else", 1L);
    assertThat(report.ok()).isFalse();
  }

  @Test
  void configuredOriginWithNothingShipped_isAnError() {
    ShippedLogVerifier v = verifier();
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
  }

  @Test
  void build_withoutOrigin_refused() {
    assertThatThrownBy(() -> ShippedLogVerifier.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("origin");
  }
}
