package dev.hipaagrpc.auth.ratelimit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.hipaagrpc.testing.RedisServerProcess;
import io.lettuce.core.RedisCommandTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store against a real redis-server. */
class RedisRateLimitStoreTest {

  static final byte[] SECRET = new byte[32];

  static {
    Arrays.fill(SECRET, (byte) 7);
  }

  static final String KEY = "default\nhttps://idp.example\npatient-123";

  RedisServerProcess redis;
  RedisRateLimitStore store;

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
    store = RedisRateLimitStore.newBuilder(redis.uri(), SECRET).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (store != null) {
      store.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  long acquire(String key, long burst, double rate, long nowMillis) throws Exception {
    return store
        .acquire(key, burst, rate, nowMillis)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** Until the store is connected (it connects in the background). */
  long acquireWhenUp(String key, long burst, double rate) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return acquire(key, burst, rate, 0);
      } catch (ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  @Test
  void acquire_burstThenWaitFromRedisClock_whateverTheCallerClockSays() throws Exception {
    assertThat(acquireWhenUp(KEY, 3, 1)).isZero();
    // The interceptor's clock is ignored: Redis TIME decides.
    assertThat(acquire(KEY, 3, 1, Long.MAX_VALUE)).isZero();
    assertThat(acquire(KEY, 3, 1, 0)).isZero();
    long wait = acquire(KEY, 3, 1, Long.MAX_VALUE / 2);
    assertThat(wait).isBetween(1L, 1000L);
    // Another caller (and another group of the same caller) has its own bucket.
    assertThat(acquire("default\nhttps://idp.example\npatient-456", 1, 1, 0)).isZero();
    assertThat(acquire("export\nhttps://idp.example\npatient-123", 1, 1, 0)).isZero();
  }

  @Test
  void acquire_keysAreKeyedHashesWithTtl_neverIdentifiers() throws Exception {
    acquireWhenUp(KEY, 5, 0.5);
    String keys = redis.command("KEYS *");
    assertThat(keys.lines()).hasSize(1);
    String key = keys.lines().findFirst().orElseThrow();
    assertThat(key).startsWith("hipaagrpc:rl:kh1.").doesNotContain("patient").doesNotContain("idp");
    assertThat(key).hasSize("hipaagrpc:rl:kh1.".length() + 8 + 1 + 43);
    // One permit at 0.5/s: the key carries state for 2 s, and expires then.
    long ttl = Long.parseLong(redis.command("PTTL " + key).substring(1));
    assertThat(ttl).isBetween(1L, 2000L);
    // Another secret gives another key for the same caller.
    try (RedisRateLimitStore other =
        RedisRateLimitStore.newBuilder(redis.uri(), new byte[32]).build()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          other.acquire(KEY, 5, 0.5, 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
          break;
        } catch (ExecutionException e) {
          assertThat(System.nanoTime()).isLessThan(deadline);
          Thread.sleep(50);
        }
      }
    }
    assertThat(redis.command("KEYS *").lines()).hasSize(2).doesNotContain("patient-123");
  }

  @Test
  void acquire_redisKilledThenRestarted_failsFastThenDecidesAgain() throws Exception {
    assertThat(acquireWhenUp(KEY, 1, 0.001)).isZero();
    assertThat(acquire(KEY, 1, 0.001, 0)).isPositive();
    redis.kill();
    for (int i = 0; i < 20; i++) {
      CompletableFuture<Long> f = store.acquire(KEY, 1, 0.001, 0).toCompletableFuture();
      // Completes (exceptionally), bounded by the command timeout: never hangs.
      Throwable t = catchThrowable(() -> f.get(10, TimeUnit.SECONDS));
      assertThat(t).isInstanceOf(ExecutionException.class);
    }
    redis.restart();
    // The restarted Redis has no script cache and no buckets: EVAL reloads, the bucket is new.
    assertThat(acquireWhenUp(KEY, 1, 0.001)).isZero();
    assertThat(acquire(KEY, 1, 0.001, 0)).isPositive();
  }

  @Test
  void acquire_redisHangs_failsWithCommandTimeoutThenRecovers() throws Exception {
    assertThat(acquireWhenUp(KEY, 10, 1)).isZero();
    redis.pause();
    try {
      Throwable t =
          catchThrowable(
              () -> store.acquire(KEY, 10, 1, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
      // Ended by the store's own 50 ms command timeout, not by this test's 10 s wait.
      assertThat(t).isInstanceOf(ExecutionException.class);
      assertThat(t.getCause()).isInstanceOf(RedisCommandTimeoutException.class);
    } finally {
      redis.resume();
    }
    assertThat(acquireWhenUp(KEY, 10, 1)).isZero();
  }

  @Test
  void build_whileRedisIsDown_connectsWhenItComesUp() throws Exception {
    store.close();
    redis.kill();
    store =
        RedisRateLimitStore.newBuilder(redis.uri(), SECRET)
            .reconnectInterval(Duration.ofMillis(50))
            .build();
    Throwable t =
        catchThrowable(
            () -> store.acquire(KEY, 1, 1, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause().getMessage()).doesNotContain("patient");
    redis.restart();
    assertThat(acquireWhenUp(KEY, 1, 1)).isZero();
  }

  @Test
  void builder_refusesWeakSecretAndBadSettings() {
    assertThatThrownBy(() -> RedisRateLimitStore.newBuilder("redis://127.0.0.1", new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(
            () ->
                RedisRateLimitStore.newBuilder("redis://127.0.0.1", SECRET)
                    .commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> RedisRateLimitStore.newBuilder("redis://127.0.0.1", SECRET).keyPrefix("a b"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> RedisRateLimitStore.newBuilder("redis://127.0.0.1", SECRET).maxPendingCommands(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
