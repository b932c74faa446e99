package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.auth.ratelimit.RateLimitStore;
import dev.hipaagrpc.auth.ratelimit.redis.RedisRateLimitStore;
import dev.hipaagrpc.testing.RedisServerProcess;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Rate-limit decisions per second: the in-memory store against the Redis store (one GCRA script per
 * decision on a local {@code redis-server}), one decision at a time per thread and with 64 in
 * flight per thread (what a busy replica's concurrent calls do to its one multiplexed connection).
 *
 * <p>Redis: {@code -Dbench.redisUri=redis://host:port} to use a running server; otherwise the
 * benchmark starts {@code redis-server} ({@link RedisServerProcess}) on a free loopback port
 * without persistence and stops it afterwards. 1,000 callers, limits that never refuse (every
 * decision runs the whole script, including the write).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RateLimitStoreBenchmark {

  private static final int CALLERS = 1_000;
  private static final int IN_FLIGHT = 64;
  private static final String[] KEYS = new String[CALLERS];

  static {
    for (int i = 0; i < CALLERS; i++) {
      KEYS[i] = "default\nhttps://idp.example\ncaller-" + i;
    }
  }

  private RateLimitStore inMemory;
  private RedisRateLimitStore redis;
  private @Nullable RedisServerProcess redisProcess;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    inMemory = RateLimitStore.inMemory(100_000);
    String uri = System.getProperty("bench.redisUri");
    if (uri == null) {
      RedisServerProcess p =
          RedisServerProcess.start(
              RedisServerProcess.findBinary()
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "no redis-server: install it or pass -Dbench.redisUri")));
      redisProcess = p;
      uri = p.uri();
    }
    byte[] secret = new byte[32];
    ThreadLocalRandom.current().nextBytes(secret);
    redis =
        RedisRateLimitStore.newBuilder(uri, secret)
            .commandTimeout(Duration.ofSeconds(2))
            .maxPendingCommands(100_000)
            .build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        redis.acquire(KEYS[0], 1, 1, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("Redis did not answer within 20 s", e);
        }
        Thread.sleep(50);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    redis.close();
    RedisServerProcess p = redisProcess;
    if (p != null) {
      p.close();
    }
  }

  private static String key() {
    return KEYS[ThreadLocalRandom.current().nextInt(CALLERS)];
  }

  /** The default store: a striped in-memory table. */
  @Benchmark
  public long inMemory() {
    return inMemory.tryAcquire(key(), 1_000_000, 1e6, System.currentTimeMillis());
  }

  /** One Redis decision at a time per thread: a round trip each. */
  @Benchmark
  public long redisOneAtATime() throws Exception {
    return redis.acquire(key(), 1_000_000, 1e6, 0).toCompletableFuture().get();
  }

  /** 64 Redis decisions in flight per thread, pipelined on the one connection. */
  @Benchmark
  @OperationsPerInvocation(IN_FLIGHT)
  public long redis64InFlight() throws Exception {
    CompletableFuture<?>[] answers = new CompletableFuture<?>[IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; i++) {
      answers[i] = redis.acquire(key(), 1_000_000, 1e6, 0).toCompletableFuture();
    }
    CompletableFuture.allOf(answers).get();
    return answers.length;
  }
}
