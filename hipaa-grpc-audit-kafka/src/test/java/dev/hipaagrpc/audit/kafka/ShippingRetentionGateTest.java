package dev.hipaagrpc.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Retention never gets a file whose records the broker has not all acknowledged. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShippingRetentionGateTest {

  @TempDir Path tmp;

  /** A position as the forwarder persists it after the line with {@code seq} was acknowledged. */
  private static void shippedUpTo(Path position, TestLogs log, long seq) throws Exception {
    for (Path f : AuditLine.logFiles(log.dir)) {
      byte[] all = Files.readAllBytes(f);
      int start = 0;
      for (int i = 0; i < all.length; i++) {
        if (all[i] == '\n') {
          byte[] line = java.util.Arrays.copyOfRange(all, start, i);
          if (AuditLine.parse(line).seq() == seq) {
            new ShippingPosition(
                    log.origin(),
                    f.getFileName().toString(),
                    seq,
                    i + 1,
                    line.length,
                    KafkaAuditForwarder.sha256(line))
                .write(position);
            return;
          }
          start = i + 1;
        }
      }
    }
    throw new AssertionError("no seq " + seq);
  }

  @Test
  void sealedFiles_handedToRetentionOnlyOnceShipped_inOrder() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(200);
    List<Path> files = AuditLine.logFiles(log.dir);
    assertThat(files).hasSizeGreaterThan(3);
    Path position = tmp.resolve("shipping.position");
    List<Path> deleted = new ArrayList<>();
    ShippingRetentionGate gate = ShippingRetentionGate.create(position, deleted::add);

    gate.accept(files.get(0)); // nothing shipped yet
    assertThat(deleted).isEmpty();
    assertThat(gate.deferred()).containsExactly(files.get(0));

    long secondFirst = AuditLine.firstSeq(files.get(1));
    shippedUpTo(position, log, secondFirst - 2); // file 0 without its ROTATE seal
    gate.accept(files.get(1));
    assertThat(deleted).isEmpty();

    shippedUpTo(position, log, secondFirst - 1); // file 0's last record: its ROTATE seal
    gate.retryDeferred();
    assertThat(deleted).containsExactly(files.get(0));
    assertThat(gate.deferred()).containsExactly(files.get(1));

    shippedUpTo(position, log, AuditLine.firstSeq(files.get(3)) + 1); // inside file 3
    gate.accept(files.get(2));
    assertThat(deleted).containsExactly(files.get(0), files.get(1), files.get(2));
    assertThat(gate.shipped(files.get(3))).isFalse();
    assertThat(gate.deferred()).isEmpty();
  }

  @Test
  void damagedPositionFile_defersInsteadOfDeleting() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(100);
    Path position = tmp.resolve("shipping.position");
    Files.writeString(position, "garbage\n");
    List<Path> deleted = new ArrayList<>();
    ShippingRetentionGate gate = ShippingRetentionGate.create(position, deleted::add);
    Path first = AuditLine.logFiles(log.dir).get(0);
    gate.accept(first);
    assertThat(deleted).isEmpty();
    assertThat(gate.deferred()).containsExactly(first);
    assertThatThrownBy(() -> gate.shipped(first)).isInstanceOf(IllegalStateException.class);
  }
}
