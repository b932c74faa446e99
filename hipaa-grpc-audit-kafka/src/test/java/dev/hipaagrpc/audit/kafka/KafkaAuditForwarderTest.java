package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.audit.ChainedFileSink;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The forwarder against a real KRaft broker on loopback (one for the class). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class KafkaAuditForwarderTest {

  private static KafkaBrokerProcess broker;
  private static final AtomicInteger topics = new AtomicInteger();

  @TempDir Path tmp;

  @BeforeAll
  static void startBroker(@TempDir Path dir) throws Exception {
    broker = KafkaBrokerProcess.start(dir.resolve("kafka"));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  private static String newTopic() throws Exception {
    String t = "audit-" + topics.incrementAndGet();
    broker.createTopic(t, 1);
    return t;
  }

  private KafkaAuditForwarder.Builder forwarder(TestLogs log, String topic) {
    return KafkaAuditForwarder.newBuilder(log.dir, topic)
        .bootstrapServers(broker.bootstrapServers())
        .allowInsecurePlaintext(true)
        .pollInterval(Duration.ofMillis(50))
        .deliveryTimeout(Duration.ofSeconds(3));
  }

  private static ShippingReport receive(TestLogs log, String topic) throws Exception {
    ShippedLogVerifier v =
        ShippedLogVerifier.newBuilder()
            .origin(log.origin(), log.signing.getPublic(), log.genesis)
            .build();
    return KafkaAuditReceiver.newBuilder(topic, v)
        .bootstrapServers(broker.bootstrapServers())
        .allowInsecurePlaintext(true)
        .build()
        .readToEnd(Duration.ofSeconds(30));
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }

  private static long shippedSeq(Path positionFile) {
    try {
      ShippingPosition p = ShippingPosition.read(positionFile);
      return p == null ? -1 : p.seq;
    } catch (IOException e) {
      return -1;
    }
  }

  private static long lastSeq(TestLogs log) throws IOException {
    List<byte[]> lines = log.lines();
    return AuditLine.parse(lines.get(lines.size() - 1)).seq();
  }

  @Test
  void closedLog_everyRecordAndNoteShipped_receiverVerifies() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(200);
    String topic = newTopic();
    long last = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      Path pos = log.dir.resolve("shipping.position");
      await(() -> shippedSeq(pos) == last, "every record is acknowledged");
    }
    ShippingReport r = receive(log, topic);
    assertThat(r.ok()).as(r.toJson()).isTrue();
    ShippingReport.OriginReport o = r.origins().get(0);
    assertThat(o.records()).isEqualTo(last + 1);
    assertThat(o.duplicatesDropped()).isZero();
    assertThat(o.notesVerified()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void receiverCli_printsReport_exitCodeSaysWhetherEveryOriginVerified() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(30);
    String topic = newTopic();
    long last = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      Path pos = log.dir.resolve("shipping.position");
      await(() -> shippedSeq(pos) == last, "every record is acknowledged");
    }
    Path pub = tmp.resolve("signing.pub");
    Path chain = tmp.resolve("chain.key");
    Path otherPub = tmp.resolve("other.pub");
    dev.hipaagrpc.audit.AuditKeys.writePublicKey(pub, log.signing.getPublic());
    dev.hipaagrpc.audit.AuditKeys.writeSecretKey(chain, log.genesis);
    dev.hipaagrpc.audit.AuditKeys.writePublicKey(
        otherPub, dev.hipaagrpc.audit.AuditKeys.newSigningKeyPair().getPublic());
    String[] base = {
      "--bootstrap-servers",
      broker.bootstrapServers(),
      "--topic",
      topic,
      "--insecure-plaintext",
      "--timeout-seconds",
      "30",
      "--origin",
      log.origin()
    };
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.PrintStream ps = new java.io.PrintStream(out, true, UTF_8);
    int ok =
        KafkaAuditReceiver.run(
            concat(base, "--public-key", pub.toString(), "--chain-key", chain.toString()), ps, ps);
    assertThat(ok).as(out.toString(UTF_8)).isZero();
    assertThat(out.toString(UTF_8)).contains("\"ok\": true").contains("\"events\": 30");
    int bad = KafkaAuditReceiver.run(concat(base, "--public-key", otherPub.toString()), ps, ps);
    assertThat(bad).isEqualTo(1);
    int usage = KafkaAuditReceiver.run(new String[] {"--topic", topic}, ps, ps);
    assertThat(usage).isEqualTo(2);
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void brokerDown_positionStays_lagReported_retentionDeferred_thenCatchesUp() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    List<Path> deleted = new CopyOnWriteArrayList<>();
    ShippingRetentionGate gate = ShippingRetentionGate.create(pos, deleted::add);
    AtomicLong failures = new AtomicLong();
    AtomicLong lagRecords = new AtomicLong();
    AtomicLong acked = new AtomicLong();
    ShippingMetrics metrics =
        new ShippingMetrics() {
          @Override
          public void lag(long records, long bytes) {
            lagRecords.set(records);
          }

          @Override
          public void acknowledged(int records, long epochMillis) {
            acked.addAndGet(records);
          }

          @Override
          public void sendFailed() {
            failures.incrementAndGet();
          }
        };
    long all;
    try (ChainedFileSink sink =
            ChainedFileSink.newBuilder(log.dir)
                .genesisKey(log.genesis)
                .signingKey(log.signing)
                .checkpointEvery(10, Duration.ofHours(1))
                .rotateAt(8 * 1024, Duration.ofDays(1))
                .onSealed(gate)
                .build();
        KafkaAuditForwarder f = forwarder(log, topic).metrics(metrics).build()) {
      f.start();
      TestLogs.write(sink, 0, 50);
      long first = lastSeq(log);
      await(() -> shippedSeq(pos) == first, "the first records are acknowledged");
      broker.stop(false);
      try {
        TestLogs.write(sink, 50, 150); // the writer never waits for the broker
        long during = shippedSeq(pos);
        await(() -> failures.get() > 0, "a send fails while the broker is down");
        assertThat(shippedSeq(pos)).isEqualTo(during).isLessThan(lastSeq(log));
        await(() -> lagRecords.get() > 0, "the lag is reported");
        // Files sealed while the broker was down are held back from retention.
        assertThat(gate.deferred()).isNotEmpty();
        for (Path d : deleted) {
          assertThat(gate.shipped(d)).isTrue();
        }
      } finally {
        broker.restart();
      }
      all = lastSeq(log);
      long caughtUp = all;
      await(() -> shippedSeq(pos) == caughtUp, "the forwarder catches up after the outage");
      gate.retryDeferred();
      assertThat(gate.deferred()).isEmpty();
      await(() -> lagRecords.get() == 0, "the lag is back to zero");
    }
    ShippingReport r = receive(log, topic);
    assertThat(r.ok()).as(r.toJson()).isTrue();
    assertThat(r.origins().get(0).records()).isEqualTo(all + 1);
    assertThat(acked.get()).isGreaterThanOrEqualTo(all + 1);
  }

  @Test
  void restart_resumesFromPosition_noGap() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    long b;
    try (ChainedFileSink sink = log.open()) {
      TestLogs.write(sink, 0, 60);
      long a = lastSeq(log);
      try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
        f.start();
        await(() -> shippedSeq(pos) == a, "the first part is acknowledged");
      }
      TestLogs.write(sink, 60, 60);
      b = lastSeq(log);
      try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
        f.start();
        await(() -> shippedSeq(pos) == b, "the rest is acknowledged");
      }
    }
    ShippingReport r = receive(log, topic);
    assertThat(r.ok()).as(r.toJson()).isTrue();
    assertThat(r.origins().get(0).records()).isEqualTo(b + 1);
    assertThat(r.origins().get(0).gaps()).isEmpty();
  }

  @Test
  void editedLogAtPosition_refusedAtStart() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(40);
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    long last = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      await(() -> shippedSeq(pos) == last, "shipped");
    }
    // Same length, other bytes: an edit of the record last shipped.
    List<Path> files = AuditLine.logFiles(log.dir);
    Path newest = files.get(files.size() - 1);
    String s = Files.readString(newest, UTF_8);
    int i = s.lastIndexOf("\"time\":\"") + 8;
    Files.writeString(newest, s.substring(0, i) + "1999" + s.substring(i + 4), UTF_8);
    KafkaAuditForwarder again = forwarder(log, topic).build();
    assertThatThrownBy(again::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no longer holds the record last shipped");
  }

  @Test
  void tornPartialLastLine_notShipped() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    try (ChainedFileSink sink = log.open()) {
      TestLogs.write(sink, 0, 23);
      long complete = lastSeq(log);
      List<Path> files = AuditLine.logFiles(log.dir);
      Path newest = files.get(files.size() - 1);
      byte[] partial =
          ("{\"seq\":" + (complete + 1) + ",\"epoch\":9,\"prev\":\"00").getBytes(UTF_8);
      Files.write(newest, partial, StandardOpenOption.APPEND);
      try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
        f.start();
        await(() -> shippedSeq(pos) == complete, "the complete lines are acknowledged");
        ShippingPosition p = ShippingPosition.read(pos);
        assertThat(p.end).isEqualTo(Files.size(newest) - partial.length);
      }
      // The sink would now fail its own next append; crash recovery handles the torn tail.
      try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
        c.truncate(Files.size(newest) - partial.length);
      }
    }
    ShippingReport r = receive(log, topic);
    ShippingReport.OriginReport o = r.origins().get(0);
    assertThat(o.errorCount()).as(o.errors().toString()).isZero();
    assertThat(o.lastSeq()).isGreaterThanOrEqualTo(23);
  }

  @Test
  void logCutBackByCrashRecovery_fileShippedAgain_receiverReportsConflicts() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    ChainedFileSink crashed = log.open();
    TestLogs.write(crashed, 0, 25); // ... seq 22 INTERVAL checkpoint, 23-27 events
    long shipped = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      await(() -> shippedSeq(pos) == shipped, "shipped before the crash");
    }
    // An OS crash loses the unsynced tail: the file ends in the middle of seq 25's line.
    List<Path> files = AuditLine.logFiles(log.dir);
    Path newest = files.get(files.size() - 1);
    byte[] all = Files.readAllBytes(newest);
    int cut = 0;
    for (int n = 0, i = all.length - 2; i >= 0; i--) {
      if (all[i] == '\n' && ++n == 3) {
        cut = i + 1 + 20;
        break;
      }
    }
    try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
      c.truncate(cut);
    }
    try (ChainedFileSink recovered = log.open()) { // RECOVERED at seq 25, the tail moved aside
      TestLogs.write(recovered, 100, 5);
    }
    try (java.util.stream.Stream<Path> names = Files.list(log.dir)) {
      assertThat(names.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains(".torn-"));
    }
    long after = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start(); // ships the file again from its start instead of refusing
      await(() -> shippedSeq(pos) == after, "shipped after recovery");
    }
    ShippingReport r = receive(log, topic);
    ShippingReport.OriginReport o = r.origins().get(0);
    assertThat(r.ok()).isFalse();
    assertThat(o.conflictSeqs()).contains(shipped - 2, shipped - 1, shipped);
    assertThat(o.duplicatesDropped()).isGreaterThan(0);
    assertThat(o.gaps()).isEmpty();
  }

  @Test
  void crashRecovery_thenFailedSend_startsAgainFromTheFileStart_noFragmentShipped()
      throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    ChainedFileSink crashed = log.open();
    TestLogs.write(crashed, 0, 25);
    long shipped = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      await(() -> shippedSeq(pos) == shipped, "shipped before the crash");
    }
    cutInsideThirdLastLine(log);
    try (ChainedFileSink recovered = log.open()) {
      TestLogs.write(recovered, 100, 5);
    }
    long after = lastSeq(log);
    AtomicLong failures = new AtomicLong();
    broker.stop(false); // down when the forwarder restarts: its first send fails
    try (KafkaAuditForwarder f = forwarder(log, topic).metrics(failureCounter(failures)).build()) {
      try {
        f.start();
        await(() -> failures.get() > 0, "the first send after recovery fails");
      } finally {
        broker.restart();
      }
      await(() -> shippedSeq(pos) == after, "shipped after recovery and the outage");
      assertThat(f.failure()).isNull();
    }
    ShippingReport r = receive(log, topic);
    ShippingReport.OriginReport o = r.origins().get(0);
    assertThat(o.errors()).as(r.toJson()).noneMatch(e -> e.contains("not a framed"));
    assertThat(o.lastSeq()).isEqualTo(after);
    assertThat(o.gaps()).isEmpty();
    assertThat(o.conflictSeqs()).contains(shipped - 2, shipped - 1, shipped);
  }

  @Test
  void fileCutAndRegrownBetweenPolls_chainChecked_notShippedFromTheStaleOffset() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    ChainedFileSink crashed = log.open();
    TestLogs.write(crashed, 0, 14); // one file: recovery writes it past the shipped offset
    long shipped = lastSeq(log);
    try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
      f.start();
      await(() -> shippedSeq(pos) == shipped, "shipped before the crash");
      // Cut back and grown again past the shipped offset while the forwarder runs, without it
      // ever seeing the file shorter (recovered in a copy, renamed over): the line at its offset
      // is a fragment now.
      Path scratch = tmp.resolve("scratch");
      Files.createDirectories(scratch);
      try (java.util.stream.Stream<Path> names = Files.list(log.dir)) {
        for (Path x : (Iterable<Path>) names::iterator) {
          Files.copy(x, scratch.resolve(x.getFileName()));
        }
      }
      TestLogs copy = new TestLogs(scratch, log.genesis, log.signing);
      cutInsideThirdLastLine(copy);
      try (ChainedFileSink recovered = copy.open()) {
        TestLogs.write(recovered, 100, 5);
      }
      List<Path> moved = new java.util.ArrayList<>();
      try (java.util.stream.Stream<Path> names = Files.list(scratch)) {
        names.filter(x -> x.getFileName().toString().contains(".torn-")).forEach(moved::add);
      }
      moved.addAll(AuditLine.logFiles(scratch));
      for (Path x : moved) {
        Files.move(
            x,
            log.dir.resolve(x.getFileName()),
            java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      long after = lastSeq(log);
      await(() -> shippedSeq(pos) == after, "shipped after recovery");
      assertThat(f.failure()).isNull();
    }
    ShippingReport r = receive(log, topic);
    ShippingReport.OriginReport o = r.origins().get(0);
    assertThat(o.errors()).as(r.toJson()).noneMatch(e -> e.contains("not a framed"));
    assertThat(o.gaps()).isEmpty();
  }

  @Test
  void recordEditedAfterThePosition_whileRunning_stopsShipping() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    try (ChainedFileSink sink = log.open()) {
      TestLogs.write(sink, 0, 3);
      long first = lastSeq(log);
      try (KafkaAuditForwarder f =
          forwarder(log, topic).pollInterval(Duration.ofSeconds(1)).build()) {
        f.start();
        await(() -> shippedSeq(pos) == first, "the first records are acknowledged");
        // A line appended that does not chain to the record last shipped (its prev is zeros).
        List<Path> files = AuditLine.logFiles(log.dir);
        Path newest = files.get(files.size() - 1);
        String forged =
            "{\"seq\":"
                + (first + 1)
                + ",\"epoch\":0,\"prev\":\""
                + "0".repeat(64)
                + "\",\"event\":{},\"mac\":\""
                + "0".repeat(64)
                + "\"}\n";
        Files.writeString(newest, forged, UTF_8, StandardOpenOption.APPEND);
        assertThat(f.awaitTermination(Duration.ofSeconds(60))).isTrue();
        assertThat(f.failure())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("does not continue the record last shipped");
      }
      assertThat(shippedSeq(pos)).isEqualTo(first);
    }
  }

  /** An OS crash loses the unsynced tail: the newest file ends inside its third-last line. */
  private static void cutInsideThirdLastLine(TestLogs log) throws IOException {
    List<Path> files = AuditLine.logFiles(log.dir);
    Path newest = files.get(files.size() - 1);
    byte[] all = Files.readAllBytes(newest);
    int cut = 0;
    for (int n = 0, i = all.length - 2; i >= 0; i--) {
      if (all[i] == '\n' && ++n == 3) {
        cut = i + 1 + 20;
        break;
      }
    }
    try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
      c.truncate(cut);
    }
  }

  private static ShippingMetrics failureCounter(AtomicLong failures) {
    return new ShippingMetrics() {
      @Override
      public void sendFailed() {
        failures.incrementAndGet();
      }
    };
  }

  @Test
  void brokerUnreachable_aRoundStopsAtTheFirstFailedSend() throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log")).writeClosed(20);
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    AtomicLong failures = new AtomicLong();
    AtomicInteger sends = new AtomicInteger();
    try (KafkaAuditForwarder f =
        KafkaAuditForwarder.newBuilder(log.dir, "audit")
            .bootstrapServers("127.0.0.1:" + port)
            .allowInsecurePlaintext(true)
            .deliveryTimeout(Duration.ofSeconds(2))
            .metrics(failureCounter(failures))
            .producerFactory(p -> new CountingProducer(p, sends))
            .build()) {
      f.start();
      await(() -> failures.get() >= 2, "two rounds fail");
      long failed = failures.get();
      // Each failed round sent one record, not the whole batch of 20 (each waiting max.block.ms).
      assertThat(sends.get()).isLessThanOrEqualTo((int) failed + 1);
    }
  }

  /** A real producer that counts its sends. */
  private static final class CountingProducer
      extends org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> {
    private final AtomicInteger sends;

    CountingProducer(Properties p, AtomicInteger sends) {
      super(
          p,
          new org.apache.kafka.common.serialization.ByteArraySerializer(),
          new org.apache.kafka.common.serialization.ByteArraySerializer());
      this.sends = sends;
    }

    @Override
    public java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
        org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> r,
        org.apache.kafka.clients.producer.@org.jspecify.annotations.Nullable Callback callback) {
      sends.incrementAndGet();
      return super.send(r, callback);
    }
  }

  @Test
  void recordTooLargeForTheBroker_stopsShipping_failureNamesTheCauseNotTheContent()
      throws Exception {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    String topic = newTopic();
    Path pos = log.dir.resolve("shipping.position");
    String big = "q".repeat(2 << 20); // over the broker's default message.max.bytes (1 MiB)
    try (ChainedFileSink sink = log.open()) {
      TestLogs.write(sink, 0, 3);
      long first = lastSeq(log);
      try (KafkaAuditForwarder f = forwarder(log, topic).build()) {
        f.start();
        await(() -> shippedSeq(pos) == first, "the small records are acknowledged");
        sink.write(List.of(TestLogs.event(3).toBuilder().setCorrelationId(big).build()));
        assertThat(f.awaitTermination(Duration.ofSeconds(60))).isTrue();
        assertThat(f.failure())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("RecordTooLargeException")
            .hasMessageContaining("max.message.bytes");
        assertThat(f.failure().getMessage()).doesNotContain("qqqqqqqq");
      }
      assertThat(shippedSeq(pos)).isEqualTo(first);
    }
    Properties config =
        KafkaAuditForwarder.newBuilder(log.dir, topic)
            .bootstrapServers("x:1")
            .producerConfig(Duration.ofSeconds(30));
    assertThat(Integer.parseInt(config.getProperty("max.request.size"))).isGreaterThan(16 << 20);
  }

  @Test
  void cli_unknownOptionOrBadNumberOrRefusedConfiguration_usageExitCode() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.PrintStream ps = new java.io.PrintStream(out, true, UTF_8);
    String[] base = {"--dir", tmp.toString(), "--topic", "t", "--bootstrap-servers", "x:1"};
    assertThat(KafkaAuditForwarder.run(concat(base, "--insecure-plaintext", "--bogus", "1"), ps))
        .isEqualTo(64);
    assertThat(out.toString(UTF_8)).contains("unknown argument --bogus");
    assertThat(
            KafkaAuditForwarder.run(
                concat(base, "--insecure-plaintext", "--poll-interval-ms", "often"), ps))
        .isEqualTo(64);
    assertThat(KafkaAuditForwarder.run(base, ps)).isEqualTo(64); // plaintext refused by build()
    assertThat(out.toString(UTF_8)).contains("security.protocol PLAINTEXT");
  }

  @Test
  void build_unsafeSettings_refused() {
    TestLogs log = new TestLogs(tmp.resolve("log"));
    assertThatThrownBy(
            () -> KafkaAuditForwarder.newBuilder(log.dir, "t").bootstrapServers("x:1").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("security.protocol PLAINTEXT");
    for (String[] kv :
        new String[][] {
          {"acks", "1"},
          {"enable.idempotence", "false"},
          {"max.in.flight.requests.per.connection", "6"}
        }) {
      Properties p = new Properties();
      p.put(kv[0], kv[1]);
      assertThatThrownBy(
              () ->
                  KafkaAuditForwarder.newBuilder(log.dir, "t")
                      .bootstrapServers("x:1")
                      .allowInsecurePlaintext(true)
                      .producerProperties(p)
                      .build())
          .as(kv[0])
          .isInstanceOf(IllegalStateException.class);
    }
    assertThatThrownBy(
            () -> KafkaAuditForwarder.newBuilder(log.dir, "t").allowInsecurePlaintext(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bootstrapServers");
    assertThatThrownBy(
            () ->
                KafkaAuditReceiver.newBuilder(
                        "t",
                        ShippedLogVerifier.newBuilder()
                            .origin("o", log.signing.getPublic())
                            .build())
                    .bootstrapServers("x:1")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("security.protocol PLAINTEXT");
  }
}
