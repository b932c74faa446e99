package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.audit.AuditVerifier.Problem;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Witnesses on loopback: cosigning, refusing inconsistent checkpoints, a 2-of-3 policy. */
class WitnessTest {

  private static final String ORIGIN = "audit.clinic.example/records-1";

  @TempDir Path tmp;
  private Path dir;
  private final byte[] genesis = AuditKeys.newSecretKey();
  private final KeyPair signing = AuditKeys.newSigningKeyPair();
  private final List<WitnessServer> servers = new ArrayList<>();
  private WitnessPolicy policy;
  private WitnessClient client;
  private int next;

  @BeforeEach
  void setUp() throws IOException {
    dir = tmp.resolve("log");
    List<WitnessPolicy.Witness> ws = new ArrayList<>();
    for (String n : List.of("witness-a.example", "witness-b.example", "witness-c.example")) {
      KeyPair k = AuditKeys.newSigningKeyPair();
      WitnessServer s =
          WitnessServer.newBuilder(n, k, tmp.resolve(n))
              .trustLog(ORIGIN, signing.getPublic())
              .build();
      servers.add(s);
      ws.add(new WitnessPolicy.Witness(n, k.getPublic(), s.url()));
    }
    // Through the text form, as an operator writes it.
    StringBuilder text = new StringBuilder("# two of three\nquorum 2\n");
    for (int i = 0; i < 3; i++) {
      text.append("witness ")
          .append(WitnessPolicy.vkey(ws.get(i).name(), ws.get(i).key()))
          .append(' ')
          .append(servers.get(i).url())
          .append('\n');
    }
    policy = WitnessPolicy.parse(text.toString());
    client =
        WitnessClient.newBuilder(dir)
            .witnesses(policy)
            .backoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    servers.forEach(WitnessServer::close);
  }

  /** Writes n events in one session (open, write, close) with the witness client wired. */
  private long session(int n) throws Exception {
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(genesis)
            .signingKey(signing)
            .origin(ORIGIN)
            .checkpointEvery(20, Duration.ofHours(1))
            .onCheckpointNote(client::submit)
            .build()) {
      for (int i = 0; i < n; i += 5) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int j = 0; j < 5; j++) {
          batch.add(ChainedFileSinkTest.event(next++));
        }
        sink.write(batch);
      }
    }
    long size =
        SignedNotes.checkpoint(
                SignedNotes.parse(Files.readString(dir.resolve("checkpoint"))).text())
            .size();
    Await.until(
        "the three witnesses cosigned size " + size,
        () -> {
          Path f = dir.resolve("cosigned/" + size);
          try {
            return Files.isRegularFile(f)
                && policy.cosigners(
                        SignedNotes.parse(Files.readString(f)).text(),
                        List.of(SignedNotes.parse(Files.readString(f))))
                    == 3;
          } catch (IOException e) {
            return false;
          }
        });
    return size;
  }

  /** What an auditor fetches from the witnesses, off the log's host. */
  private AuditVerifier.Builder verifierWithWitnesses(int witnesses) throws Exception {
    AuditVerifier.Builder b =
        AuditVerifier.newBuilder(signing.getPublic())
            .chainKey(genesis)
            .origin(ORIGIN)
            .witnessPolicy(policy);
    for (int i = 0; i < witnesses; i++) {
      b.checkpointNote(WitnessClient.fetchLatest(servers.get(i).url(), ORIGIN));
    }
    return b;
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static void delete(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void twoOfThree_genuineLog_verifies_andOneCosignatureIsNotEnough() throws Exception {
    session(60);
    AuditVerifier.Result r = verifierWithWitnesses(3).build().verify(dir);
    assertThat(r.ok()).as("%s", r.failure()).isTrue();

    // One witness's word alone, and no cosigned files on the host: the policy is not met.
    delete(dir.resolve("cosigned"));
    AuditVerifier.Result one = verifierWithWitnesses(1).build().verify(dir);
    assertThat(one.ok()).isFalse();
    assertThat(one.failure().problem()).isEqualTo(Problem.BAD_SIGNATURE);
    assertThat(one.failure().detail()).contains("2 of 3");
  }

  @Test
  void verifierCli_witnessPolicyAndFetchedNotes_exitCodes() throws Exception {
    session(40);
    Path pub = tmp.resolve("log.pub");
    AuditKeys.writePublicKey(pub, signing.getPublic());
    Path policyFile = tmp.resolve("witnesses.policy");
    StringBuilder text = new StringBuilder("quorum 2\n");
    for (WitnessPolicy.Witness w : policy.witnesses()) {
      text.append("witness ").append(WitnessPolicy.vkey(w.name(), w.key())).append('\n');
    }
    Files.writeString(policyFile, text.toString(), UTF_8);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--dir",
                dir.toString(),
                "--public-key",
                pub.toString(),
                "--witness-policy",
                policyFile.toString(),
                "--origin",
                ORIGIN));
    for (int i = 0; i < 2; i++) {
      Path n = tmp.resolve("witnessed-" + i);
      Files.writeString(n, WitnessClient.fetchLatest(servers.get(i).url(), ORIGIN), UTF_8);
      args.add("--checkpoint-note");
      args.add(n.toString());
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int rc =
        AuditVerifierCli.run(
            args.toArray(new String[0]), new java.io.PrintStream(out, true, UTF_8), System.err);
    assertThat(rc).as(out.toString(UTF_8)).isZero();
    // Cut the tail together with what the host holds about it: the witnesses' notes tell.
    Path last = LogFiles.list(dir).get(LogFiles.list(dir).size() - 1);
    List<String> l = Files.readAllLines(last, UTF_8);
    Files.writeString(last, String.join("\n", l.subList(0, l.size() - 3)) + "\n", UTF_8);
    Files.delete(dir.resolve("checkpoint"));
    out.reset();
    rc =
        AuditVerifierCli.run(
            args.toArray(new String[0]), new java.io.PrintStream(out, true, UTF_8), System.err);
    assertThat(rc).isEqualTo(1);
    assertThat(out.toString(UTF_8)).contains("TRUNCATED");
  }

  @Test
  void twoOfThree_rollbackToEarlierCopy_detected() throws Exception {
    session(40);
    Path snapshot = tmp.resolve("snapshot");
    copy(dir, snapshot);
    session(40); // the log grows; the witnesses cosign the larger tree
    delete(dir);
    copy(snapshot, dir); // someone restores the earlier copy, cosigned files and all
    // A genuine, earlier, closed log: without the witnesses it verifies.
    assertThat(
            AuditVerifier.newBuilder(signing.getPublic())
                .chainKey(genesis)
                .requireClosed(true)
                .build()
                .verify(dir)
                .ok())
        .isTrue();
    servers.get(2).close(); // one witness is down: two of three still decide
    AuditVerifier.Result r = verifierWithWitnesses(2).build().verify(dir);
    assertThat(r.ok()).isFalse();
    assertThat(r.failure().problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(r.failure().detail()).contains("checkpoint note");
  }

  @Test
  void twoOfThree_tailTruncatedWithItsNotes_detected() throws Exception {
    session(60);
    Path last = LogFiles.list(dir).get(LogFiles.list(dir).size() - 1);
    List<String> l = Files.readAllLines(last, UTF_8);
    int cut = l.size() - 12;
    long firstRemoved = Frame.parse(l.get(cut).getBytes(UTF_8)).seq;
    Files.writeString(last, String.join("\n", l.subList(0, cut)) + "\n", UTF_8);
    // The intruder also removes what on the host would betray the cut.
    Files.delete(dir.resolve("checkpoint"));
    delete(dir.resolve("cosigned"));
    AuditVerifier.Result r = verifierWithWitnesses(2).build().verify(dir);
    assertThat(r.ok()).isFalse();
    assertThat(r.failure().problem()).isEqualTo(Problem.TRUNCATED);
    assertThat(r.failure().seq()).isEqualTo(firstRemoved);
  }

  private static HttpResponse<String> post(WitnessServer s, String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(s.url() + "/add-checkpoint"))
                .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
                .build(),
            HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  @Test
  void witnessOnLoopback_inconsistentCheckpoint_refusedAndStateKept() throws Exception {
    long size = session(40);
    WitnessServer w = servers.get(0);
    String before = WitnessClient.fetchLatest(w.url(), ORIGIN);

    // A fork: the log's key signs a bigger tree that does not extend the cosigned one.
    byte[] forkRoot = Merkle.nodeHash(new byte[32], new byte[32]);
    String fork =
        SignedNotes.sign(
            SignedNotes.checkpointText(ORIGIN, size + 5, forkRoot),
            ORIGIN,
            signing.getPrivate(),
            signing.getPublic());
    StringBuilder proof = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      proof.append(Base64.getEncoder().encodeToString(new byte[32])).append('\n');
    }
    HttpResponse<String> r = post(w, "old " + size + "\n" + proof + "\n" + fork);
    assertThat(r.statusCode()).isEqualTo(422);

    // The wrong old size: 409 with the size it cosigned.
    HttpResponse<String> conflict = post(w, "old 3\n" + proof + "\n" + fork);
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(conflict.headers().firstValue("Content-Type")).hasValue("text/x.tlog.size");
    assertThat(conflict.body()).isEqualTo(size + "\n");

    // Signed by another key: 403; another log: 404; old above the size: 400.
    KeyPair other = AuditKeys.newSigningKeyPair();
    String text = SignedNotes.checkpointText(ORIGIN, size + 5, forkRoot);
    assertThat(
            post(
                    w,
                    "old "
                        + size
                        + "\n\n"
                        + SignedNotes.sign(text, ORIGIN, other.getPrivate(), other.getPublic()))
                .statusCode())
        .isEqualTo(403);
    String elsewhere =
        SignedNotes.sign(
            SignedNotes.checkpointText("other.example/log", 1, forkRoot),
            "other.example/log",
            signing.getPrivate(),
            signing.getPublic());
    assertThat(post(w, "old 0\n\n" + elsewhere).statusCode()).isEqualTo(404);
    assertThat(post(w, "old " + (size + 9) + "\n\n" + fork).statusCode()).isEqualTo(400);

    assertThat(WitnessClient.fetchLatest(w.url(), ORIGIN)).isEqualTo(before);
  }
}
