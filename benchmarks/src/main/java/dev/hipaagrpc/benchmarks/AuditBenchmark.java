package dev.hipaagrpc.benchmarks;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import com.google.protobuf.StringValue;
import dev.hipaagrpc.audit.AuditDispatcher;
import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditServerInterceptor;
import dev.hipaagrpc.audit.ChainedFileSink;
import dev.hipaagrpc.audit.DeliveryPolicy;
import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Authorization;
import dev.hipaagrpc.audit.proto.Outcome;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.audit.proto.Source;
import dev.hipaagrpc.audit.proto.Target;
import dev.hipaagrpc.audit.proto.Traffic;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The audit pipeline under load, against baselines measured in the same run.
 *
 * <ul>
 *   <li>{@code events*}: sustained events per second from 8 threads into the hash-chained, HMAC'd,
 *       signed file ({@link ChainedFileSink}): durable-before-response with group commit (each op
 *       returns only after its event is fsynced), and buffered (written to the OS, synced at
 *       checkpoints). Baseline: the same serialized event through Logback's {@code AsyncAppender}
 *       with default settings (queue 256, discards INFO when 80% full) into a {@code FileAppender}.
 *       At the end of each trial the state prints how many events each path lost: the audit
 *       dispatcher's count, and for Logback submitted minus written.
 *   <li>{@code call*}: the latency distribution (SampleTime; read p99) of one in-process unary call
 *       without interceptors, with the audit interceptor (default: BLOCK, buffered), and with
 *       durable-before-response.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class AuditBenchmark {

  /** A keyed patient identifier in core's format (KeyedIdentifier), as events carry it. */
  static final String PATIENT_ID = "kh1.XHfX_Y9R.GzLCjLOMBUgOzMG9YP-XAptXoFyWcYuW2tfp2EiU9Uk";

  static final AuditEvent EVENT =
      AuditEvent.newBuilder()
          .setSchema("hipaagrpc.audit/1")
          .setEventId("5f0c8a4e2b7d4c1e9a3f6b8d0e2c4a61")
          .setType(AuditEvent.Type.CALL)
          .setTime("2026-03-04T05:06:07.008Z")
          .setCorrelationId("0af7651916cd43dd8448eb211c80319c")
          .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
          .setActor(
              Actor.newBuilder()
                  .setSubject("dr.house")
                  .setKind("USER")
                  .addRoles("clinician")
                  .setAuthMethod("BEARER_TOKEN")
                  .setCredentialFingerprint("f3a9c2d1e0b4a5968778695a4b3c2d1e")
                  .setIssuer("https://idp.example.org"))
          .setSource(Source.newBuilder().setAddress("10.1.2.3"))
          .setTarget(
              Target.newBuilder()
                  .setService("records.v1.PatientService")
                  .setMethod("GetPatient")
                  .setAction("read")
                  .setMethodType("UNARY"))
          .setResource(Resource.newBuilder().setType("Patient").setPatientHmac(PATIENT_ID))
          .setOutcome(Outcome.newBuilder().setStatus("OK"))
          .setAuthorization(
              Authorization.newBuilder()
                  .setDecision("ALLOW")
                  .setRuleId("clinician-read")
                  .setPolicyVersion("2026-03-01")
                  .setPurposeOfUse("TREAT"))
          .setMaskedFields(2)
          .setTraffic(
              Traffic.newBuilder()
                  .setRequestMessages(1)
                  .setRequestBytes(44)
                  .setResponseMessages(1)
                  .setResponseBytes(812))
          .setLatencyMicros(412)
          .build();

  /** The same event as one JSON line, for the Logback baseline. */
  static final String EVENT_JSON =
      "{\"schema\":\"hipaagrpc.audit/1\",\"eventId\":\"5f0c8a4e2b7d4c1e9a3f6b8d0e2c4a61\","
          + "\"type\":\"CALL\",\"time\":\"2026-03-04T05:06:07.008Z\",\"correlationId\":"
          + "\"0af7651916cd43dd8448eb211c80319c\",\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
          + "\"actor\":{\"subject\":\"dr.house\",\"kind\":\"USER\",\"roles\":[\"clinician\"],"
          + "\"authMethod\":\"BEARER_TOKEN\",\"credentialFingerprint\":"
          + "\"f3a9c2d1e0b4a5968778695a4b3c2d1e\",\"issuer\":\"https://idp.example.org\"},"
          + "\"source\":{\"address\":\"10.1.2.3\"},\"target\":{\"service\":"
          + "\"records.v1.PatientService\",\"method\":\"GetPatient\",\"action\":\"read\","
          + "\"methodType\":\"UNARY\"},\"resource\":{\"type\":\"Patient\",\"patientHmac\":"
          + "\""
          + PATIENT_ID
          + "\"},"
          + "\"outcome\":{\"status\":\"OK\"},\"authorization\":{\"decision\":\"ALLOW\","
          + "\"ruleId\":\"clinician-read\",\"policyVersion\":\"2026-03-01\",\"purposeOfUse\":"
          + "\"TREAT\"},\"maskedFields\":2,\"traffic\":{\"requestMessages\":1,\"requestBytes\":44,"
          + "\"responseMessages\":1,\"responseBytes\":812},\"latencyMicros\":412}";

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  static AuditDispatcher chained(Path dir, boolean durable) throws IOException {
    ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.newSecretKey())
            .signingKey(AuditKeys.newSigningKeyPair())
            .build();
    return AuditDispatcher.newBuilder(sink)
        .policy(DeliveryPolicy.BLOCK)
        .durableBeforeResponse(durable)
        .build();
  }

  /** A dispatcher into a chained file; prints its counts at the end of the trial. */
  @SuppressWarnings("NullAway.Init") // fields are set in @Setup
  public abstract static class ChainedState {
    Path dir;
    AuditDispatcher dispatcher;

    abstract boolean durable();

    @Setup
    public void setUp() throws IOException {
      dir = tempDir("audit-bench");
      dispatcher = chained(dir, durable());
    }

    @TearDown
    public void tearDown() {
      // Counts only; nothing is closed here, so that no benchmark thread still finishing an
      // operation meets a closed dispatcher (which returns at once and would inflate the score).
      long written = dispatcher.writtenEvents();
      long syncs = dispatcher.syncBatches();
      System.out.printf(
          "%n[audit chained file, durable=%s] events written=%d (+%d queued), fsync batches=%d"
              + " (%.1f events per fsync), LOST=%d%n",
          durable(),
          written,
          dispatcher.queueDepth(),
          syncs,
          syncs == 0 ? 0.0 : (double) written / syncs,
          dispatcher.lostEvents());
      deleteTree(dir); // open files stay valid until the fork exits
    }
  }

  /** Durable before response, group commit. */
  @State(Scope.Benchmark)
  public static class Durable extends ChainedState {
    @Override
    boolean durable() {
      return true;
    }
  }

  /** Buffered: synced at checkpoints. */
  @State(Scope.Benchmark)
  public static class Buffered extends ChainedState {
    @Override
    boolean durable() {
      return false;
    }
  }

  /** Logback AsyncAppender, default settings, into a FileAppender; counts what it drops. */
  @State(Scope.Benchmark)
  @SuppressWarnings("NullAway.Init") // fields are set in @Setup
  public static class Logback {
    Path dir;
    LoggerContext context;
    AsyncAppender async;
    Logger logger;
    final LongAdder submitted = new LongAdder();
    final AtomicLong appended = new AtomicLong();

    @Setup
    public void setUp() {
      dir = tempDir("logback-bench");
      // A context of its own (not the global one), configured as logback.xml would.
      context = new LoggerContext();
      context.setMDCAdapter(new LogbackMDCAdapter());
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(context);
      encoder.setPattern("%msg%n");
      encoder.start();
      FileAppender<ILoggingEvent> file = new FileAppender<>();
      file.setContext(context);
      file.setName("FILE");
      file.setFile(dir.resolve("audit.log").toString());
      file.setEncoder(encoder);
      file.start();
      UnsynchronizedAppenderBase<ILoggingEvent> counting =
          new UnsynchronizedAppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
              file.doAppend(e);
              appended.incrementAndGet();
            }
          };
      counting.setName("COUNTING");
      counting.setContext(context);
      counting.start();
      // Defaults: queueSize 256, discardingThreshold 256/5, neverBlock false.
      async = new AsyncAppender();
      async.setName("ASYNC");
      async.setContext(context);
      async.addAppender(counting);
      async.start();
      logger = context.getLogger("hipaagrpc.audit");
      logger.setAdditive(false);
      logger.setLevel(Level.INFO);
      logger.addAppender(async);
    }

    @TearDown
    public void tearDown() {
      // Counted without stopping the appender (see ChainedState.tearDown): what is still in its
      // queue is neither written nor dropped yet.
      long in = submitted.sum();
      long out = appended.get();
      long queued = async.getNumberOfElementsInQueue();
      long dropped = in - out - queued;
      System.out.printf(
          "%n[logback AsyncAppender defaults] events submitted=%d, written=%d, queued=%d,"
              + " DROPPED=%d (%.1f%%)%n",
          in, out, queued, dropped, in == 0 ? 0.0 : 100.0 * dropped / in);
      deleteTree(dir);
    }
  }

  @Benchmark
  @Threads(8)
  public boolean eventsChainedFileDurableGroupCommit(Durable s) {
    return s.dispatcher.submit(EVENT);
  }

  @Benchmark
  @Threads(8)
  public boolean eventsChainedFileBuffered(Buffered s) {
    return s.dispatcher.submit(EVENT);
  }

  @Benchmark
  @Threads(8)
  public void eventsLogbackAsyncAppenderDefaults(Logback s) {
    s.logger.info(EVENT_JSON);
    s.submitted.increment();
  }

  // ------------------------------------------------------------------ writer CPU per event

  /**
   * An event the size of the example's {@code GetPatient} record (about 1.3 KB framed): two roles,
   * an mTLS peer, a patient, a recorded header.
   */
  static final AuditEvent EXAMPLE_EVENT =
      AuditEvent.newBuilder()
          .setSchema("hipaagrpc.audit/2")
          .setEventId("5f0c8a4e2b7d4c1e9a3f6b8d0e2c4a61")
          .setType(AuditEvent.Type.CALL)
          .setTime("2026-03-04T05:06:07.008Z")
          .setCorrelationId("0af7651916cd43dd8448eb211c80319c")
          .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
          .setActor(
              Actor.newBuilder()
                  .setSubject("dr.house")
                  .setKind("USER")
                  .addRoles("physician")
                  .addRoles("clinician")
                  .setAuthMethod("BEARER_TOKEN")
                  .setCredentialFingerprint("f3a9c2d1e0b4a5968778695a4b3c2d1e")
                  .setIssuer("https://idp.clinic.example"))
          .setSource(
              Source.newBuilder()
                  .setAddress("10.1.2.3")
                  .setPeerSpiffeId("spiffe://clinic.example/ns/records/sa/frontend")
                  .setPeerCertificateSha256(
                      "9b1c3e5d7f0a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b0d2f4a6c8e0b2d4f6a8c0e"))
          .setTarget(
              Target.newBuilder()
                  .setService("hipaagrpc.examples.records.v1.PatientRecords")
                  .setMethod("GetPatient")
                  .setAction("read")
                  .setMethodType("UNARY"))
          .setResource(Resource.newBuilder().setType("Patient").addPatients(PATIENT_ID))
          .setOutcome(Outcome.newBuilder().setStatus("OK"))
          .setAuthorization(
              Authorization.newBuilder()
                  .setDecision("ALLOW")
                  .setRuleId("GetPatient#physician")
                  .setPolicyVersion("2026-11-demo-1")
                  .setPurposeOfUse("TREAT"))
          .setMaskedFields(3)
          .setTraffic(
              Traffic.newBuilder()
                  .setRequestMessages(1)
                  .setRequestBytes(44)
                  .setResponseMessages(1)
                  .setResponseBytes(1012))
          .setLatencyMicros(412)
          .putHeaders("user-agent", "grpc-java-netty/1.70.0")
          .build();

  /** Events per {@code write} in the writer benchmark: a typical batch under load. */
  static final int WRITER_BATCH = 64;

  /**
   * Measures the benchmark thread's CPU time per operation in each iteration and prints it: JMH's
   * own figures are wall time, which on a loaded machine includes time spent descheduled.
   */
  public abstract static class CpuMeter {
    final java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    long ops;
    long cpu0;

    abstract String name();

    @Setup(org.openjdk.jmh.annotations.Level.Iteration)
    public void startIteration() {
      ops = 0;
      cpu0 = threads.getCurrentThreadCpuTime();
    }

    @TearDown(org.openjdk.jmh.annotations.Level.Iteration)
    public void endIteration() {
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      System.out.printf(
          "%n[cpu] %s: %.3f us CPU per event (%d events)%n",
          name(), ops == 0 ? 0.0 : cpu / 1000.0 / ops, ops);
    }
  }

  /**
   * A chained file written directly from the benchmark thread, the way the dispatcher's writer
   * thread does, with the library's checkpoint and rotation defaults; sealed files are deleted.
   */
  @State(Scope.Thread)
  @SuppressWarnings("NullAway.Init") // fields are set in @Setup
  public static class Writer extends CpuMeter {
    Path dir;
    ChainedFileSink sink;
    final java.util.List<AuditEvent> batch =
        java.util.Collections.nCopies(WRITER_BATCH, EXAMPLE_EVENT);

    @Override
    String name() {
      return "writer, chained file";
    }

    @Setup
    public void setUp() throws IOException {
      dir = tempDir("audit-writer");
      sink =
          ChainedFileSink.newBuilder(dir)
              .genesisKey(AuditKeys.newSecretKey())
              .signingKey(AuditKeys.newSigningKeyPair())
              .onSealed(AuditBenchmark::delete)
              .build();
    }

    @TearDown
    public void tearDown() throws IOException {
      sink.close();
      deleteTree(dir);
    }
  }

  static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The writer's work for one event of the example's size: frame, HMAC, hash, write. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @org.openjdk.jmh.annotations.OperationsPerInvocation(WRITER_BATCH)
  public void writerChainedFilePerEvent(Writer w) throws IOException {
    w.sink.write(w.batch);
    w.ops += WRITER_BATCH;
  }

  /** CPU meter for the protobuf baseline. */
  @State(Scope.Thread)
  public static class Protobuf extends CpuMeter {
    @Override
    String name() {
      return "baseline, protobuf serialization";
    }
  }

  /** Baseline: the protobuf binary serialization of the same event. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public byte[] writerBaselineProtobufSerialize(Protobuf p) {
    p.ops++;
    return EXAMPLE_EVENT.toByteArray();
  }

  /** Baseline: the cryptography a record cannot avoid, SHA-256 and HMAC-SHA256 of its line. */
  @State(Scope.Thread)
  public static class Crypto extends CpuMeter {
    final byte[] line = new byte[EXAMPLE_LINE_BYTES];
    final java.security.MessageDigest sha256;
    final javax.crypto.Mac hmac;

    public Crypto() {
      try {
        sha256 = java.security.MessageDigest.getInstance("SHA-256");
        hmac = javax.crypto.Mac.getInstance("HmacSHA256");
        hmac.init(new javax.crypto.spec.SecretKeySpec(AuditKeys.newSecretKey(), "HmacSHA256"));
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    String name() {
      return "baseline, SHA-256 + HMAC-SHA256 of the line";
    }
  }

  /** The length of {@link #EXAMPLE_EVENT}'s line in the chained file, newline included. */
  static final int EXAMPLE_LINE_BYTES = 1345;

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public byte[] writerBaselineSha256AndHmac(Crypto c) {
    c.ops++;
    c.hmac.update(c.line, 0, c.line.length - 75);
    c.hmac.doFinal();
    return c.sha256.digest(c.line);
  }

  /** What a checkpoint costs in CPU, besides its three fsyncs: one Ed25519 signature. */
  @State(Scope.Thread)
  public static class Signing extends CpuMeter {
    final java.security.PrivateKey key = AuditKeys.newSigningKeyPair().getPrivate();
    final byte[] canonical = new byte[300];

    @Override
    String name() {
      return "checkpoint, Ed25519 signature";
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public byte[] checkpointEd25519Sign(Signing s) throws java.security.GeneralSecurityException {
    s.ops++;
    java.security.Signature sig = java.security.Signature.getInstance("Ed25519");
    sig.initSign(s.key);
    sig.update(s.canonical);
    return sig.sign();
  }

  // ------------------------------------------------------------------ example wiring, sustained

  /** Calls in flight at once in the sustained benchmark (below the queue's 8192). */
  static final int IN_FLIGHT = 4096;

  /**
   * The example's audit wiring: the chained file with the library's checkpoint defaults,
   * FAIL_CLOSED, durable before response. Events are submitted without waiting ({@code
   * submitAsync}), as the interceptor holds a response without a thread, with at most {@link
   * #IN_FLIGHT} awaiting their fsync. Prints written, lost and refused counts and the CPU the
   * dispatcher's own threads spent per event.
   */
  @State(Scope.Benchmark)
  @SuppressWarnings("NullAway.Init") // fields are set in @Setup
  public static class ExampleWiring {
    Path dir;
    AuditDispatcher dispatcher;
    final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(IN_FLIGHT);
    final LongAdder submitted = new LongAdder();
    final LongAdder notRecorded = new LongAdder();
    final java.util.List<Thread> own = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Setup
    public void setUp() throws IOException {
      dir = tempDir("audit-example");
      ChainedFileSink sink =
          ChainedFileSink.newBuilder(dir)
              .genesisKey(AuditKeys.newSecretKey())
              .signingKey(AuditKeys.newSigningKeyPair())
              .onSealed(AuditBenchmark::delete)
              .build();
      dispatcher =
          AuditDispatcher.newBuilder(sink)
              .policy(DeliveryPolicy.FAIL_CLOSED)
              .durableBeforeResponse(true)
              .threadFactory(
                  r -> {
                    Thread t = new Thread(r, "hipaagrpc-audit-" + own.size());
                    t.setDaemon(true);
                    own.add(t);
                    return t;
                  })
              .build();
    }

    @TearDown
    public void tearDown() throws InterruptedException {
      // Wait for everything in flight, then count.
      inFlight.acquire(IN_FLIGHT);
      java.lang.management.ThreadMXBean mx =
          java.lang.management.ManagementFactory.getThreadMXBean();
      long cpu = 0;
      for (Thread t : own) {
        cpu += Math.max(0, mx.getThreadCpuTime(t.getId()));
      }
      long written = dispatcher.writtenEvents();
      long syncs = dispatcher.syncBatches();
      System.out.printf(
          "%n[example wiring: FAIL_CLOSED, durable, default checkpoints] submitted=%d written=%d"
              + " fsync batches=%d (%.1f events per fsync), LOST=%d, not recorded=%d,"
              + " dispatcher threads' CPU %.2f us per event%n",
          submitted.sum(),
          written,
          syncs,
          syncs == 0 ? 0.0 : (double) written / syncs,
          dispatcher.lostEvents(),
          notRecorded.sum(),
          written == 0 ? 0.0 : cpu / 1000.0 / written);
      inFlight.release(IN_FLIGHT);
      deleteTree(dir);
    }
  }

  @Benchmark
  @Threads(4)
  public void eventsExampleWiringDurableAsync(ExampleWiring s) throws InterruptedException {
    s.inFlight.acquire();
    s.submitted.increment();
    var unused =
        s.dispatcher
            .submitAsync(EXAMPLE_EVENT)
            .whenComplete(
                (ok, e) -> {
                  if (!Boolean.TRUE.equals(ok)) {
                    s.notRecorded.increment();
                  }
                  s.inFlight.release();
                });
  }

  // ------------------------------------------------------------------ per-call cost

  static final MethodDescriptor<StringValue, StringValue> METHOD =
      MethodDescriptor.<StringValue, StringValue>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("records.v1.PatientService/GetPatient")
          .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
          .build();

  static final StringValue REQUEST = StringValue.of("patient-123");
  static final StringValue RESPONSE = StringValue.of("x".repeat(800));

  /** Three in-process servers: no interceptor, audit (buffered), audit (durable). */
  @State(Scope.Benchmark)
  @SuppressWarnings("NullAway.Init") // fields are set in @Setup
  public static class Calls {
    Path dirBuffered;
    Path dirDurable;
    AuditDispatcher buffered;
    AuditDispatcher durable;
    Server[] servers = new Server[3];
    ManagedChannel[] channels = new ManagedChannel[3];

    @Setup
    public void setUp() throws IOException {
      dirBuffered = tempDir("audit-call");
      dirDurable = tempDir("audit-call-durable");
      buffered = chained(dirBuffered, false);
      durable = chained(dirDurable, true);
      ServerServiceDefinition service =
          ServerServiceDefinition.builder("records.v1.PatientService")
              .addMethod(
                  METHOD,
                  ServerCalls.asyncUnaryCall(
                      (req, out) -> {
                        out.onNext(RESPONSE);
                        out.onCompleted();
                      }))
              .build();
      byte[] idKey = AuditKeys.newSecretKey();
      ServerServiceDefinition[] defs = {
        service,
        ServerInterceptors.intercept(
            service, AuditServerInterceptor.newBuilder(buffered, idKey).build()),
        ServerInterceptors.intercept(
            service, AuditServerInterceptor.newBuilder(durable, idKey).build())
      };
      for (int i = 0; i < 3; i++) {
        String name = InProcessServerBuilder.generateName();
        servers[i] =
            InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(defs[i])
                .build()
                .start();
        channels[i] = InProcessChannelBuilder.forName(name).directExecutor().build();
      }
    }

    @TearDown
    public void tearDown() throws IOException, InterruptedException {
      for (int i = 0; i < 3; i++) {
        channels[i].shutdownNow();
        servers[i].shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      System.out.printf(
          "%n[calls] audit events buffered=%d durable=%d (fsync batches %d), LOST=%d%n",
          buffered.writtenEvents(),
          durable.writtenEvents(),
          durable.syncBatches(),
          buffered.lostEvents() + durable.lostEvents());
      buffered.close();
      durable.close();
      deleteTree(dirBuffered);
      deleteTree(dirDurable);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public StringValue callBaselineNoInterceptor(Calls c) {
    return ClientCalls.blockingUnaryCall(c.channels[0], METHOD, CallOptions.DEFAULT, REQUEST);
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public StringValue callAudited(Calls c) {
    return ClientCalls.blockingUnaryCall(c.channels[1], METHOD, CallOptions.DEFAULT, REQUEST);
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public StringValue callAuditedDurable(Calls c) {
    return ClientCalls.blockingUnaryCall(c.channels[2], METHOD, CallOptions.DEFAULT, REQUEST);
  }
}
