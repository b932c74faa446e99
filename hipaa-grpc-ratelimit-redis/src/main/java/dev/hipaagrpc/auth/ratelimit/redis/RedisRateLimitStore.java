package dev.hipaagrpc.auth.ratelimit.redis;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.auth.ratelimit.AsyncRateLimitStore;
import dev.hipaagrpc.core.KeyedIdentifier;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared rate-limit store on Redis: every replica that points at the same Redis enforces one
 * limit per caller and method group.
 *
 * <pre>{@code
 * RedisRateLimitStore redis =
 *     RedisRateLimitStore.newBuilder("rediss://ratelimit.internal:6379", keySecret).build();
 * RateLimitServerInterceptor limits =
 *     RateLimitServerInterceptor.newBuilder().sharedStore(redis).executor(serverExecutor)...build();
 * }</pre>
 *
 * <ul>
 *   <li>One atomic Lua script per decision (GCRA, equivalent to the in-memory token bucket) that
 *       reads Redis's own clock ({@code TIME}): replicas' clocks do not matter. One round trip
 *       ({@code EVALSHA}; the script is loaded on first use and after a Redis restart).
 *   <li>Keys are {@code <keyPrefix><keyed identifier>}: an HMAC-SHA256 of the caller (issuer,
 *       subject) and method group under the configured secret ({@link KeyedIdentifier}, domain
 *       {@code ratelimit}), never the identifiers. Every key expires as soon as its bucket would be
 *       full again, so idle callers leave nothing behind.
 *   <li>Non-blocking: commands are asynchronous, bounded by {@link Builder#commandTimeout} (default
 *       50 ms), refused at once while the connection is down (Lettuce reconnects in the background)
 *       and when {@link Builder#maxPendingCommands} (default 10,000) are queued. Each failure
 *       completes the stage exceptionally, and the interceptor applies the call's priority class.
 *   <li>Bounded connections: one multiplexed connection per store (Lettuce pipelines concurrent
 *       commands on it); build one store per process.
 * </ul>
 *
 * <p>A store built while Redis is unreachable starts anyway (its decisions fail until it connects,
 * retried at most once per {@link Builder#reconnectInterval}). Thread-safe; {@link #close()} closes
 * the connection.
 */
public final class RedisRateLimitStore implements AsyncRateLimitStore, AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(RedisRateLimitStore.class);
  private static final String DOMAIN = "ratelimit";
  static final String SCRIPT = loadScript();

  private final RedisClient client;
  private final RedisURI uri;
  private final KeyedIdentifier keys;
  private final String keyPrefix;
  private final long reconnectIntervalNanos;
  private final String scriptSha;
  private final Object connectLock = new Object();
  private volatile CompletableFuture<StatefulRedisConnection<String, String>> connection;
  private volatile long nextConnectNanos;
  private volatile boolean closed;

  private RedisRateLimitStore(Builder b) {
    this.uri = b.uri;
    this.keys = KeyedIdentifier.create(b.keySecret);
    this.keyPrefix = b.keyPrefix;
    this.reconnectIntervalNanos = b.reconnectInterval.toNanos();
    this.client = RedisClient.create();
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .requestQueueSize(b.maxPendingCommands)
            .timeoutOptions(TimeoutOptions.enabled(b.commandTimeout))
            .socketOptions(SocketOptions.builder().connectTimeout(b.connectTimeout).build())
            .build());
    this.scriptSha = sha1Hex(SCRIPT);
    this.connection = connect();
  }

  /**
   * Starts configuring a store on the Redis at {@code redisUri} ({@code redis://} or, across a
   * network, {@code rediss://} with TLS; credentials in the URI as Lettuce documents them).
   *
   * @param keySecret at least {@value KeyedIdentifier#MIN_KEY_BYTES} random bytes, the same on
   *     every replica (copied; zero yours after building)
   */
  public static Builder newBuilder(String redisUri, byte[] keySecret) {
    return new Builder(redisUri, keySecret);
  }

  @Override
  public CompletionStage<Long> acquire(
      String key, long burst, double permitsPerSecond, long nowMillis) {
    requireNonNull(key, "key");
    RedisAsyncCommands<String, String> commands = commands();
    if (commands == null) {
      return CompletableFuture.failedFuture(new RedisUnavailableException());
    }
    String[] redisKey = {keyPrefix + keys.of(DOMAIN, key)};
    String interval = Double.toString(1_000_000d / permitsPerSecond);
    String capacity = Long.toString(burst);
    CompletableFuture<Long> answer = new CompletableFuture<>();
    commands
        .<Long>evalsha(scriptSha, ScriptOutputType.INTEGER, redisKey, interval, capacity)
        .whenComplete(
            (wait, error) -> {
              if (error == null) {
                answer.complete(wait);
              } else if (unwrap(error) instanceof RedisNoScriptException) {
                // First use, or Redis restarted without its script cache: EVAL loads it.
                commands
                    .<Long>eval(SCRIPT, ScriptOutputType.INTEGER, redisKey, interval, capacity)
                    .whenComplete(
                        (w, e) -> {
                          if (e == null) {
                            answer.complete(w);
                          } else {
                            answer.completeExceptionally(e);
                          }
                        });
              } else {
                answer.completeExceptionally(error);
              }
            });
    return answer;
  }

  @SuppressWarnings("ReferenceEquality") // identity: is this still the failed attempt?
  private @Nullable RedisAsyncCommands<String, String> commands() {
    CompletableFuture<StatefulRedisConnection<String, String>> c = connection;
    if (c.isDone() && !c.isCompletedExceptionally()) {
      return c.join().async();
    }
    if (c.isCompletedExceptionally() && !closed && System.nanoTime() - nextConnectNanos >= 0) {
      synchronized (connectLock) {
        if (connection == c && !closed) {
          connection = connect();
        }
      }
    }
    return null;
  }

  private CompletableFuture<StatefulRedisConnection<String, String>> connect() {
    nextConnectNanos = System.nanoTime() + reconnectIntervalNanos;
    CompletableFuture<StatefulRedisConnection<String, String>> c =
        client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
    var unused =
        c.whenComplete(
            (conn, error) -> {
              if (error != null) {
                // Class name only: the message can name the host and port.
                logger.warn(
                    "cannot connect to the rate-limit Redis ({}); retrying in at least {} ms",
                    unwrap(error).getClass().getName(),
                    TimeUnit.NANOSECONDS.toMillis(reconnectIntervalNanos));
              } else if (closed) {
                var unused2 = conn.closeAsync();
              }
            });
    return c;
  }

  /** Closes the connection and the client's threads. Idempotent. */
  @Override
  public void close() {
    closed = true;
    synchronized (connectLock) {
      CompletableFuture<StatefulRedisConnection<String, String>> c = connection;
      if (c.isDone() && !c.isCompletedExceptionally()) {
        c.join().close();
      }
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }

  @Override
  public String toString() {
    return "RedisRateLimitStore{" + keys + "}";
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static String loadScript() {
    try (InputStream in = RedisRateLimitStore.class.getResourceAsStream("gcra.lua")) {
      if (in == null) {
        throw new IllegalStateException("gcra.lua is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1Hex(String script) {
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-1")
              .digest(script.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is not available", e);
    }
  }

  /** The store has no connection to Redis right now. */
  static final class RedisUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    RedisUnavailableException() {
      super("not connected to Redis");
    }
  }

  /** Configures a {@link RedisRateLimitStore}. Not thread-safe. */
  public static final class Builder {
    private final RedisURI uri;
    private final byte[] keySecret;
    private String keyPrefix = "hipaagrpc:rl:";
    private Duration commandTimeout = Duration.ofMillis(50);
    private Duration connectTimeout = Duration.ofSeconds(1);
    private Duration reconnectInterval = Duration.ofSeconds(1);
    private int maxPendingCommands = 10_000;

    private Builder(String redisUri, byte[] keySecret) {
      this.uri = RedisURI.create(requireNonNull(redisUri, "redisUri"));
      requireNonNull(keySecret, "keySecret");
      if (keySecret.length < KeyedIdentifier.MIN_KEY_BYTES) {
        throw new IllegalArgumentException(
            "keySecret must be at least " + KeyedIdentifier.MIN_KEY_BYTES + " bytes");
      }
      this.keySecret = keySecret.clone();
    }

    /**
     * What every key starts with, to share a Redis with other data. Default: {@code hipaagrpc:rl:}.
     *
     * @throws IllegalArgumentException unless 1 to 64 printable ASCII characters
     */
    public Builder keyPrefix(String prefix) {
      requireNonNull(prefix, "prefix");
      if (prefix.isEmpty()
          || prefix.length() > 64
          || !prefix.chars().allMatch(c -> c > 32 && c < 127)) {
        throw new IllegalArgumentException("keyPrefix must be 1-64 printable ASCII characters");
      }
      this.keyPrefix = prefix;
      return this;
    }

    /**
     * The longest a decision waits for Redis before it fails (and the call's priority class
     * applies). Keep it well below your callers' deadlines. Default: 50 ms.
     *
     * @throws IllegalArgumentException unless between 1 ms and 10 s
     */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = bounded(timeout, "commandTimeout");
      return this;
    }

    /**
     * The longest a connection attempt takes. Default: 1 s.
     *
     * @throws IllegalArgumentException unless between 1 ms and 10 s
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = bounded(timeout, "connectTimeout");
      return this;
    }

    /**
     * The least time between two attempts to connect when the first connection could not be made
     * (after that, Lettuce reconnects with its own backoff). Default: 1 s.
     *
     * @throws IllegalArgumentException unless between 1 ms and 10 s
     */
    public Builder reconnectInterval(Duration interval) {
      this.reconnectInterval = bounded(interval, "reconnectInterval");
      return this;
    }

    /**
     * The most commands queued on the connection; beyond it decisions fail at once instead of
     * queueing. Default: 10,000.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxPendingCommands(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxPendingCommands must be at least 1");
      }
      this.maxPendingCommands = max;
      return this;
    }

    /** Returns the store; it connects in the background. */
    public RedisRateLimitStore build() {
      try {
        return new RedisRateLimitStore(this);
      } finally {
        Arrays.fill(keySecret, (byte) 0);
      }
    }

    private static Duration bounded(Duration d, String name) {
      requireNonNull(d, name);
      if (d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException(name + " must be between 1 ms and 10 s");
      }
      return d;
    }
  }
}
