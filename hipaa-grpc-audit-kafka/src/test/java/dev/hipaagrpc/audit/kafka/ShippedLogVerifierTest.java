package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditChain;
import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.audit.AuditVerifier;
import java.nio.file.Path;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
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

  /** Re-signs {@code text} as a note with the log's key, in the genuine note's signature format. */
  private String signedNote(String text) throws Exception {
    String genuine = log.notes.get(0);
    String sigLine = genuine.substring(genuine.lastIndexOf("\n\n") + 2);
    int sp = sigLine.lastIndexOf(' ');
    byte[] blob = Base64.getDecoder().decode(sigLine.substring(sp + 1).trim());
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(log.signing.getPrivate());
    s.update(text.getBytes(UTF_8));
    byte[] sig = s.sign();
    byte[] b = Arrays.copyOf(blob, 4 + sig.length);
    System.arraycopy(sig, 0, b, 4, sig.length);
    return text
        + "\n"
        + sigLine.substring(0, sp + 1)
        + Base64.getEncoder().encodeToString(b)
        + "\n";
  }

  private String noteText(long size) {
    return origin + "\n" + size + "\n" + Base64.getEncoder().encodeToString(new byte[32]) + "\n";
  }

  @Test
  void noteAtNonCheckpointSize_garbageSignature_reportedBadSignature() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    String genuine = signedNote(noteText(5));
    String sig = genuine.substring(genuine.lastIndexOf(' ') + 1);
    String garbage = genuine.replace(sig, Base64.getEncoder().encodeToString(new byte[68]) + "\n");
    v.acceptNote(origin, garbage);
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.notesUnchecked()).isZero();
    assertThat(r.errors()).anyMatch(e -> e.contains("size 5 has a bad signature"));
  }

  @Test
  void signedNoteAtNonCheckpointSize_reportedAsEdited() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    v.acceptNote(origin, signedNote(noteText(5)));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.ok()).isFalse();
    assertThat(r.notesUnchecked()).isZero();
    assertThat(r.errors()).anyMatch(e -> e.contains("signed checkpoint note of size 5"));
  }

  @Test
  void noteAheadWithBadSignature_notParked() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.subList(0, 30).forEach(l -> v.acceptRecord(origin, l));
    String n = signedNote(noteText(10_000));
    v.acceptNote(origin, n.replace(origin + "\n10000\n", origin + "\n10001\n"));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.errors()).anyMatch(e -> e.contains("size 10001 has a bad signature"));
    assertThat(r.errors()).noneMatch(e -> e.contains("the tail is missing"));
  }

  @Test
  void pendingNotes_capped_dropsReported() throws Exception {
    ShippedLogVerifier v = verifier();
    lines.subList(0, 30).forEach(l -> v.acceptRecord(origin, l));
    int extra = 3;
    for (int i = 0; i < ShippedLogVerifier.MAX_PENDING_NOTES + extra; i++) {
      v.acceptNote(origin, signedNote(noteText(1_000_000 + i)));
    }
    ShippingReport.OriginReport r = v.report().origins().get(0);
    assertThat(r.ok()).isFalse();
    assertThat(r.errorCount()).isEqualTo(extra);
    assertThat(r.errors()).allMatch(e -> e.contains("was dropped"));
  }

  @Test
  void unknownOrigins_capped_restCountedTogether() {
    ShippedLogVerifier v = verifier();
    lines.forEach(l -> v.acceptRecord(origin, l));
    for (int i = 0; i < ShippedLogVerifier.MAX_UNKNOWN_ORIGINS + 50; i++) {
      v.acceptRecord("intruder-" + i, lines.get(0));
    }
    ShippingReport report = v.report();
    assertThat(report.unknownOrigins()).hasSize(ShippedLogVerifier.MAX_UNKNOWN_ORIGINS + 1);
    assertThat(report.unknownOrigins()).containsEntry(ShippedLogVerifier.OTHERS, 50L);
    assertThat(report.ok()).isFalse();
  }

  @Test
  void reorderBuffer_boundedByBytes() {
    ShippedLogVerifier v =
        ShippedLogVerifier.newBuilder()
            .origin(origin, log.signing.getPublic(), log.genesis)
            .reorderBytes(4 * 1024)
            .build();
    for (int i = 0; i < lines.size(); i++) {
      if (i != 40) {
        v.acceptRecord(origin, lines.get(i));
      }
    }
    // Before finish(): the buffer overflowed by bytes, far below the 10 000 records window.
    ShippingReport.OriginReport r = v.report().origins().get(0);
    assertThat(r.gaps()).containsExactly(new ShippingReport.Gap(40, 40));
  }

  @Test
  void forgedHighEpochInSequence_refusedWithoutDerivingKeys() {
    ShippedLogVerifier v = verifier();
    int e = checkpointAfter(50) + 1; // an event
    lines.subList(0, e).forEach(l -> v.acceptRecord(origin, l));
    v.acceptRecord(origin, withEpoch(lines.get(e), 67_000_000));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.errors()).contains("EDITED at seq " + e + ": key epoch out of order");
  }

  @Test
  void forgedHighEpochAfterRefusedRecord_refusedWithoutDerivingKeys() {
    ShippedLogVerifier v = verifier();
    int e = checkpointAfter(50) + 1; // an event
    lines.subList(0, e).forEach(l -> v.acceptRecord(origin, l));
    String edited = new String(lines.get(e), UTF_8);
    assertThat(edited).contains("corr-");
    v.acceptRecord(origin, edited.replace("corr-", "CORR-").getBytes(UTF_8));
    // The chain resumes at the next record, checked on its own: its epoch is forged.
    v.acceptRecord(origin, withEpoch(lines.get(e + 1), 67_000_000));
    ShippingReport.OriginReport r = finish(v);
    assertThat(r.errors()).contains("EDITED at seq " + (e + 1) + ": key epoch out of order");
  }

  private static byte[] withEpoch(byte[] line, long epoch) {
    String s = new String(line, UTF_8);
    String forged = s.replaceFirst("\"epoch\":\\d+", "\"epoch\":" + epoch);
    assertThat(forged).isNotEqualTo(s);
    return forged.getBytes(UTF_8);
  }

  @Test
  void chain_refusedRecordLeavesKeyEpoch_genuineRecordThenAccepted() {
    AuditChain chain = AuditChain.newBuilder(log.signing.getPublic()).chainKey(log.genesis).build();
    int k = checkpointAfter(20);
    for (byte[] l : lines.subList(0, k)) {
      assertThat(chain.append(l)).isNull();
    }
    // The record after the checkpoint k has the next epoch; it arrives before k.
    AuditChain.Rejection early = chain.append(lines.get(k + 1));
    assertThat(early).isNotNull();
    assertThat(early.problem()).isEqualTo(AuditVerifier.Problem.DELETED);
    assertThat(chain.append(lines.get(k))).isNull();
    assertThat(chain.append(lines.get(k + 1))).isNull();
  }

  private int checkpointAfter(int from) {
    for (int i = from; i < lines.size(); i++) {
      AuditLine l = AuditLine.parse(lines.get(i));
      if (l != null && l.isCheckpoint()) {
        return i;
      }
    }
    throw new AssertionError("no checkpoint after " + from);
  }

  @Test
  void build_withoutOrigin_refused() {
    assertThatThrownBy(() -> ShippedLogVerifier.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("origin");
  }
}
