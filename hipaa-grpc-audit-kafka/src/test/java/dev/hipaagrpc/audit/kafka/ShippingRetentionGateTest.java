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

    // File 0's last record, its ROTATE seal: still held, since a forwarder restarted now resumes
    // from that line and would find it gone.
    shippedUpTo(position, log, secondFirst - 1);
    gate.retryDeferred();
    assertThat(deleted).isEmpty();

    shippedUpTo(position, log, secondFirst); // the first record of file 1
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

  @Test
  void positionOfAnotherLog_shipsNothing() throws Exception {
    TestLogs other = new TestLogs(tmp.resolve("other")).writeClosed(200);
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(200);
    Path position = tmp.resolve("shipping.position");
    // A stale position: far into the other log, whose file names this log has too.
    shippedUpTo(position, other, AuditLine.firstSeq(AuditLine.logFiles(other.dir).get(3)) + 1);
    List<Path> deleted = new ArrayList<>();
    ShippingRetentionGate gate = ShippingRetentionGate.create(position, deleted::add);
    Path first = AuditLine.logFiles(log.dir).get(0);
    assertThat(gate.shipped(first)).isFalse();
    gate.accept(first);
    assertThat(deleted).isEmpty();
    // The same position against its own log ships the files before it.
    assertThat(gate.shipped(AuditLine.logFiles(other.dir).get(0))).isTrue();
  }

  @Test
  void withAnExecutor_theHookNeverRunsOnTheSealingThread() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(200);
    List<Path> files = AuditLine.logFiles(log.dir);
    Path position = tmp.resolve("shipping.position");
    shippedUpTo(position, log, AuditLine.firstSeq(files.get(2)));
    java.util.concurrent.ExecutorService executor =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.CountDownLatch handed = new java.util.concurrent.CountDownLatch(2);
      ShippingRetentionGate gate =
          ShippingRetentionGate.create(
              position,
              f -> {
                threads.add(Thread.currentThread().getName());
                handed.countDown();
              },
              executor);
      gate.accept(files.get(0));
      gate.accept(files.get(1));
      assertThat(handed.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(threads).hasSize(2).doesNotContain(Thread.currentThread().getName());
    } finally {
      executor.shutdownNow();
    }
  }
}
