package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.auth.authn.AccessTokenSource;
import dev.hipaagrpc.auth.authn.BearerCallCredentials;
import dev.hipaagrpc.examples.BenchmarkServer;
import dev.hipaagrpc.examples.BenchmarkServer.Configuration;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.Patient;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc.PatientRecordsStub;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The full stack against plain grpc-java, over real Netty with mutual TLS, one server process per
 * configuration ({@link BenchmarkServer}: the example's own wiring), server CPU per call read from
 * the operating system, in alternating rounds. Not JMH: JMH cannot measure another JVM's CPU.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.hipaagrpc.benchmarks.FullStackBenchmark
 * </pre>
 *
 * <p>The call is the example's {@code GetPatient} of a ~1 KB nested record by a physician (a real
 * ES256 access token from the demo identity provider's JWKS, a real client certificate), {@code
 * bench.concurrency} unary calls outstanding at all times over {@code bench.channels} channels per
 * server, each with a 10 s deadline. First every configuration is warmed up for {@code
 * bench.warmup} seconds, one after another; then {@code bench.rounds} rounds visit the
 * configurations in turn (1, 2, 3, 4, 5, 1, 2, ...), each for a 0.5 s ramp (not measured) and
 * {@code bench.round} measured seconds. Server CPU is the child's utime+stime from {@code
 * /proc/<pid>/stat} over the measured window. Any call that does not end OK with the expected
 * record aborts the run with exit status 1: a refused call would make a configuration look fast.
 *
 * <p>System properties (defaults in brackets): {@code bench.warmup} [15] seconds per configuration,
 * {@code bench.rounds} [5], {@code bench.round} [4] seconds, {@code bench.concurrency} [32], {@code
 * bench.channels} [2], {@code bench.configs} [all, e.g. {@code PLAIN_GRPC,FULL_STACK_BUFFERED}],
 * {@code bench.serverJvmArgs} [{@code -Xms512m -Xmx512m}], {@code bench.dir} [a new temporary
 * directory], {@code bench.jfr} [none; configurations whose server records a JFR profile of the
 * measured rounds into {@code bench.dir}]. The default run takes about four minutes.
 */
public final class FullStackBenchmark {

  private static final double RAMP_SECONDS = 0.5;
  private static final long DEADLINE_SECONDS = 10;

  private FullStackBenchmark() {}

  /** The run's parameters, from system properties. */
  record Settings(
      int warmupSeconds,
      int rounds,
      double roundSeconds,
      int concurrency,
      int channels,
      List<Configuration> configurations,
      List<String> serverJvmArgs,
      Path dir,
      List<Configuration> jfr) {

    static Settings fromSystemProperties() throws IOException {
      String dir = System.getProperty("bench.dir");
      return new Settings(
          Integer.getInteger("bench.warmup", 15),
          Integer.getInteger("bench.rounds", 5),
          Double.parseDouble(System.getProperty("bench.round", "4")),
          Integer.getInteger("bench.concurrency", 32),
          Integer.getInteger("bench.channels", 2),
          configurations(System.getProperty("bench.configs", ""), true),
          words(System.getProperty("bench.serverJvmArgs", "-Xms512m -Xmx512m")),
          dir == null
              ? Files.createTempDirectory("full-stack-bench")
              : Files.createDirectories(Path.of(dir)),
          configurations(System.getProperty("bench.jfr", ""), false));
    }

    private static List<Configuration> configurations(String list, boolean emptyMeansAll) {
      if (list.isBlank()) {
        return emptyMeansAll ? List.of(Configuration.values()) : List.of();
      }
      List<Configuration> out = new ArrayList<>();
      for (String name : list.split(",", -1)) {
        out.add(Configuration.valueOf(name.trim().toUpperCase(Locale.ROOT)));
      }
      return List.copyOf(out);
    }

    private static List<String> words(String s) {
      return s.isBlank() ? List.of() : List.of(s.trim().split("\\s+", -1));
    }
  }

  /** Runs the benchmark; exits 1 if any call failed or a server could not be started. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    List<ServerProcess> servers = new CopyOnWriteArrayList<>();
    Thread killer = new Thread(() -> servers.forEach(ServerProcess::kill), "kill-servers");
    Runtime.getRuntime().addShutdownHook(killer);
    int status = 0;
    try {
      run(Settings.fromSystemProperties(), servers, out);
    } catch (Exception e) {
      out.println();
      out.println("FULL-STACK BENCHMARK FAILED: " + e);
      status = 1;
    } finally {
      for (ServerProcess server : servers) {
        server.stop();
      }
    }
    Runtime.getRuntime().removeShutdownHook(killer);
    System.exit(status);
  }

  static void run(Settings settings, List<ServerProcess> servers, PrintStream out)
      throws Exception {
    out.println("# Full stack vs plain grpc-java (mTLS, GetPatient ~1 KB, server in its own JVM)");
    out.println();
    out.println(
        "JDK: "
            + System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + "; nproc: "
            + Runtime.getRuntime().availableProcessors()
            + "; load average at start: "
            + Cpu.loadAverage());
    out.println(
        String.format(
            Locale.ROOT,
            "warm-up %d s per configuration; %d rounds of %.1f s; %d calls outstanding over %d"
                + " channel(s); server JVM args %s; directory %s",
            settings.warmupSeconds(),
            settings.rounds(),
            settings.roundSeconds(),
            settings.concurrency(),
            settings.channels(),
            settings.serverJvmArgs(),
            settings.dir()));
    List<Load> loads = new ArrayList<>();
    try {
      // One after another: the first creates the shared environment (PKI, keys) the others load.
      for (Configuration c : settings.configurations()) {
        ServerProcess server = ServerProcess.start(c, settings);
        servers.add(server);
        loads.add(new Load(server, settings));
      }
      for (Load load : loads) {
        out.println(
            load.server.configuration
                + ": pid "
                + load.server.process.pid()
                + ", stored record "
                + load.server.info.get("recordBytes")
                + " bytes, response "
                + load.checkOneCall()
                + " bytes");
      }
      out.println();
      for (Load load : loads) {
        out.println("warming up " + load.server.configuration + " ...");
        load.round(settings.warmupSeconds(), null);
      }
      for (Load load : loads) {
        if (settings.jfr().contains(load.server.configuration)) {
          load.server.startJfr(settings.dir());
        }
      }
      for (int r = 1; r <= settings.rounds(); r++) {
        StringBuilder line = new StringBuilder("round " + r + ":");
        for (Load load : loads) {
          double rate = load.round(settings.roundSeconds(), load.totals);
          line.append(String.format(Locale.ROOT, " %s %.0f/s", load.server.configuration, rate));
        }
        out.println(line);
      }
      for (Load load : loads) {
        if (settings.jfr().contains(load.server.configuration)) {
          out.println("JFR: " + load.server.stopJfr());
        }
      }
      out.println();
      printTable(loads, out);
      out.println();
      out.println("load average at end: " + Cpu.loadAverage());
    } finally {
      for (Load load : loads) {
        load.close();
      }
    }
  }

  private static void printTable(List<Load> loads, PrintStream out) {
    Totals base = loads.get(0).totals;
    String baseName = loads.get(0).server.configuration.name();
    out.println(
        "| configuration | calls/s | vs "
            + baseName
            + " | calls/s per round (min–max) | server CPU µs/call | vs "
            + baseName
            + " | client CPU µs/call | p50 µs | p99 µs | calls measured | failed |");
    out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    for (Load load : loads) {
      Totals t = load.totals;
      long[] latencies = t.latencies();
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.1f%% | %.0f–%.0f | %.1f | %+.1f | %.1f | %d | %d | %d | %d |",
              load.server.configuration,
              t.rate(),
              100 * t.rate() / base.rate(),
              t.minRate,
              t.maxRate,
              t.serverMicrosPerCall(),
              t.serverMicrosPerCall() - base.serverMicrosPerCall(),
              t.clientMicrosPerCall(),
              percentile(latencies, 0.50) / 1000,
              percentile(latencies, 0.99) / 1000,
              t.calls,
              load.failed.sum()));
    }
    if (loads.get(0).server.configuration != Configuration.PLAIN_GRPC) {
      return;
    }
    out.println();
    out.println("| issue 13 goal | throughput vs plain | server CPU vs plain | met? |");
    out.println("|---|---|---|---|");
    for (Load load : loads) {
      Goal goal = Goal.of(load.server.configuration);
      if (goal == null) {
        continue;
      }
      Totals t = load.totals;
      double ratio = t.rate() / base.rate();
      double extra = t.serverMicrosPerCall() - base.serverMicrosPerCall();
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | ≥ %.0f%% (%.1f%%) | ≤ +%.0f µs (%+.1f µs) | %s |",
              load.server.configuration,
              100 * goal.minRatio,
              100 * ratio,
              goal.maxExtraMicros,
              extra,
              ratio >= goal.minRatio && extra <= goal.maxExtraMicros ? "met" : "not met"));
    }
  }

  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** The goals, as ratios to plain grpc-java in this benchmark. */
  record Goal(double minRatio, double maxExtraMicros) {
    static @Nullable Goal of(Configuration c) {
      return switch (c) {
        case STACK_WITHOUT_AUDIT -> new Goal(0.95, 5);
        case FULL_STACK_BUFFERED -> new Goal(0.90, 10);
        case FULL_STACK_DURABLE -> new Goal(0.75, 20);
        default -> null;
      };
    }
  }

  /** What the measured rounds of one configuration add up to. */
  static final class Totals {
    long calls;
    long nanos;
    long serverCpuNanos;
    long clientCpuNanos;
    double minRate = Double.MAX_VALUE;
    double maxRate;
    private long[] samples = new long[1 << 16];
    private int size;

    void add(long calls, long nanos, long serverCpu, long clientCpu) {
      this.calls += calls;
      this.nanos += nanos;
      this.serverCpuNanos += serverCpu;
      this.clientCpuNanos += clientCpu;
      double rate = calls * 1e9 / nanos;
      minRate = Math.min(minRate, rate);
      maxRate = Math.max(maxRate, rate);
    }

    synchronized void sample(long latencyNanos) {
      if (size == samples.length) {
        samples = Arrays.copyOf(samples, size * 2);
      }
      samples[size++] = latencyNanos;
    }

    synchronized long[] latencies() {
      long[] copy = Arrays.copyOf(samples, size);
      Arrays.sort(copy);
      return copy;
    }

    double rate() {
      return calls * 1e9 / nanos;
    }

    double serverMicrosPerCall() {
      return serverCpuNanos / 1e3 / calls;
    }

    double clientMicrosPerCall() {
      return clientCpuNanos / 1e3 / calls;
    }
  }

  /**
   * Closed-loop load on one server: a fixed number of async unary calls outstanding, each
   * completion issuing the next.
   */
  static final class Load implements AutoCloseable {
    final ServerProcess server;
    final Totals totals = new Totals();
    final LongAdder ok = new LongAdder();
    final LongAdder failed = new LongAdder();
    private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<PatientRecordsStub> stubs = new ArrayList<>();
    private final GetPatientRequest request;
    private final String patient;
    private final int concurrency;
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile boolean running;
    private volatile @Nullable Totals recording;

    Load(ServerProcess server, Settings settings) throws IOException {
      this.server = server;
      this.concurrency = settings.concurrency();
      this.patient = server.info("patient");
      this.request =
          GetPatientRequest.newBuilder()
              .setTenantId(server.info("tenant"))
              .setPatientId(patient)
              .build();
      ChannelCredentials credentials =
          MtlsChannelCredentials.newBuilder()
              .trust(TrustMaterial.fromPemFiles(Path.of(server.info("ca"))))
              .identity(
                  IdentityMaterial.fromPemFiles(
                      Path.of(server.info("cert")), Path.of(server.info("key"))))
              .build();
      BearerCallCredentials bearer =
          BearerCallCredentials.create(AccessTokenSource.ofStatic(server.info("token")));
      for (int i = 0; i < settings.channels(); i++) {
        ManagedChannel channel =
            Grpc.newChannelBuilderForAddress(
                    "localhost", Integer.parseInt(server.info("port")), credentials)
                .directExecutor() // the client's own cost as small as grpc-java allows
                .build();
        channels.add(channel);
        stubs.add(PatientRecordsGrpc.newStub(channel).withCallCredentials(bearer));
      }
    }

    /** One blocking call per channel (connects them); returns the response's serialized size. */
    int checkOneCall() {
      int size = 0;
      for (ManagedChannel channel : channels) {
        Patient p =
            PatientRecordsGrpc.newBlockingStub(channel)
                .withCallCredentials(
                    BearerCallCredentials.create(AccessTokenSource.ofStatic(server.info("token"))))
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .getPatient(request);
        if (!p.getPatientId().equals(patient)) {
          throw new IllegalStateException(server.configuration + " returned another record");
        }
        size = p.getSerializedSize();
      }
      return size;
    }

    /**
     * Runs the load for a ramp and then {@code seconds}; adds the measured window to {@code into}
     * unless null (warm-up). Returns the window's calls per second.
     */
    double round(double seconds, @Nullable Totals into) throws Exception {
      running = true;
      for (int i = 0; i < concurrency; i++) {
        outstanding.incrementAndGet();
        fire(stubs.get(i % stubs.size()));
      }
      Thread.sleep((long) (RAMP_SECONDS * 1000));
      long serverCpu0 = Cpu.nanos(server.process.pid());
      long clientCpu0 = Cpu.nanos(ProcessHandle.current().pid());
      long ok0 = ok.sum();
      long t0 = System.nanoTime();
      recording = into;
      Thread.sleep((long) (seconds * 1000));
      recording = null;
      long t1 = System.nanoTime();
      long ok1 = ok.sum();
      long serverCpu1 = Cpu.nanos(server.process.pid());
      long clientCpu1 = Cpu.nanos(ProcessHandle.current().pid());
      running = false;
      long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS + 5);
      while (outstanding.get() > 0 && System.nanoTime() < drainUntil) {
        Thread.sleep(1);
      }
      if (failed.sum() > 0 || outstanding.get() > 0) {
        throw new IllegalStateException(
            server.configuration
                + ": "
                + failed.sum()
                + " call(s) failed "
                + new HashMap<>(failures)
                + ", "
                + outstanding.get()
                + " never finished (server log: "
                + server.log
                + ")");
      }
      if (into != null) {
        into.add(ok1 - ok0, t1 - t0, serverCpu1 - serverCpu0, clientCpu1 - clientCpu0);
      }
      return (ok1 - ok0) * 1e9 / (t1 - t0);
    }

    private void fire(PatientRecordsStub stub) {
      long start = System.nanoTime();
      stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .getPatient(
              request,
              new StreamObserver<>() {
                private boolean right;

                @Override
                public void onNext(Patient value) {
                  right = value.getPatientId().equals(patient);
                }

                @Override
                public void onError(Throwable t) {
                  fail(Status.fromThrowable(t).getCode().name());
                  next(stub);
                }

                @Override
                public void onCompleted() {
                  if (right) {
                    Totals into = recording;
                    if (into != null) {
                      into.sample(System.nanoTime() - start);
                    }
                    ok.increment();
                  } else {
                    fail("OK_BUT_WRONG_RECORD");
                  }
                  next(stub);
                }
              });
    }

    private void fail(String why) {
      failed.increment();
      failures.computeIfAbsent(why, k -> new AtomicLong()).incrementAndGet();
    }

    private void next(PatientRecordsStub stub) {
      if (running && failed.sum() == 0) {
        fire(stub);
      } else {
        outstanding.decrementAndGet();
      }
    }

    @Override
    public void close() throws InterruptedException {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** A {@link BenchmarkServer} child process: same java binary and class path as this JVM. */
  static final class ServerProcess {
    final Configuration configuration;
    final Process process;
    final Path log;
    final Map<String, String> info;

    private ServerProcess(
        Configuration configuration, Process process, Path log, Map<String, String> info) {
      this.configuration = configuration;
      this.process = process;
      this.log = log;
      this.info = info;
    }

    static ServerProcess start(Configuration configuration, Settings settings) throws Exception {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(settings.serverJvmArgs());
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(BenchmarkServer.class.getName());
      command.add(configuration.name());
      command.add(settings.dir().resolve("env").toString());
      Path log = settings.dir().resolve(configuration.name().toLowerCase(Locale.ROOT) + ".log");
      Process process =
          new ProcessBuilder(command)
              .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
              .start();
      CompletableFuture<Map<String, String>> ready = new CompletableFuture<>();
      // Reads the key=value lines up to "ready", then drains (a full pipe would block the child).
      Thread reader =
          new Thread(
              () -> {
                Map<String, String> values = new HashMap<>();
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line = in.readLine(); line != null; line = in.readLine()) {
                    int eq = line.indexOf('=');
                    if (line.equals("ready")) {
                      ready.complete(Map.copyOf(values));
                    } else if (eq > 0 && !ready.isDone()) {
                      values.put(line.substring(0, eq), line.substring(eq + 1));
                    }
                  }
                } catch (IOException e) {
                  ready.completeExceptionally(e);
                }
                ready.completeExceptionally(new IOException("exited before it was ready"));
              },
              "stdout-" + configuration);
      reader.setDaemon(true);
      reader.start();
      try {
        return new ServerProcess(configuration, process, log, ready.get(120, TimeUnit.SECONDS));
      } catch (ExecutionException | TimeoutException e) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "server " + configuration + " did not start (see " + log + ")", e);
      }
    }

    String info(String key) {
      String value = info.get(key);
      if (value == null) {
        throw new IllegalStateException(configuration + " did not report " + key);
      }
      return value;
    }

    void startJfr(Path dir) throws IOException, InterruptedException {
      jcmd(
          "JFR.start",
          "name=bench",
          "settings=profile",
          "filename=" + dir.resolve(configuration.name().toLowerCase(Locale.ROOT) + ".jfr"));
    }

    String stopJfr() throws IOException, InterruptedException {
      return jcmd("JFR.stop", "name=bench").strip().replace('\n', ' ');
    }

    private String jcmd(String... args) throws IOException, InterruptedException {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
      command.add(Long.toString(process.pid()));
      command.addAll(List.of(args));
      Process jcmd = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (jcmd.waitFor() != 0) {
        throw new IOException("jcmd " + String.join(" ", args) + " failed: " + output);
      }
      return output;
    }

    /** Closes the server's standard input (it stops cleanly), then kills it if it lingers. */
    void stop() {
      try {
        process.getOutputStream().close();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (IOException e) {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }

    void kill() {
      process.destroyForcibly();
    }
  }

  /** CPU time and load from the operating system. */
  static final class Cpu {
    private static final long NANOS_PER_TICK = 1_000_000_000L / getconf("CLK_TCK", 100);

    private Cpu() {}

    /** A process's user + system CPU time: /proc/PID/stat on Linux, else ProcessHandle. */
    static long nanos(long pid) throws IOException {
      Path stat = Path.of("/proc", Long.toString(pid), "stat");
      if (Files.exists(stat)) {
        String s = Files.readString(stat);
        // Fields after the command name (which may hold spaces) in parentheses: state is field
        // 3, utime field 14, stime field 15.
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ", -1);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * NANOS_PER_TICK;
      }
      return ProcessHandle.of(pid)
          .flatMap(p -> p.info().totalCpuDuration())
          .map(Duration::toNanos)
          .orElseThrow(() -> new IOException("no CPU time for process " + pid));
    }

    private static long getconf(String name, long fallback) {
      try {
        Process p = new ProcessBuilder("getconf", name).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        return p.waitFor() == 0 ? Long.parseLong(out.trim()) : fallback;
      } catch (IOException | NumberFormatException e) {
        return fallback;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fallback;
      }
    }

    static String loadAverage() {
      try {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ", -1);
        return f[0] + " " + f[1] + " " + f[2];
      } catch (IOException e) {
        return "unknown";
      }
    }
  }
}
