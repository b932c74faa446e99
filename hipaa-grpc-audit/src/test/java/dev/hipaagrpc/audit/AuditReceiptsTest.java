package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Receipts (tlog-proof inclusion proofs) and consistency proofs from the log's tiles. */
class AuditReceiptsTest {

  @TempDir Path dir;
  private final KeyPair signing = AuditKeys.newSigningKeyPair();
  private final List<String> notes = new ArrayList<>();

  @BeforeEach
  void writeLog() throws IOException {
    try (ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.newSecretKey())
            .signingKey(signing)
            .checkpointEvery(50, Duration.ofHours(1))
            .rotateAt(64 * 1024, Duration.ofDays(1))
            .onCheckpointNote(notes::add)
            .build()) {
      for (int i = 0; i < 700; i += 7) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int j = i; j < i + 7; j++) {
          batch.add(ChainedFileSinkTest.event(j));
        }
        sink.write(batch);
      }
    }
  }

  private static long size(String note) {
    return SignedNotes.checkpoint(SignedNotes.parse(note).text()).size();
  }

  private static byte[] root(String note) {
    return SignedNotes.checkpoint(SignedNotes.parse(note).text()).root();
  }

  @Test
  void receipt_everyRecord_verifiesOfflineWithThePublicKeyOnly() throws Exception {
    long size = size(Files.readString(dir.resolve("checkpoint")));
    assertThat(size).isGreaterThan(700);
    for (long seq = 0; seq < size; seq += 37) {
      String receipt = AuditReceipts.create(dir, seq);
      assertThat(receipt).startsWith("c2sp.org/tlog-proof@v1\nextra ");
      AuditReceipts.Verified v = AuditReceipts.verify(receipt, signing.getPublic());
      assertThat(v.seq()).isEqualTo(seq);
      assertThat(v.treeSize()).isEqualTo(size);
      assertThat(v.record()).startsWith("{\"seq\":" + seq + ",");
    }
  }

  @Test
  void receipt_tampered_refusedSayingWhy() throws Exception {
    String receipt = AuditReceipts.forEvent(dir, String.format("%032d", 123));
    AuditReceipts.Verified v = AuditReceipts.verify(receipt, signing.getPublic());
    assertThat(v.record()).contains(String.format("%032d", 123));

    // Another record in place of the proven one.
    String[] l = receipt.split("\n", -1);
    String other =
        Base64.getEncoder()
            .encodeToString(
                new String(Base64.getDecoder().decode(l[1].substring(6)), UTF_8)
                    .replace("corr-123", "corr-124")
                    .getBytes(UTF_8));
    l[1] = "extra " + other;
    assertThatThrownBy(() -> AuditReceipts.verify(String.join("\n", l), signing.getPublic()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inclusion proof");
    // Another log's key.
    assertThatThrownBy(
            () -> AuditReceipts.verify(receipt, AuditKeys.newSigningKeyPair().getPublic()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not signed");
    // A proof hash flipped.
    String[] p = receipt.split("\n", -1);
    p[3] = Base64.getEncoder().encodeToString(new byte[32]);
    assertThatThrownBy(() -> AuditReceipts.verify(String.join("\n", p), signing.getPublic()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void consistencyProof_betweenEveryPairOfCheckpoints_verifies() {
    assertThat(notes).hasSizeGreaterThan(10);
    for (int i = 0; i < notes.size(); i += 3) {
      for (int j = i; j < notes.size(); j += 4) {
        long m = size(notes.get(i));
        long n = size(notes.get(j));
        List<byte[]> proof = AuditReceipts.consistencyProof(dir, m, n);
        assertThat(Merkle.verifyConsistency(m, n, root(notes.get(i)), root(notes.get(j)), proof))
            .as("%d -> %d", m, n)
            .isTrue();
      }
    }
  }

  /** Runs the CLI; returns its exit code and what it printed. */
  private static Object[] cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc = AuditVerifierCli.run(args, new PrintStream(out, true, UTF_8), System.err);
    return new Object[] {rc, out.toString(UTF_8)};
  }

  @Test
  void cli_makeAndCheckReceipt_exitCodes() throws Exception {
    Path pub = dir.resolveSibling(dir.getFileName() + ".pub");
    AuditKeys.writePublicKey(pub, signing.getPublic());
    Object[] made = cli("receipt", "--dir", dir.toString(), "--seq", "42");
    assertThat(made[0]).isEqualTo(0);
    Path receipt = dir.resolveSibling(dir.getFileName() + ".tlog-proof");
    Files.writeString(receipt, (String) made[1], UTF_8);
    String[] check = {"receipt", "--check", receipt.toString(), "--public-key", pub.toString()};
    Object[] ok = cli(check);
    assertThat(ok[0]).isEqualTo(0);
    assertThat((String) ok[1]).startsWith("OK: record seq 42 is in the log hipaagrpc.dev/");
    // The same receipt claiming another index.
    Files.writeString(receipt, ((String) made[1]).replace("\nindex 42\n", "\nindex 43\n"), UTF_8);
    Object[] bad = cli(check);
    assertThat(bad[0]).isEqualTo(1);
    assertThat((String) bad[1]).startsWith("FAILED: ");
  }
}
