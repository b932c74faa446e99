package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.AuditVerifier.Problem;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.AuditRecord;
import dev.hipaagrpc.audit.proto.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.Mac;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChainedFileSinkTest {

  @TempDir Path dir;
  private final byte[] genesis = AuditKeys.newSecretKey();
  private final KeyPair signing = AuditKeys.newSigningKeyPair();
  private final List<String> anchors = new ArrayList<>();
  private final List<Path> sealed = new ArrayList<>();

  @BeforeEach
  void setUp() {
    anchors.clear();
    sealed.clear();
  }

  private ChainedFileSink open(Path d) throws IOException {
    return ChainedFileSink.newBuilder(d)
        .genesisKey(genesis)
        .signingKey(signing)
        .checkpointEvery(10, Duration.ofHours(1))
        .rotateAt(8 * 1024, Duration.ofDays(1))
        .onCheckpoint(anchors::add)
        .onSealed(sealed::add)
        .build();
  }

  static AuditEvent event(int i) {
    return AuditEvent.newBuilder()
        .setSchema("hipaagrpc.audit/1")
        .setEventId(String.format("%032d", i))
        .setType(AuditEvent.Type.CALL)
        .setTime("2026-03-04T05:06:07.008Z")
        .setCorrelationId("corr-" + i)
        .build();
  }

  /** Writes n events in batches of 5 and closes: several files, many checkpoints. */
  private void writeLog(Path d, int n) throws IOException {
    try (ChainedFileSink sink = open(d)) {
      List<AuditEvent> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(event(i));
        if (batch.size() == 5) {
          sink.write(batch);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        sink.write(batch);
      }
    }
  }

  private AuditVerifier verifier() {
    return AuditVerifier.newBuilder(signing.getPublic()).chainKey(genesis).build();
  }

  private AuditVerifier.Failure failure(AuditVerifier v) throws IOException {
    AuditVerifier.Result r = v.verify(dir);
    assertThat(r.ok()).as("tampering must be detected").isFalse();
    return r.failure();
  }

  private List<Path> files() throws IOException {
    return LogFiles.list(dir);
  }

  private static List<String> lines(Path f) throws IOException {
    return new ArrayList<>(Files.readAllLines(f, UTF_8));
  }

  private static void write(Path f, List<String> lines) throws IOException {
    Files.writeString(f, String.join("\n", lines) + "\n", UTF_8);
  }

  private static long seqOf(String line) {
    return Frame.parse(line.getBytes(UTF_8)).seq;
  }

  /** The index of the n-th event (not checkpoint) line of a file. */
  private static int eventLine(List<String> lines, int n) {
    int seen = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains("\"event\":")) {
        if (seen++ == n) {
          return i;
        }
      }
    }
    throw new AssertionError("no event line " + n);
  }

  @Test
  void write_manyEvents_verifiesWithChainKeyAndWithPublicKeyOnly() throws Exception {
    writeLog(dir, 120);
    assertThat(files().size()).isGreaterThan(2);
    assertThat(sealed).hasSize(files().size() - 1);
    AuditVerifier.Result r = verifier().verify(dir);
    assertThat(r.failure()).isNull();
    assertThat(r.ok()).isTrue();
    assertThat(r.closed()).isTrue();
    assertThat(r.recordsVerified()).isEqualTo(r.lastSeq() + 1);
    assertThat(r.checkpointsVerified()).isGreaterThan(12);
    assertThat(AuditVerifier.newBuilder(signing.getPublic()).build().verify(dir).ok()).isTrue();
    // Every line is a record of the schema, parsed strictly.
    for (Path f : files()) {
      for (String line : lines(f)) {
        AuditRecord.Builder b = AuditRecord.newBuilder();
        JsonFormat.parser().merge(line, b);
        assertThat(b.getMac()).hasSize(64);
      }
    }
    // The key state holds the current epoch's key only, never the genesis key.
    String state = Files.readString(dir.resolve("chain.key"));
    assertThat(state).doesNotContain(Crypto.HEX.formatHex(genesis));
  }

  @Test
  void verifierCli_goodAndBadLog_exitCodes() throws Exception {
    writeLog(dir, 30);
    Path pub = dir.getParent().resolve(dir.getFileName() + "-pub");
    Path key = dir.getParent().resolve(dir.getFileName() + "-k0");
    AuditKeys.writePublicKey(pub, signing.getPublic());
    AuditKeys.writeSecretKey(key, genesis);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String[] args = {
      "--dir", dir.toString(), "--public-key", pub.toString(), "--chain-key", key.toString()
    };
    int rc = AuditVerifierCli.run(args, new PrintStream(out, true, UTF_8), System.err);
    assertThat(rc).isZero();
    assertThat(out.toString(UTF_8)).startsWith("OK: ").contains("records verified");
    Path f = files().get(0);
    List<String> l = lines(f);
    l.remove(eventLine(l, 3));
    write(f, l);
    out.reset();
    rc = AuditVerifierCli.run(args, new PrintStream(out, true, UTF_8), System.err);
    assertThat(rc).isEqualTo(1);
    assertThat(out.toString(UTF_8)).contains("FAILED").contains("DELETED");
    assertThat(
            AuditVerifierCli.run(
                new String[] {"--bogus"},
                System.out,
                new PrintStream(new ByteArrayOutputStream(), true, UTF_8)))
        .isEqualTo(2);
  }

  // ------------------------------------------------------------ tampering matrix

  @Test
  void tamper_editOneByte_editedRecordNamed() throws Exception {
    writeLog(dir, 40);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 4);
    long seq = seqOf(l.get(i));
    l.set(i, l.get(i).replace("corr-", "corx-"));
    write(f, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.EDITED);
    assertThat(fail.seq()).isEqualTo(seq);
    assertThat(fail.line()).isEqualTo(i + 1);
    // Without the chain key the hash chain still names it.
    AuditVerifier.Failure pubOnly = failure(AuditVerifier.newBuilder(signing.getPublic()).build());
    assertThat(pubOnly.problem()).isEqualTo(Problem.EDITED);
    assertThat(pubOnly.seq()).isEqualTo(seq);
  }

  @Test
  void tamper_deleteRecord_deletedSeqNamed() throws Exception {
    writeLog(dir, 40);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 6);
    long seq = seqOf(l.get(i));
    l.remove(i);
    write(f, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.DELETED);
    assertThat(fail.seq()).isEqualTo(seq);
  }

  @Test
  void tamper_insertRecord_insertedNamed() throws Exception {
    writeLog(dir, 40);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 5);
    long seq = seqOf(l.get(i));
    // A forged record claiming the next position, with a made-up MAC.
    String forged = l.get(i).replace("corr-", "fake-");
    l.add(i, forged);
    write(f, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.INSERTED);
    assertThat(fail.line()).isEqualTo(i + 1);
    assertThat(fail.seq()).isEqualTo(seq);
  }

  @Test
  void tamper_swapRecords_reorderedNamed() throws Exception {
    writeLog(dir, 40);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 2);
    String a = l.get(i);
    l.set(i, l.get(i + 1));
    l.set(i + 1, a);
    write(f, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.REORDERED);
    assertThat(fail.seq()).isEqualTo(seqOf(a) + 1);
    assertThat(fail.line()).isEqualTo(i + 1);
  }

  @Test
  void tamper_truncateTailMidRecord_truncatedNamed() throws Exception {
    writeLog(dir, 40);
    Path last = files().get(files().size() - 1);
    byte[] b = Files.readAllBytes(last);
    List<String> l = lines(last);
    long lastSeq = seqOf(l.get(l.size() - 1));
    Files.write(last, java.util.Arrays.copyOf(b, b.length - 30));
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(fail.seq()).isEqualTo(lastSeq);
  }

  @Test
  void tamper_truncateTailAtRecordBoundary_detectedByAnchorAndByRequireClosed() throws Exception {
    writeLog(dir, 40);
    String anchor = anchors.get(anchors.size() - 1);
    Path last = files().get(files().size() - 1);
    List<String> l = lines(last);
    long firstRemoved = seqOf(l.get(l.size() - 3));
    write(last, l.subList(0, l.size() - 3));
    AuditVerifier.Failure fail =
        failure(
            AuditVerifier.newBuilder(signing.getPublic()).chainKey(genesis).anchor(anchor).build());
    assertThat(fail.problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(fail.seq()).isEqualTo(firstRemoved);
    AuditVerifier.Failure closed =
        failure(
            AuditVerifier.newBuilder(signing.getPublic())
                .chainKey(genesis)
                .requireClosed(true)
                .build());
    assertThat(closed.problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(closed.seq()).isEqualTo(firstRemoved);
  }

  @Test
  void tamper_truncateMiddle_truncatedRecordNamed() throws Exception {
    writeLog(dir, 40);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 3);
    long seq = seqOf(l.get(i));
    byte[] b = Files.readAllBytes(f);
    String text = new String(b, UTF_8);
    int start = text.indexOf(l.get(i)) + 40;
    int end = text.indexOf(l.get(i + 3)) + 60;
    Files.writeString(f, text.substring(0, start) + text.substring(end), UTF_8);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(fail.seq()).isEqualTo(seq);
    assertThat(fail.line()).isEqualTo(i + 1);
  }

  @Test
  void tamper_replaceWholeFile_firstRecordOfFileNamed(@TempDir Path other) throws Exception {
    writeLog(dir, 60);
    // A log written with other keys, to the same shape: an attacker's stand-in for file 2.
    byte[] otherGenesis = AuditKeys.newSecretKey();
    try (ChainedFileSink fake =
        ChainedFileSink.newBuilder(other)
            .genesisKey(otherGenesis)
            .signingKey(AuditKeys.newSigningKeyPair())
            .checkpointEvery(10, Duration.ofHours(1))
            .rotateAt(8 * 1024, Duration.ofDays(1))
            .build()) {
      for (int i = 0; i < 60; i += 5) {
        fake.write(List.of(event(i), event(i + 1), event(i + 2), event(i + 3), event(i + 4)));
      }
    }
    Path target = files().get(1);
    Path replacement = LogFiles.list(other).get(1);
    long firstSeq = seqOf(lines(target).get(0));
    List<String> forged = lines(replacement);
    Files.writeString(target, String.join("\n", forged) + "\n", UTF_8);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.file()).isEqualTo(target.getFileName().toString());
    assertThat(fail.line()).isEqualTo(1);
    assertThat(fail.seq()).isEqualTo(firstSeq);
    assertThat(fail.problem()).isIn(Problem.EDITED, Problem.DELETED, Problem.INSERTED);
  }

  @Test
  void tamper_deleteWholeFile_deletedNamed() throws Exception {
    writeLog(dir, 60);
    Path victim = files().get(1);
    long firstSeq = seqOf(lines(victim).get(0));
    Files.delete(victim);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.DELETED);
    assertThat(fail.seq()).isEqualTo(firstSeq);
  }

  @Test
  void tamper_forgeCheckpointWithStolenChainKey_badSignatureNamed() throws Exception {
    writeLog(dir, 40);
    Path last = files().get(files().size() - 1);
    List<String> l = lines(last);
    int i = l.size() - 1; // the CLOSE checkpoint
    String line = l.get(i);
    Frame f = Frame.parse(line.getBytes(UTF_8));
    assertThat(f.checkpoint).isTrue();
    // An insider with this epoch's chain key rewrites the checkpoint and re-MACs it, but has
    // to sign with a key of their own.
    KeyPair mine = AuditKeys.newSigningKeyPair();
    String body = line.substring(0, f.bodyLength);
    AuditRecord.Builder rec = AuditRecord.newBuilder();
    JsonFormat.parser().merge(line, rec);
    Checkpoint cp = rec.getCheckpoint();
    String forgedTime = "2030-01-01T00:00:00.000Z";
    String sig =
        Checkpoints.sign(
            mine.getPrivate(),
            Checkpoints.canonical(
                f.seq, f.epoch, f.prev, cp.getReason().name(), forgedTime, 0, cp.getKeyId(), ""));
    body = body.replace(cp.getTime(), forgedTime).replace(cp.getSignature(), sig);
    Mac mac = Crypto.hmac(Crypto.keyForEpoch(genesis, f.epoch));
    String tag = Crypto.HEX.formatHex(mac.doFinal(body.getBytes(UTF_8)));
    l.set(i, body + ",\"mac\":\"" + tag + "\"}");
    write(last, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.BAD_SIGNATURE);
    assertThat(fail.seq()).isEqualTo(f.seq);
  }

  @Test
  void tamper_rewriteOldRecordWithCurrentKey_forwardSecurityDetects() throws Exception {
    writeLog(dir, 40);
    // The intruder reads the key state file: the current epoch's key only.
    String[] state = Files.readString(dir.resolve("chain.key")).trim().split(" ", -1);
    byte[] stolen = Crypto.HEX.parseHex(state[2]);
    Path f = files().get(0);
    List<String> l = lines(f);
    int i = eventLine(l, 2);
    String line = l.get(i);
    Frame fr = Frame.parse(line.getBytes(UTF_8));
    String body = line.substring(0, fr.bodyLength).replace("corr-", "evil-");
    String tag = Crypto.HEX.formatHex(Crypto.hmac(stolen).doFinal(body.getBytes(UTF_8)));
    l.set(i, body + ",\"mac\":\"" + tag + "\"}");
    write(f, l);
    AuditVerifier.Failure fail = failure(verifier());
    assertThat(fail.problem()).isEqualTo(Problem.EDITED);
    assertThat(fail.seq()).isEqualTo(fr.seq);
  }

  // ------------------------------------------------------------ recovery and keys

  @Test
  void reopen_tornTail_truncatesRecordsRecoveryAndKeepsEvidence() throws Exception {
    ChainedFileSink sink = open(dir);
    sink.write(List.of(event(1), event(2)));
    sink.sync();
    long next = sink.nextSequence();
    // Simulate a kill mid-write: half a record at the end, never closed.
    Path f = files().get(files().size() - 1);
    byte[] torn = "{\"seq\":99,\"epoch\":1,\"prev\":\"abc".getBytes(UTF_8);
    Files.write(f, torn, java.nio.file.StandardOpenOption.APPEND);
    try (ChainedFileSink reopened = open(dir)) {
      assertThat(reopened.nextSequence()).isEqualTo(next + 1);
      reopened.write(List.of(event(3)));
    }
    List<String> l = lines(files().get(files().size() - 1));
    String recovered =
        l.stream().filter(x -> x.contains("\"RECOVERED\"")).findFirst().orElseThrow();
    AuditRecord.Builder rec = AuditRecord.newBuilder();
    JsonFormat.parser().merge(recovered, rec);
    assertThat(rec.getCheckpoint().getTruncatedBytes()).isEqualTo(torn.length);
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      assertThat(s.anyMatch(p -> p.getFileName().toString().contains(".torn-"))).isTrue();
    }
    assertThat(verifier().verify(dir).ok()).isTrue();
  }

  @Test
  void reopen_cleanClose_resumedCheckpoint() throws Exception {
    writeLog(dir, 7);
    try (ChainedFileSink s = open(dir)) {
      s.write(List.of(event(8)));
    }
    String all = Files.readString(files().get(files().size() - 1));
    assertThat(all).contains("\"RESUMED\"").doesNotContain("\"RECOVERED\"");
    assertThat(
            AuditVerifier.newBuilder(signing.getPublic())
                .chainKey(genesis)
                .requireClosed(true)
                .build()
                .verify(dir)
                .ok())
        .isTrue();
  }

  @Test
  void open_logWithoutKeyState_refused() throws Exception {
    writeLog(dir, 3);
    Files.delete(dir.resolve("chain.key"));
    assertThatThrownBy(() -> open(dir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("key state");
  }

  @Test
  void build_missingKeys_refused(@TempDir Path fresh) {
    assertThatThrownBy(() -> ChainedFileSink.newBuilder(fresh).genesisKey(genesis).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signingKey");
    assertThatThrownBy(() -> ChainedFileSink.newBuilder(fresh).signingKey(signing).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("genesisKey");
  }

  @Test
  void auditKeys_roundTrip(@TempDir Path keys) throws Exception {
    AuditKeys.main(new String[] {keys.toString()});
    byte[] k = AuditKeys.readSecretKey(keys.resolve("chain-genesis.key"));
    assertThat(k).hasSize(32);
    KeyPair kp =
        AuditKeys.readSigningKeyPair(
            keys.resolve("checkpoint-signing.key"), keys.resolve("checkpoint-signing.pub"));
    byte[] data = "x".getBytes(UTF_8);
    assertThat(Checkpoints.verify(kp.getPublic(), data, Checkpoints.sign(kp.getPrivate(), data)))
        .isTrue();
  }

  /** A clock the test moves. */
  static final class MutableClock extends java.time.Clock {
    volatile java.time.Instant now = java.time.Instant.parse("2026-03-04T05:06:07.008Z");

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }

  @Test
  void rotateAndCheckpoint_byTime_newFileAndIntervalCheckpoint() throws Exception {
    MutableClock clock = new MutableClock();
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(genesis)
            .signingKey(signing)
            .checkpointEvery(1_000_000, Duration.ofMinutes(1))
            .rotateAt(1L << 40, Duration.ofHours(1))
            .onSealed(sealed::add)
            .clock(clock)
            .build()) {
      sink.write(List.of(event(1)));
      long epoch = sink.epoch();
      clock.now = clock.now.plus(Duration.ofMinutes(2));
      sink.idle(); // the writer's idle tick: interval checkpoint
      assertThat(sink.epoch()).isEqualTo(epoch + 1);
      assertThat(files()).hasSize(1);
      clock.now = clock.now.plus(Duration.ofHours(2));
      sink.write(List.of(event(2)));
      assertThat(files()).hasSize(2);
      assertThat(sealed).containsExactly(files().get(0));
    }
    assertThat(Files.readString(files().get(0))).contains("\"INTERVAL\"").contains("\"ROTATE\"");
    assertThat(verifier().verify(dir).ok()).isTrue();
  }

  @Test
  void write_nonAsciiAndLargeBatch_framedAsUtf8AndVerifies() throws Exception {
    AuditEvent unicode =
        event(1).toBuilder()
            .setActor(
                dev.hipaagrpc.audit.proto.Actor.newBuilder()
                    .setSubject("dr.m\u00fcller")
                    .setTenant("\u6f22\u5b57 \uD83D\uDE00 \u2028"))
            .build();
    List<AuditEvent> big = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      big.add(i == 250 ? unicode : event(i));
    }
    try (ChainedFileSink sink = open(dir)) {
      sink.write(big); // ~200 KB: the batch buffer grows
    }
    assertThat(verifier().verify(dir).ok()).isTrue();
    boolean found = false;
    for (Path f : files()) {
      for (String line : lines(f)) {
        AuditRecord.Builder b = AuditRecord.newBuilder();
        JsonFormat.parser().merge(line, b);
        if (b.hasEvent() && b.getEvent().getActor().getSubject().equals("dr.m\u00fcller")) {
          assertThat(b.getEvent()).isEqualTo(unicode);
          found = true;
        }
      }
    }
    assertThat(found).isTrue();
  }
}
