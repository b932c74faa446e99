package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.audit.ChainedFileSink;
import dev.hipaagrpc.audit.kafka.KafkaAuditForwarder;
import dev.hipaagrpc.audit.kafka.KafkaBrokerProcess;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Shipping lag and throughput of {@link KafkaAuditForwarder} against a real KRaft broker on
 * loopback ({@link KafkaBrokerProcess}, a JVM of its own): not a JMH benchmark but a harness, since
 * what matters is the distribution of the time from a record being written (and synced) to the
 * local log to it being consumed from the topic.
 *
 * <ol>
 *   <li><b>Lag at a steady rate</b>: one writer appends batches of 20 events (each batch synced, as
 *       the dispatcher's group commit does) at {@code -Dbench.rate} events/s (default 2,000) for
 *       {@code -Dbench.seconds} (default 20); a consumer reads the topic; per record, lag =
 *       consumed time − written time. Percentiles over the records after the first second.
 *   <li><b>Catch-up throughput</b>: {@code -Dbench.backlog} events (default 200,000) written first
 *       with the broker up but no forwarder; then a forwarder starts and ships the backlog; records
 *       per second until the position reaches the last record.
 * </ol>
 *
 * <pre>
 * mvn -B -ntp -o -q -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/benchmarks.jar dev.hipaagrpc.benchmarks.ShippingLagBenchmark
 * </pre>
 */
public final class ShippingLagBenchmark {

  private ShippingLagBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rate = Integer.getInteger("bench.rate", 2000);
    int seconds = Integer.getInteger("bench.seconds", 20);
    int backlog = Integer.getInteger("bench.backlog", 200_000);
    long pollMs = Long.getLong("bench.pollMs", 200);
    Path tmp = Files.createTempDirectory("shipping-bench");
    try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(tmp.resolve("kafka"))) {
      broker.createTopic("lag", 1);
      broker.createTopic("backlog", 1);
      steadyLag(broker, tmp.resolve("lag-log"), rate, seconds, pollMs);
      catchUp(broker, tmp.resolve("backlog-log"), backlog, pollMs);
    } finally {
      deleteTree(tmp);
    }
  }

  private static ChainedFileSink sink(Path dir) throws Exception {
    return ChainedFileSink.newBuilder(dir)
        .genesisKey(AuditKeys.newSecretKey())
        .signingKey(AuditKeys.newSigningKeyPair())
        .build();
  }

  private static KafkaAuditForwarder forwarder(
      KafkaBrokerProcess broker, Path dir, String topic, long pollMs) {
    return KafkaAuditForwarder.newBuilder(dir, topic)
        .bootstrapServers(broker.bootstrapServers())
        .allowInsecurePlaintext(true) // loopback broker of the benchmark
        .pollInterval(Duration.ofMillis(pollMs))
        .build();
  }

  private static List<AuditEvent> batch(int from, int n) {
    List<AuditEvent> b = new ArrayList<>(n);
    for (int i = from; i < from + n; i++) {
      b.add(
          AuditEvent.newBuilder()
              .setSchema("hipaagrpc.audit/1")
              .setEventId(String.format("%032x", i))
              .setType(AuditEvent.Type.CALL)
              .setTime("2026-12-02T07:00:00.000Z")
              .setCorrelationId("c" + i)
              .build());
    }
    return b;
  }

  private static void steadyLag(
      KafkaBrokerProcess broker, Path dir, int rate, int seconds, long pollMs) throws Exception {
    ConcurrentHashMap<Long, Long> writtenAt = new ConcurrentHashMap<>();
    long[] lags = new long[rate * seconds + 1024];
    int[] count = {0};
    long start;
    try (ChainedFileSink sink = sink(dir);
        KafkaAuditForwarder f = forwarder(broker, dir, "lag", pollMs);
        KafkaConsumer<byte[], byte[]> c = consumer(broker, "lag")) {
      f.start();
      int batch = 20;
      long intervalNanos = TimeUnit.SECONDS.toNanos(1) * batch / rate;
      start = System.nanoTime();
      long next = start;
      int written = 0;
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        long seq0 = sink.nextSequence();
        sink.write(batch(written, batch));
        sink.sync();
        long now = System.nanoTime();
        for (long s = seq0; s < sink.nextSequence(); s++) {
          writtenAt.put(s, now);
        }
        written += batch;
        next += intervalNanos;
        drain(c, writtenAt, lags, count, start);
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
      long last = sink.nextSequence() - 1;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!writtenAt.isEmpty() && System.nanoTime() < deadline) {
        drain(c, writtenAt, lags, count, start);
        if (!writtenAt.containsKey(last) && writtenAt.keySet().stream().allMatch(k -> k > last)) {
          break;
        }
      }
      long[] l = Arrays.copyOf(lags, count[0]);
      Arrays.sort(l);
      System.out.printf(
          "steady lag: %d events/s for %d s (batches of %d, each synced), poll %d ms,"
              + " %d records measured: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n",
          rate,
          seconds,
          batch,
          pollMs,
          l.length,
          pct(l, 0.50),
          pct(l, 0.90),
          pct(l, 0.99),
          l.length == 0 ? 0 : l[l.length - 1] / 1e6);
    }
  }

  private static void drain(
      KafkaConsumer<byte[], byte[]> c,
      ConcurrentHashMap<Long, Long> writtenAt,
      long[] lags,
      int[] count,
      long start) {
    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ZERO)) {
      long now = System.nanoTime();
      AuditLine l = AuditLine.parse(r.value());
      if (l == null) {
        continue; // a checkpoint note
      }
      Long at = writtenAt.remove(l.seq());
      if (at != null && at - start > TimeUnit.SECONDS.toNanos(1) && count[0] < lags.length) {
        lags[count[0]++] = now - at;
      }
    }
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
  }

  private static void catchUp(KafkaBrokerProcess broker, Path dir, int backlog, long pollMs)
      throws Exception {
    long last;
    try (ChainedFileSink sink = sink(dir)) {
      for (int i = 0; i < backlog; i += 100) {
        sink.write(batch(i, 100));
      }
      sink.sync();
      last = sink.nextSequence() - 1;
    }
    last++; // the CLOSE checkpoint
    long bytes;
    try (Stream<Path> s = Files.list(dir)) {
      bytes =
          s.filter(p -> p.getFileName().toString().endsWith(".jsonl"))
              .mapToLong(p -> p.toFile().length())
              .sum();
    }
    long t0 = System.nanoTime();
    try (KafkaAuditForwarder f = forwarder(broker, dir, "backlog", pollMs)) {
      f.start();
      Path pos = dir.resolve("shipping.position");
      long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
      while (System.nanoTime() < deadline) {
        if (Files.exists(pos) && Files.readString(pos).contains(" " + last + " ")) {
          break;
        }
        Thread.sleep(20);
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "catch-up: %d records (%.1f MiB) shipped and acknowledged in %.2f s: %.0f records/s,"
            + " %.1f MiB/s%n",
        last + 1, bytes / 1048576.0, secs, (last + 1) / secs, bytes / 1048576.0 / secs);
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaBrokerProcess broker, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
    KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    TopicPartition tp = new TopicPartition(topic, 0);
    c.assign(List.of(tp));
    c.seekToBeginning(List.of(tp));
    return c;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      // A temporary directory: best effort.
    }
  }
}
