package dev.hipaagrpc.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.audit.ChainedFileSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipping test of issue 16: three replicas' logs shipped by three forwarder processes while
 * the broker is stopped and restarted and forwarders are SIGKILLed and restarted (one of them after
 * the broker acknowledged records it had not persisted yet); the receiver verifies every origin
 * with no gap and no conflict, drops the duplicates, and counts the events written.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ShippingTest {

  private static final int REPLICAS = 3;
  private static final String TOPIC = "audit";

  @TempDir Path tmp;

  @Test
  void threeReplicas_brokerRestartAndForwarderKills_receiverVerifiesEveryOrigin() throws Exception {
    List<TestLogs> logs = new ArrayList<>();
    List<ChainedFileSink> sinks = new ArrayList<>();
    Process[] forwarders = new Process[REPLICAS];
    int[] written = new int[REPLICAS];
    try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(tmp.resolve("kafka"))) {
      broker.createTopic(TOPIC, 3);
      for (int r = 0; r < REPLICAS; r++) {
        TestLogs log = new TestLogs(tmp.resolve("replica-" + r));
        logs.add(log);
        sinks.add(log.open());
      }
      try {
        for (int r = 0; r < REPLICAS; r++) {
          forwarders[r] = startForwarder(logs.get(r), broker, r);
        }
        writeAll(sinks, written, 100);
        for (int r = 0; r < REPLICAS; r++) {
          awaitShipped(logs.get(r), 60);
        }
        // Replica 0's forwarder will "crash" after an acknowledgement it did not persist.
        Path pos0 = position(logs.get(0));
        Path older = tmp.resolve("older.position");
        Files.copy(pos0, older);

        writeAll(sinks, written, 100);
        kill(forwarders[0]);
        kill(forwarders[1]);
        writeAll(sinks, written, 50);
        Files.copy(older, pos0, StandardCopyOption.REPLACE_EXISTING);
        forwarders[0] = startForwarder(logs.get(0), broker, 0);
        forwarders[1] = startForwarder(logs.get(1), broker, 1);

        broker.stop(false);
        writeAll(sinks, written, 100); // calls go on: the local log is the durable copy
        kill(forwarders[2]);
        writeAll(sinks, written, 50);
        awaitLogged("send failed", 0, 1);
        broker.restart();
        forwarders[2] = startForwarder(logs.get(2), broker, 2);

        writeAll(sinks, written, 100);
      } finally {
        for (ChainedFileSink s : sinks) {
          s.close();
        }
      }
      for (int r = 0; r < REPLICAS; r++) {
        awaitShipped(logs.get(r), 90);
      }
      for (Process p : forwarders) {
        kill(p);
      }

      ShippedLogVerifier.Builder vb = ShippedLogVerifier.newBuilder();
      for (TestLogs log : logs) {
        vb.origin(log.origin(), log.signing.getPublic(), log.genesis);
      }
      ShippingReport report =
          KafkaAuditReceiver.newBuilder(TOPIC, vb.build())
              .bootstrapServers(broker.bootstrapServers())
              .allowInsecurePlaintext(true)
              .build()
              .readToEnd(Duration.ofSeconds(60));
      System.out.println(report.toJson());
      assertThat(report.ok()).as(report.toJson()).isTrue();
      long duplicates = 0;
      for (int r = 0; r < REPLICAS; r++) {
        ShippingReport.OriginReport o = report.origins().get(r);
        assertThat(o.origin()).isEqualTo(logs.get(r).origin());
        assertThat(o.gaps()).isEmpty();
        assertThat(o.conflicts()).isZero();
        assertThat(o.events()).isEqualTo(written[r]);
        assertThat(o.records()).isEqualTo(logs.get(r).lines().size());
        assertThat(o.notesVerified()).isPositive();
        duplicates += o.duplicatesDropped();
      }
      assertThat(report.origins().get(0).duplicatesDropped()).isPositive();
      assertThat(duplicates).isPositive();
    } finally {
      for (Process p : forwarders) {
        kill(p);
      }
    }
  }

  private static void writeAll(List<ChainedFileSink> sinks, int[] written, int n) throws Exception {
    for (int r = 0; r < sinks.size(); r++) {
      TestLogs.write(sinks.get(r), written[r], n);
      written[r] += n;
    }
  }

  private static Path position(TestLogs log) {
    return log.dir.resolve("shipping.position");
  }

  private void awaitShipped(TestLogs log, int seconds) throws Exception {
    List<byte[]> lines = log.lines();
    long last = dev.hipaagrpc.audit.AuditLine.parse(lines.get(lines.size() - 1)).seq();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      ShippingPosition p = ShippingPosition.read(position(log));
      if (p != null && p.seq == last) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "not shipped in time: " + p + " of " + last + " in " + log.dir.getFileName());
      }
      Thread.sleep(100);
    }
  }

  private Process startForwarder(TestLogs log, KafkaBrokerProcess broker, int r) throws Exception {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx96m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            KafkaBrokerProcess.testClassPath(),
            KafkaAuditForwarder.class.getName(),
            "--dir",
            log.dir.toString(),
            "--topic",
            TOPIC,
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--poll-interval-ms",
            "50",
            // Short, so that sends fail during the outage and are sent again from the position.
            "--delivery-timeout-ms",
            "2000",
            "--insecure-plaintext");
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(
            ProcessBuilder.Redirect.appendTo(tmp.resolve("forwarder-" + r + ".log").toFile()))
        .start();
  }

  /** Waits until one of the named forwarders' logs says {@code what} (bounded). */
  private void awaitLogged(String what, int... replicas) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      StringBuilder logs = new StringBuilder();
      for (int r : replicas) {
        Path f = tmp.resolve("forwarder-" + r + ".log");
        String s = Files.exists(f) ? Files.readString(f) : "";
        if (s.contains(what)) {
          return;
        }
        logs.append("--- forwarder ").append(r).append(":\n").append(s);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no forwarder logged '" + what + "':\n" + logs);
      }
      Thread.sleep(100);
    }
  }

  private static void kill(Process p) throws InterruptedException {
    if (p != null && p.isAlive()) {
      p.destroyForcibly(); // SIGKILL
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
