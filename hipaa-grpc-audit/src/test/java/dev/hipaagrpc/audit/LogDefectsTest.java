package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditVerifier.Problem;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The defects of issue 17, each reproduced against the unfixed code first. */
class LogDefectsTest {

  @TempDir Path dir;
  private final byte[] genesis = AuditKeys.newSecretKey();
  private final KeyPair signing = AuditKeys.newSigningKeyPair();
  private final List<String> anchors = new ArrayList<>();

  private ChainedFileSink.Builder builder() {
    return ChainedFileSink.newBuilder(dir)
        .genesisKey(genesis)
        .signingKey(signing)
        .checkpointEvery(10, Duration.ofHours(1))
        .rotateAt(8 * 1024, Duration.ofDays(1))
        .onCheckpoint(anchors::add);
  }

  private void writeLog(int n) throws IOException {
    try (ChainedFileSink sink = builder().build()) {
      for (int i = 0; i < n; i += 5) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 5); j++) {
          batch.add(ChainedFileSinkTest.event(j));
        }
        sink.write(batch);
      }
    }
  }

  private AuditVerifier.Builder verifier() {
    return AuditVerifier.newBuilder(signing.getPublic()).chainKey(genesis);
  }

  private static Frame frame(String line) {
    return Frame.parse(line.getBytes(UTF_8));
  }

  // ------------------------------------------------------------ pruned head

  @Test
  void prunedHead_forgedWithCurrentKey_refusedUnlessVouchedByAnchor() throws Exception {
    writeLog(80);
    List<Path> files = LogFiles.list(dir);
    assertThat(files).hasSizeGreaterThan(2);
    // Retention removed the oldest file; its ROTATE checkpoint went off the host as an anchor.
    String firstRetained = Files.readAllLines(files.get(1), UTF_8).get(0);
    Files.delete(files.get(0));
    Frame head = frame(firstRetained);
    String rotate =
        anchors.stream().filter(a -> frame(a).seq == head.seq - 1).findFirst().orElseThrow();

    AuditVerifier.Result vouched =
        verifier().allowPrunedHead(true).anchor(rotate).build().verify(dir);
    assertThat(vouched.ok()).as("%s", vouched.failure()).isTrue();

    AuditVerifier.Result unvouched = verifier().allowPrunedHead(true).build().verify(dir);
    assertThat(unvouched.ok()).isFalse();
    assertThat(unvouched.failure().problem()).isEqualTo(Problem.DELETED);
    assertThat(unvouched.failure().seq()).isEqualTo(head.seq);
    assertThat(unvouched.failure().file()).isEqualTo(files.get(1).getFileName().toString());

    // An intruder holding the current chain key (and the signing key) replaces what is retained
    // by a history of their own at the current epoch, linked to the genuine first prev.
    String[] state = Files.readString(dir.resolve("chain.key")).trim().split(" ", -1);
    long currentEpoch = Long.parseLong(state[1]);
    byte[] stolen = Crypto.HEX.parseHex(state[2]);
    for (Path f : LogFiles.list(dir)) {
      Files.delete(f);
    }
    RecordEncoder enc = new RecordEncoder();
    enc.prevHash(head.prev);
    enc.reset();
    for (int i = 0; i < 5; i++) {
      EventJson.append(
          enc.start(head.seq + i, currentEpoch, false), ChainedFileSinkTest.event(900 + i));
      enc.finish(Crypto.hmac(stolen));
    }
    ByteBuffer bb = enc.bytes();
    byte[] forged = new byte[bb.remaining()];
    bb.get(forged);
    Files.write(LogFiles.fileFor(dir, head.seq), forged);

    AuditVerifier.Result noAnchor = verifier().allowPrunedHead(true).build().verify(dir);
    assertThat(noAnchor.ok()).as("a forged head without a vouching checkpoint").isFalse();
    AuditVerifier.Result withAnchor =
        verifier().allowPrunedHead(true).anchor(rotate).build().verify(dir);
    assertThat(withAnchor.ok()).as("a forged head against the anchor").isFalse();
    assertThat(withAnchor.failure().seq()).isEqualTo(head.seq);
  }

  // ------------------------------------------------------------ resume behind the key state

  @Test
  void resume_tailCutAtCheckpointBoundary_refusedAndNothingWritten() throws Exception {
    writeLog(25);
    Path last = LogFiles.list(dir).get(LogFiles.list(dir).size() - 1);
    List<String> l = Files.readAllLines(last, UTF_8);
    // Cut the CLOSE checkpoint and the INTERVAL checkpoint before it, with what lies between.
    int cut = -1;
    int seen = 0;
    for (int i = l.size() - 1; i >= 0; i--) {
      if (frame(l.get(i)).checkpoint && ++seen == 2) {
        cut = i;
        break;
      }
    }
    assertThat(cut).isPositive();
    Files.writeString(last, String.join("\n", l.subList(0, cut)) + "\n", UTF_8);
    long size = Files.size(last);
    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("behind its key state");
    assertThat(Files.size(last)).as("nothing appended").isEqualTo(size);
  }

  @Test
  void resume_keyStateRestoredFromOlderCopy_refusedAndNoRecordMovedAside() throws Exception {
    byte[] oldState;
    try (ChainedFileSink sink = builder().build()) {
      sink.write(List.of(ChainedFileSinkTest.event(1)));
      oldState = Files.readAllBytes(dir.resolve("chain.key"));
      for (int i = 0; i < 30; i++) {
        sink.write(List.of(ChainedFileSinkTest.event(10 + i)));
      }
    }
    Files.write(dir.resolve("chain.key"), oldState);
    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("key state");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.noneMatch(p -> p.getFileName().toString().contains(".torn-"))).isTrue();
    }
    assertThat(verifier().requireClosed(true).build().verify(dir).ok()).isTrue();
  }

  // ------------------------------------------------------------ a failed checkpoint

  @Test
  void checkpointFails_afterBatchWritten_batchRecordedOnce() throws Exception {
    ChainedFileSink sink = builder().checkpointEvery(3, Duration.ofHours(1)).build();
    // The key state cannot be replaced while its temporary file's name is a non-empty
    // directory: the next checkpoint's key evolution fails after the batch was appended.
    Path blocker = dir.resolve("chain.key.tmp");
    Files.createDirectories(blocker.resolve("x"));
    AuditDispatcher dispatcher = AuditDispatcher.newBuilder(sink).maxBatch(4).build();
    try {
      for (int i = 0; i < 4; i++) {
        assertThat(dispatcher.submit(ChainedFileSinkTest.event(i))).isTrue();
      }
      Await.until(
          "the first checkpoint failed",
          () -> dispatcher.sinkFailures() > 0 || dispatcher.writtenEvents() >= 4);
      Files.delete(blocker.resolve("x"));
      Files.delete(blocker);
      for (int i = 4; i < 8; i++) {
        assertThat(dispatcher.submit(ChainedFileSinkTest.event(i))).isTrue();
      }
      Await.until("all written", () -> dispatcher.writtenEvents() >= 8);
    } finally {
      dispatcher.close();
    }
    Map<String, Integer> count = new HashMap<>();
    for (Path f : LogFiles.list(dir)) {
      for (String line : Files.readAllLines(f, UTF_8)) {
        int at = line.indexOf("\"eventId\":\"");
        if (at >= 0) {
          count.merge(line.substring(at + 11, at + 43), 1, Integer::sum);
        }
      }
    }
    assertThat(count).hasSize(8);
    assertThat(count.values()).as("each event once").containsOnly(1);
    AuditVerifier.Result r = verifier().requireClosed(true).build().verify(dir);
    assertThat(r.ok()).as("%s", r.failure()).isTrue();
  }

  @Test
  void syncFails_afterBatchWritten_onlyTheSyncIsRetried() throws Exception {
    AtomicInteger syncFailures = new AtomicInteger(1);
    TestSinks.Collecting sink =
        new TestSinks.Collecting() {
          @Override
          public void sync() throws IOException {
            if (syncFailures.getAndDecrement() > 0) {
              throw new IOException("fsync failed");
            }
            super.sync();
          }
        };
    AuditDispatcher dispatcher =
        AuditDispatcher.newBuilder(sink).durableBeforeResponse(true).build();
    try {
      assertThat(dispatcher.submit(ChainedFileSinkTest.event(1))).isTrue();
      Await.until("synced", () -> sink.syncs.get() >= 1);
    } finally {
      dispatcher.close();
    }
    assertThat(dispatcher.sinkFailures()).isEqualTo(1);
    assertThat(sink.snapshot()).hasSize(1);
  }

  // ------------------------------------------------------------ errors name the file

  @Test
  void verifierCli_badKeyFileAndUnreadableLogFile_errorsNameTheFile() throws Exception {
    writeLog(12);
    Path pub = dir.resolveSibling(dir.getFileName() + "-pub.pem");
    Files.writeString(pub, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        AuditVerifierCli.run(
            new String[] {"--dir", dir.toString(), "--public-key", pub.toString()},
            System.out,
            new PrintStream(err, true, UTF_8));
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains(pub.toString()).contains("PUBLIC KEY");

    AuditKeys.writePublicKey(pub.resolveSibling("good.pub"), signing.getPublic());
    Path bogus = LogFiles.fileFor(dir, 999_999);
    Files.createDirectory(bogus);
    err.reset();
    rc =
        AuditVerifierCli.run(
            new String[] {
              "--dir", dir.toString(), "--public-key", pub.resolveSibling("good.pub").toString()
            },
            System.out,
            new PrintStream(err, true, UTF_8));
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains(bogus.getFileName().toString());
  }

  @Test
  void verify_emptyDirectory_failureNamesTheDirectory(@TempDir Path empty) throws Exception {
    AuditVerifier.Result r = verifier().build().verify(empty);
    assertThat(r.ok()).isFalse();
    assertThat(r.failure().file()).isEqualTo(empty.toString());
  }
}
