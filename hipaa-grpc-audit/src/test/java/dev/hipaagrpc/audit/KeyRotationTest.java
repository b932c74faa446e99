package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditVerifier.Problem;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint signing key lifecycle: a rotation recorded in the log, and refusal without one. */
class KeyRotationTest {

  @TempDir Path dir;
  private final byte[] genesis = AuditKeys.newSecretKey();
  private final KeyPair oldKey = AuditKeys.newSigningKeyPair();
  private final KeyPair newKey = AuditKeys.newSigningKeyPair();
  private int next;

  private ChainedFileSink.Builder builder(KeyPair key) {
    return ChainedFileSink.newBuilder(dir)
        .genesisKey(genesis)
        .signingKey(key)
        .checkpointEvery(10, Duration.ofHours(1));
  }

  private void write(ChainedFileSink.Builder b, int n) throws IOException {
    try (ChainedFileSink sink = b.build()) {
      for (int i = 0; i < n; i++) {
        List<AuditEvent> batch = new ArrayList<>();
        batch.add(ChainedFileSinkTest.event(next++));
        sink.write(batch);
      }
    }
  }

  private long seqOf(String reason) throws IOException {
    for (Path f : LogFiles.list(dir)) {
      for (String l : Files.readAllLines(f, UTF_8)) {
        if (l.contains("\"reason\":\"" + reason + "\"")) {
          return Frame.parse(l.getBytes(UTF_8)).seq;
        }
      }
    }
    return -1;
  }

  @Test
  void rotation_recordedHandOver_verifiesAcrossItWithTheOldKeyOnly() throws Exception {
    write(builder(oldKey), 25);
    write(builder(newKey).rotateSigningKeyFrom(oldKey), 25);
    write(builder(newKey).rotateSigningKeyFrom(oldKey), 5); // already rotated: no second one
    long handOver = seqOf("KEY_ROTATION");
    assertThat(handOver).isPositive();

    AuditVerifier.Result r =
        AuditVerifier.newBuilder(oldKey.getPublic())
            .chainKey(genesis)
            .requireClosed(true)
            .build()
            .verify(dir);
    assertThat(r.ok()).as("%s", r.failure()).isTrue();
    assertThat(r.signingKeys()).hasSize(2);
    assertThat(r.signingKeys().get(1).key().getEncoded())
        .isEqualTo(newKey.getPublic().getEncoded());
    assertThat(r.signingKeys().get(1).fromSeq()).isEqualTo(handOver + 1);
    assertThat(r.notesVerified()).as("the note is signed by the new key").isEqualTo(1);
    long rotations =
        Files.readAllLines(LogFiles.list(dir).get(0), UTF_8).stream()
            .filter(l -> l.contains("KEY_ROTATION"))
            .count();
    assertThat(rotations).isEqualTo(1);

    // The new key alone cannot vouch for the checkpoints before the hand-over.
    AuditVerifier.Result fromNew =
        AuditVerifier.newBuilder(newKey.getPublic()).chainKey(genesis).build().verify(dir);
    assertThat(fromNew.failure().problem()).isEqualTo(Problem.BAD_SIGNATURE);
    assertThat(fromNew.failure().seq()).isZero();
  }

  @Test
  void rotation_handOverNotSignedByTheOldKey_badSignature() throws Exception {
    write(builder(oldKey), 15);
    KeyPair stranger = AuditKeys.newSigningKeyPair();
    // Someone with a key of their own claims the hand-over: the sink refuses, it is not the key
    // that signed the log.
    assertThatThrownBy(() -> builder(newKey).rotateSigningKeyFrom(stranger).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("rotateSigningKeyFrom");
  }

  @Test
  void keyChange_unrecorded_refusedAtStart_orLoudOptInWithExplicitHistory() throws Exception {
    write(builder(oldKey), 15);
    long size = Files.size(LogFiles.list(dir).get(0));
    assertThatThrownBy(() -> builder(newKey).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signing key");
    assertThat(Files.size(LogFiles.list(dir).get(0))).as("nothing written").isEqualTo(size);

    write(builder(newKey).allowUnrecordedSigningKeyChange(true), 15);
    long firstNew = seqOf("RESUMED");
    AuditVerifier.Result plain =
        AuditVerifier.newBuilder(oldKey.getPublic()).chainKey(genesis).build().verify(dir);
    assertThat(plain.failure().problem()).isEqualTo(Problem.BAD_SIGNATURE);
    assertThat(plain.failure().seq()).isEqualTo(firstNew);

    AuditVerifier.Result withHistory =
        AuditVerifier.newBuilder(oldKey.getPublic())
            .chainKey(genesis)
            .signingKeyFrom(firstNew, newKey.getPublic())
            .build()
            .verify(dir);
    assertThat(withHistory.ok()).as("%s", withHistory.failure()).isTrue();
  }
}
