package dev.hipaagrpc.auth;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an issuer's token-verification keys come from: fixed public keys, an HMAC secret, a JWK Set
 * file, a JWKS URL, or OpenID Connect discovery.
 *
 * <p>Remote sources ({@link #fromJwksUri}, {@link #fromOidcDiscovery}) fetch over HTTPS only, with
 * no redirects, a timeout and a response size cap. Keys are cached for the response's {@code
 * Cache-Control: max-age} clamped to [{@code minCacheDuration}, {@code maxCacheDuration}] (defaults
 * 1 minute and 24 hours; 10 minutes when the server sends none), refreshed in the background before
 * they go stale, and re-fetched when a token names an unknown {@code kid} — at most once per {@code
 * unknownKeyRefreshInterval} (default 30 s), so a flood of tokens with random key ids cannot flood
 * the identity provider. When the provider is down, the last good keys stay in use for {@code
 * maxStaleness} (default 6 hours) past their cache lifetime; after that, and when keys were never
 * fetched, calls fail with {@code UNAVAILABLE} (an outage), not {@code UNAUTHENTICATED}. The
 * token's own {@code jku}, {@code x5u}, {@code jwk} and {@code x5c} headers are never used to find
 * keys.
 *
 * <p>Thread-safe. Close a remote source to stop its background refresh.
 */
public final class KeySource implements Closeable {
  private static final Logger logger = LoggerFactory.getLogger(KeySource.class);

  private static final int MAX_FILE_BYTES = 1024 * 1024;

  private final boolean symmetric;
  private final @Nullable Remote remote;
  private volatile @Nullable KeySourceSnapshot snapshot;

  private KeySource(boolean symmetric, @Nullable KeySourceSnapshot fixed, @Nullable Remote remote) {
    this.symmetric = symmetric;
    this.snapshot = fixed;
    this.remote = remote;
  }

  /**
   * Returns a source of fixed public keys, by key id ({@code kid}).
   *
   * @throws IllegalArgumentException if the map is empty or holds a blank key id
   */
  public static KeySource ofPublicKeys(Map<String, ? extends PublicKey> keysById) {
    requireNonNull(keysById, "keysById");
    if (keysById.isEmpty()) {
      throw new IllegalArgumentException("keysById must not be empty");
    }
    List<KeySourceSnapshot.Entry> entries = new ArrayList<>();
    for (Map.Entry<String, ? extends PublicKey> e : keysById.entrySet()) {
      if (e.getKey().isBlank()) {
        throw new IllegalArgumentException("key id must not be blank");
      }
      entries.add(new KeySourceSnapshot.Entry(e.getKey(), requireNonNull(e.getValue()), null));
    }
    return new KeySource(false, fixed(entries), null);
  }

  /** Returns a source of one fixed public key, used for tokens with or without a key id. */
  public static KeySource ofPublicKey(PublicKey key) {
    requireNonNull(key, "key");
    return new KeySource(false, fixed(List.of(new KeySourceSnapshot.Entry(null, key, null))), null);
  }

  /**
   * Returns a source holding one HMAC secret, for issuers that sign with HS256/384/512. An issuer
   * using it accepts only HS* algorithms; it can never be mixed with public keys.
   *
   * @throws IllegalArgumentException if the secret is shorter than 256 bits
   */
  public static KeySource ofHmacSecret(SecretKey secret) {
    requireNonNull(secret, "secret");
    byte[] encoded = secret.getEncoded();
    if (encoded == null || encoded.length < 32) {
      throw new IllegalArgumentException("HMAC secret must be at least 256 bits");
    }
    return new KeySource(
        true, fixed(List.of(new KeySourceSnapshot.Entry(null, secret, null))), null);
  }

  /**
   * Returns a source of the public keys in a JWK Set file, read once now.
   *
   * @throws IOException if the file cannot be read, is larger than 1 MiB, or is not a JWK Set with
   *     at least one public signature key
   */
  public static KeySource ofJwkSetFile(Path file) throws IOException {
    requireNonNull(file, "file");
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_FILE_BYTES + 1);
    }
    if (bytes.length > MAX_FILE_BYTES) {
      throw new IOException("JWK Set file is larger than 1 MiB");
    }
    List<KeySourceSnapshot.Entry> entries;
    try {
      entries = KeySourceSnapshot.parseJwkSet(new String(bytes, StandardCharsets.UTF_8), null);
    } catch (IllegalArgumentException e) {
      throw new IOException("JWK Set file is not a valid JWK Set", e);
    }
    if (entries.isEmpty()) {
      throw new IOException("JWK Set file holds no public signature key");
    }
    return new KeySource(false, fixed(entries), null);
  }

  /**
   * Starts a source that fetches a JWK Set from {@code jwksUri} (HTTPS).
   *
   * @throws IllegalArgumentException at {@link RemoteBuilder#build()} if the URI is not HTTPS
   */
  public static RemoteBuilder fromJwksUri(URI jwksUri) {
    return new RemoteBuilder(requireNonNull(jwksUri, "jwksUri"), null);
  }

  /**
   * Starts a source that finds the JWK Set through OpenID Connect discovery: {@code
   * <issuer>/.well-known/openid-configuration}, whose {@code issuer} must equal {@code issuer}
   * exactly and whose {@code jwks_uri} must be HTTPS.
   */
  public static RemoteBuilder fromOidcDiscovery(String issuer) {
    requireNonNull(issuer, "issuer");
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    return new RemoteBuilder(URI.create(base + "/.well-known/openid-configuration"), issuer);
  }

  private static KeySourceSnapshot fixed(List<KeySourceSnapshot.Entry> entries) {
    return new KeySourceSnapshot(entries, Long.MAX_VALUE, Long.MAX_VALUE);
  }

  boolean isSymmetric() {
    return symmetric;
  }

  boolean isRemote() {
    return remote != null;
  }

  /**
   * Returns the key for a token's {@code kid} and {@code alg}, fetching when allowed.
   *
   * @throws JwtValidationFailure {@code keys_unavailable} when no usable keys can be had, {@code
   *     unknown_key} when the key is not (or no longer) published
   */
  Key resolve(@Nullable String kid, String alg) throws JwtValidationFailure {
    Remote r = remote;
    KeySourceSnapshot s = snapshot;
    if (r == null) {
      KeySourceSnapshot.Entry e = find(requireNonNull(s), kid);
      if (e == null) {
        throw JwtValidationFailure.invalidToken("unknown_key");
      }
      return checkAlg(e, alg);
    }
    long now = r.clock.millis();
    if (s == null || now > s.usableUntilMillis) {
      s = r.fetchIfAllowed(now);
      if (s == null || now > s.usableUntilMillis) {
        throw JwtValidationFailure.keysUnavailable();
      }
    }
    if (now >= s.freshUntilMillis) {
      r.refreshStale(now);
    }
    KeySourceSnapshot.Entry e = find(s, kid);
    if (e == null && kid != null) {
      KeySourceSnapshot refreshed = r.fetchForUnknownKey(now);
      e = refreshed == null ? null : find(refreshed, kid);
      if (e == null && r.lastFetchFailed) {
        throw JwtValidationFailure.keysUnavailable();
      }
    }
    if (e == null) {
      throw JwtValidationFailure.invalidToken("unknown_key");
    }
    return checkAlg(e, alg);
  }

  /**
   * Returns whether {@code key} is still one of the usable keys (for verified-token cache hits).
   */
  boolean stillTrusts(Key key, long nowMillis) {
    KeySourceSnapshot s = snapshot;
    return s != null && nowMillis <= s.usableUntilMillis && s.containsIdentity(key);
  }

  private static KeySourceSnapshot.@Nullable Entry find(KeySourceSnapshot s, @Nullable String kid) {
    if (kid != null) {
      KeySourceSnapshot.Entry e = s.byKid(kid);
      if (e != null) {
        return e;
      }
      // A lone key published without an id matches any kid.
      return s.entries.size() == 1 && s.entries.get(0).kid == null ? s.entries.get(0) : null;
    }
    // Without a kid only an unambiguous single key is used.
    return s.entries.size() == 1 ? s.entries.get(0) : null;
  }

  private static Key checkAlg(KeySourceSnapshot.Entry e, String alg) throws JwtValidationFailure {
    if (e.alg != null && !e.alg.equals(alg)) {
      throw JwtValidationFailure.invalidToken("algorithm_mismatch");
    }
    return e.key;
  }

  /** Stops background refresh and, when the source created its own executor, shuts it down. */
  @Override
  public void close() {
    Remote r = remote;
    if (r != null) {
      r.close();
    }
  }

  /** Builds a remote {@link KeySource}. Not thread-safe. */
  public static final class RemoteBuilder {
    private final URI uri;
    private final @Nullable String discoveryIssuer;
    private @Nullable ScheduledExecutorService executor;
    private Clock clock = Clock.systemUTC();
    private @Nullable SSLContext sslContext;
    private Duration defaultCacheDuration = Duration.ofMinutes(10);
    private Duration minCacheDuration = Duration.ofMinutes(1);
    private Duration maxCacheDuration = Duration.ofHours(24);
    private Duration unknownKeyRefreshInterval = Duration.ofSeconds(30);
    private Duration maxStaleness = Duration.ofHours(6);
    private Duration failureRetryInterval = Duration.ofSeconds(30);
    private Duration timeout = Duration.ofSeconds(5);
    private int maxResponseBytes = 256 * 1024;
    private boolean allowPlainHttp;

    private RemoteBuilder(URI uri, @Nullable String discoveryIssuer) {
      this.uri = uri;
      this.discoveryIssuer = discoveryIssuer;
    }

    /**
     * Runs background refresh on {@code executor}, which the caller owns and shuts down. Default: a
     * daemon thread owned by the source and stopped by {@link KeySource#close()}.
     */
    public RemoteBuilder executor(ScheduledExecutorService executor) {
      this.executor = requireNonNull(executor, "executor");
      return this;
    }

    /** Sets the clock for cache lifetimes and refresh intervals. Default: system UTC. */
    public RemoteBuilder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the TLS context used to reach the provider. Default: the JDK's default trust. */
    public RemoteBuilder sslContext(SSLContext sslContext) {
      this.sslContext = requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** Cache lifetime when the response has no {@code max-age}. Default: 10 minutes. */
    public RemoteBuilder defaultCacheDuration(Duration d) {
      this.defaultCacheDuration = positive(d, "defaultCacheDuration");
      return this;
    }

    /** Lower bound on the cache lifetime. Default: 1 minute. */
    public RemoteBuilder minCacheDuration(Duration d) {
      this.minCacheDuration = positive(d, "minCacheDuration");
      return this;
    }

    /** Upper bound on the cache lifetime. Default: 24 hours. */
    public RemoteBuilder maxCacheDuration(Duration d) {
      this.maxCacheDuration = positive(d, "maxCacheDuration");
      return this;
    }

    /** Least time between two fetches caused by unknown key ids. Default: 30 seconds. */
    public RemoteBuilder unknownKeyRefreshInterval(Duration d) {
      this.unknownKeyRefreshInterval = nonNegative(d, "unknownKeyRefreshInterval");
      return this;
    }

    /**
     * How long past their cache lifetime the last good keys stay in use while the provider cannot
     * be reached. Default: 6 hours.
     */
    public RemoteBuilder maxStaleness(Duration d) {
      this.maxStaleness = nonNegative(d, "maxStaleness");
      return this;
    }

    /** Least time between fetch attempts after a failed fetch. Default: 30 seconds. */
    public RemoteBuilder failureRetryInterval(Duration d) {
      this.failureRetryInterval = nonNegative(d, "failureRetryInterval");
      return this;
    }

    /** Connect and request timeout. Default: 5 seconds. */
    public RemoteBuilder timeout(Duration d) {
      this.timeout = positive(d, "timeout");
      return this;
    }

    /** Largest response accepted, in bytes. Default: 256 KiB. */
    public RemoteBuilder maxResponseBytes(int bytes) {
      if (bytes < 1024 || bytes > 16 * 1024 * 1024) {
        throw new IllegalArgumentException("maxResponseBytes must be in [1 KiB, 16 MiB]");
      }
      this.maxResponseBytes = bytes;
      return this;
    }

    /**
     * Allows plain {@code http} URIs whose host is a loopback address (and a {@code jwks_uri} of
     * that form from discovery).
     *
     * <p>DANGEROUS: keys fetched without TLS can be replaced by anyone on the path. For tests
     * against a local provider only.
     */
    public RemoteBuilder INSECURE_allowPlainHttpForLoopbackTesting() {
      this.allowPlainHttp = true;
      return this;
    }

    /**
     * Returns the source and starts fetching keys in the background.
     *
     * @throws IllegalArgumentException if the URI is not HTTPS (or loopback HTTP with the opt-in)
     * @throws IllegalStateException if {@code minCacheDuration > maxCacheDuration}
     */
    public KeySource build() {
      JwksFetcher.checkUri(uri, allowPlainHttp, discoveryIssuer != null ? "issuer" : "jwksUri");
      if (minCacheDuration.compareTo(maxCacheDuration) > 0) {
        throw new IllegalStateException("minCacheDuration must not exceed maxCacheDuration");
      }
      Remote remote = new Remote(this);
      KeySource source = new KeySource(false, null, remote);
      remote.owner = source;
      remote.startRefresh();
      return source;
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive");
      }
      return d;
    }

    private static Duration nonNegative(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative");
      }
      return d;
    }
  }

  /** The fetching half of a remote source. */
  private static final class Remote {
    private final URI uri;
    private final @Nullable String discoveryIssuer;
    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;
    final Clock clock;
    private final JwksFetcher fetcher;
    private final boolean allowPlainHttp;
    private final long defaultCacheMillis;
    private final long minCacheMillis;
    private final long maxCacheMillis;
    private final long unknownKeyIntervalMillis;
    private final long maxStalenessMillis;
    private final long failureRetryMillis;

    @SuppressWarnings("NullAway.Init") // set right after construction in build()
    KeySource owner;

    private final Object fetchLock = new Object();
    private final Object scheduleLock = new Object();
    private final AtomicLong lastUnknownKeyFetch = new AtomicLong(Long.MIN_VALUE / 2);
    private final AtomicLong attempts = new AtomicLong();
    private volatile long lastAttemptMillis = Long.MIN_VALUE / 2;
    volatile boolean lastFetchFailed;
    private volatile @Nullable URI jwksUri;
    private volatile @Nullable ScheduledFuture<?> scheduled;
    private volatile boolean closed;

    Remote(RemoteBuilder b) {
      this.uri = b.uri;
      this.discoveryIssuer = b.discoveryIssuer;
      if (b.executor != null) {
        this.executor = b.executor;
        this.ownsExecutor = false;
      } else {
        this.executor =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "hipaagrpc-jwks-refresh");
                  t.setDaemon(true);
                  return t;
                });
        this.ownsExecutor = true;
      }
      this.clock = b.clock;
      this.fetcher = new JwksFetcher(b.sslContext, b.timeout, b.maxResponseBytes);
      this.allowPlainHttp = b.allowPlainHttp;
      this.defaultCacheMillis = b.defaultCacheDuration.toMillis();
      this.minCacheMillis = b.minCacheDuration.toMillis();
      this.maxCacheMillis = b.maxCacheDuration.toMillis();
      this.unknownKeyIntervalMillis = b.unknownKeyRefreshInterval.toMillis();
      this.maxStalenessMillis = b.maxStaleness.toMillis();
      this.failureRetryMillis = b.failureRetryInterval.toMillis();
      this.jwksUri = discoveryIssuer == null ? uri : null;
    }

    /** Fetches when no usable keys exist, unless a recent attempt failed (spares a down IdP). */
    @Nullable KeySourceSnapshot fetchIfAllowed(long now) {
      long observed = attempts.get();
      if (lastFetchFailed && now - lastAttemptMillis < failureRetryMillis) {
        return owner.snapshot;
      }
      return fetchSingleFlight(observed);
    }

    /** Fetches for an unknown kid at most once per interval; others wait for a fetch in flight. */
    @Nullable KeySourceSnapshot fetchForUnknownKey(long now) {
      long observed = attempts.get();
      long last = lastUnknownKeyFetch.get();
      if (now - last >= unknownKeyIntervalMillis
          && !(lastFetchFailed && now - lastAttemptMillis < failureRetryMillis)
          && lastUnknownKeyFetch.compareAndSet(last, now)) {
        return fetchSingleFlight(observed);
      }
      synchronized (fetchLock) {
        // Waits only while another thread's fetch is in flight, then sees its result.
        return owner.snapshot;
      }
    }

    private @Nullable KeySourceSnapshot fetchSingleFlight(long observedAttempts) {
      synchronized (fetchLock) {
        if (attempts.get() != observedAttempts || closed) {
          return owner.snapshot;
        }
        fetchNow();
        return owner.snapshot;
      }
    }

    /** Fetches once; on failure keeps the last good keys. Called with fetchLock held. */
    private void fetchNow() {
      attempts.incrementAndGet();
      long started = clock.millis();
      lastAttemptMillis = started;
      try {
        URI target = jwksUri;
        if (target == null) {
          target = discover();
          jwksUri = target;
        }
        JwksFetcher.Fetched fetched = fetcher.get(target);
        KeySourceSnapshot previous = owner.snapshot;
        List<KeySourceSnapshot.Entry> entries =
            KeySourceSnapshot.parseJwkSet(fetched.body, previous);
        if (entries.isEmpty()) {
          throw new IOException("JWK Set holds no public signature key");
        }
        long lifetime =
            fetched.maxAge == null
                ? defaultCacheMillis
                : Math.max(minCacheMillis, Math.min(maxCacheMillis, fetched.maxAge.toMillis()));
        long freshUntil = started + lifetime;
        owner.snapshot =
            new KeySourceSnapshot(
                entries, freshUntil, saturatedAdd(freshUntil, maxStalenessMillis));
        lastFetchFailed = false;
        schedule(lifetime);
      } catch (IOException | IllegalArgumentException | SecurityException e) {
        lastFetchFailed = true;
        if (discoveryIssuer != null) {
          jwksUri = null; // re-discover next time: the provider may have moved its keys
        }
        // The exception class only: messages of HTTP and JSON errors can carry response text.
        logger.warn(
            "Fetching verification keys from {} failed ({}); keeping the last good keys",
            uri.getHost(),
            e.getClass().getSimpleName());
        schedule(Math.max(failureRetryMillis, 1000));
      }
    }

    private URI discover() throws IOException {
      JwksFetcher.Fetched doc = fetcher.get(uri);
      Map<String, Object> json = JwtJson.parseObject(doc.body);
      if (json == null) {
        throw new IOException("discovery document is not a JSON object");
      }
      if (!requireNonNull(discoveryIssuer).equals(JwtJson.string(json, "issuer"))) {
        throw new IOException("discovery document names another issuer");
      }
      String jwks = JwtJson.string(json, "jwks_uri");
      if (jwks == null) {
        throw new IOException("discovery document has no jwks_uri");
      }
      try {
        return JwksFetcher.checkUri(URI.create(jwks), allowPlainHttp, "jwks_uri");
      } catch (IllegalArgumentException e) {
        throw new IOException("discovery document has an unacceptable jwks_uri", e);
      }
    }

    /**
     * Called when a call finds the keys past their cache lifetime: makes the next background
     * refresh due now, unless one is already due or running, or a fetch failed too recently.
     */
    void refreshStale(long now) {
      if (lastFetchFailed && now - lastAttemptMillis < failureRetryMillis) {
        return;
      }
      synchronized (scheduleLock) {
        ScheduledFuture<?> current = scheduled;
        if (current != null && !current.isDone() && current.getDelay(TimeUnit.MILLISECONDS) <= 0) {
          return;
        }
        schedule(0);
      }
    }

    void startRefresh() {
      schedule(0);
    }

    private void schedule(long delayMillis) {
      synchronized (scheduleLock) {
        if (closed) {
          return;
        }
        ScheduledFuture<?> previous = scheduled;
        try {
          scheduled =
              executor.schedule(this::backgroundRefresh, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
          logger.warn("Key refresh executor refused the task; refreshing on demand only");
          return;
        }
        if (previous != null && !previous.isDone()) {
          previous.cancel(false);
        }
      }
    }

    private void backgroundRefresh() {
      try {
        fetchSingleFlight(attempts.get());
      } catch (RuntimeException e) {
        logger.warn("Key refresh failed unexpectedly ({})", e.getClass().getSimpleName());
      }
    }

    void close() {
      closed = true;
      ScheduledFuture<?> f = scheduled;
      if (f != null) {
        f.cancel(false);
      }
      if (ownsExecutor) {
        executor.shutdownNow();
      }
    }

    private static long saturatedAdd(long a, long b) {
      long r = a + b;
      return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
  }
}
