package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fetching half of a remote {@link KeySource}: the cached JWK Set, its background refresh on
 * the cache lifetime the provider announces, single-flight fetches for unknown key ids, and the
 * last good keys kept through an outage.
 *
 * <p>The refresh is scheduled one fetch at a time, each delay taken from the response's {@code
 * max-age} (or made due now when a call finds the keys stale): a fixed-period reload does not fit.
 *
 * <p>Thread-safe.
 */
final class RemoteKeyCache {
  private static final Logger logger = LoggerFactory.getLogger(RemoteKeyCache.class);

  private final URI uri;
  private final @Nullable String discoveryIssuer;
  private final ScheduledExecutorService executor;
  private final boolean ownsExecutor;
  final Clock clock;
  private final HttpsJsonFetcher fetcher;
  private final boolean allowPlainHttp;
  private final long defaultCacheMillis;
  private final long minCacheMillis;
  private final long maxCacheMillis;
  private final long unknownKeyIntervalMillis;
  private final long maxStalenessMillis;
  private final long failureRetryMillis;
  private final KeyFetchObserver observer;

  volatile @Nullable KeySourceSnapshot snapshot;

  private final Object fetchLock = new Object();
  private final Object scheduleLock = new Object();
  private final AtomicLong lastUnknownKeyFetch = new AtomicLong(Long.MIN_VALUE / 2);
  private final AtomicLong attempts = new AtomicLong();
  private volatile long lastAttemptMillis = Long.MIN_VALUE / 2;
  volatile boolean lastFetchFailed;
  private volatile @Nullable URI jwksUri;
  private volatile @Nullable ScheduledFuture<?> scheduled;
  private volatile boolean closed;

  RemoteKeyCache(KeySource.RemoteBuilder b) {
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
    this.fetcher = new HttpsJsonFetcher(b.sslContext, b.timeout, b.maxResponseBytes);
    this.allowPlainHttp = b.allowPlainHttp;
    this.defaultCacheMillis = b.defaultCacheDuration.toMillis();
    this.minCacheMillis = b.minCacheDuration.toMillis();
    this.maxCacheMillis = b.maxCacheDuration.toMillis();
    this.unknownKeyIntervalMillis = b.unknownKeyRefreshInterval.toMillis();
    this.maxStalenessMillis = b.maxStaleness.toMillis();
    this.failureRetryMillis = b.failureRetryInterval.toMillis();
    this.observer = b.observer;
    this.jwksUri = discoveryIssuer == null ? uri : null;
  }

  /** Fetches when no usable keys exist, unless a recent attempt failed (spares a down IdP). */
  @Nullable KeySourceSnapshot fetchIfAllowed(long now) {
    long observed = attempts.get();
    if (lastFetchFailed && now - lastAttemptMillis < failureRetryMillis) {
      return snapshot;
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
      return snapshot;
    }
  }

  private @Nullable KeySourceSnapshot fetchSingleFlight(long observedAttempts) {
    synchronized (fetchLock) {
      if (attempts.get() != observedAttempts || closed) {
        return snapshot;
      }
      fetchNow();
      return snapshot;
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
      HttpsJsonFetcher.Fetched fetched = get(KeyFetchObserver.Kind.JWKS, target);
      KeySourceSnapshot previous = snapshot;
      List<KeySourceSnapshot.Entry> entries;
      try {
        entries = KeySourceSnapshot.parseJwkSet(fetched.body, previous);
        if (entries.isEmpty()) {
          throw new IOException("JWK Set holds no public signature key");
        }
      } catch (IOException | IllegalArgumentException | SecurityException e) {
        FetchReports.tell(observer, KeyFetchObserver.Kind.JWKS, KeyFetchObserver.Outcome.REJECTED);
        throw e;
      }
      long lifetime =
          fetched.maxAge == null
              ? defaultCacheMillis
              : Math.max(minCacheMillis, Math.min(maxCacheMillis, fetched.maxAge.toMillis()));
      long freshUntil = started + lifetime;
      snapshot =
          new KeySourceSnapshot(
              entries, started, freshUntil, saturatedAdd(freshUntil, maxStalenessMillis));
      lastFetchFailed = false;
      // After the new keys are in place: an observer that reads keysFetchedAt() sees them.
      FetchReports.tell(observer, KeyFetchObserver.Kind.JWKS, KeyFetchObserver.Outcome.OK);
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

  boolean isDiscovery() {
    return discoveryIssuer != null;
  }

  /** The configured URI without query or fragment (which could carry a credential). */
  String uriWithoutQuery() {
    return uri.getScheme()
        + "://"
        + String.valueOf(uri.getRawAuthority()).replaceFirst("^.*@", "")
        + uri.getRawPath();
  }

  /** One GET; a failure to get an answer is reported as ERROR here, a refused answer by callers. */
  private HttpsJsonFetcher.Fetched get(KeyFetchObserver.Kind kind, URI target) throws IOException {
    try {
      return fetcher.get(target);
    } catch (IOException | RuntimeException e) {
      FetchReports.tell(observer, kind, KeyFetchObserver.Outcome.ERROR);
      throw e;
    }
  }

  private URI discover() throws IOException {
    HttpsJsonFetcher.Fetched doc = get(KeyFetchObserver.Kind.DISCOVERY, uri);
    try {
      URI jwks = jwksUriOf(doc);
      FetchReports.tell(observer, KeyFetchObserver.Kind.DISCOVERY, KeyFetchObserver.Outcome.OK);
      return jwks;
    } catch (IOException | RuntimeException e) {
      FetchReports.tell(
          observer, KeyFetchObserver.Kind.DISCOVERY, KeyFetchObserver.Outcome.REJECTED);
      throw e;
    }
  }

  private URI jwksUriOf(HttpsJsonFetcher.Fetched doc) throws IOException {
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
      return HttpsJsonFetcher.checkUri(URI.create(jwks), allowPlainHttp, "jwks_uri");
    } catch (IllegalArgumentException e) {
      throw new IOException("discovery document has an unacceptable jwks_uri", e);
    }
  }

  /**
   * Called when a call finds the keys past their cache lifetime: makes the next background refresh
   * due now, unless one is already due or running, or a fetch failed too recently.
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
        scheduled = executor.schedule(this::backgroundRefresh, delayMillis, TimeUnit.MILLISECONDS);
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
