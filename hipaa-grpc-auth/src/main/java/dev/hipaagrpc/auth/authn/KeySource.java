package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.core.internal.Checks.requireNonNegative;
import static dev.hipaagrpc.core.internal.Checks.requirePositive;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

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
  private static final int MAX_FILE_BYTES = 1024 * 1024;

  private final boolean symmetric;
  // Exactly one is set: fixed keys, or the cache of a remote JWK Set.
  private final @Nullable KeySourceSnapshot fixed;
  private final @Nullable RemoteKeyCache remote;

  private KeySource(
      boolean symmetric, @Nullable KeySourceSnapshot fixed, @Nullable RemoteKeyCache remote) {
    this.symmetric = symmetric;
    this.fixed = fixed;
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

  /** No keys: every JWT is refused ({@code unknown_key}); for issuers of opaque tokens only. */
  static KeySource none() {
    return new KeySource(false, fixed(List.of()), null);
  }

  private static KeySourceSnapshot fixed(List<KeySourceSnapshot.Entry> entries) {
    return new KeySourceSnapshot(entries, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
  }

  /**
   * When the keys in use were fetched: {@code null} for fixed keys and for a remote source that has
   * not fetched any yet. The age of the keys ({@code now - keysFetchedAt()}) grows past the cache
   * lifetime only while the provider cannot be reached.
   */
  public @Nullable Instant keysFetchedAt() {
    RemoteKeyCache r = remote;
    KeySourceSnapshot s = r == null ? null : r.snapshot;
    return s == null ? null : Instant.ofEpochMilli(s.fetchedAtMillis);
  }

  /** The clock of a remote source (its cache lifetimes), or system UTC for fixed keys. */
  public Clock clock() {
    RemoteKeyCache r = remote;
    return r == null ? Clock.systemUTC() : r.clock;
  }

  /**
   * The posture of this source: its kind ({@code fixed_public_keys}, {@code hmac_secret}, {@code
   * jwks}, {@code oidc_discovery}), where it fetches from, the key ids in use, when they were
   * fetched and whether the last fetch failed. No key material.
   */
  Map<String, Object> posture() {
    Map<String, Object> p = new LinkedHashMap<>();
    RemoteKeyCache r = remote;
    KeySourceSnapshot s = r == null ? fixed : r.snapshot;
    if (r == null) {
      p.put("kind", symmetric ? "hmac_secret" : "fixed_public_keys");
    } else {
      p.put("kind", r.isDiscovery() ? "oidc_discovery" : "jwks");
      p.put("uri", r.uriWithoutQuery());
      p.put("lastFetchFailed", r.lastFetchFailed);
      Instant at = keysFetchedAt();
      p.put("keysFetchedAt", at == null ? "never" : at.toString());
      if (at != null) {
        p.put("keyAgeSeconds", Math.max(0, (r.clock.millis() - at.toEpochMilli()) / 1000));
      }
    }
    List<String> kids = new ArrayList<>();
    if (s != null && !symmetric) {
      for (KeySourceSnapshot.Entry e : s.entries) {
        kids.add(e.kid == null ? "(no kid)" : e.kid);
      }
    }
    p.put("keyIds", kids);
    return p;
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
   * @throws CredentialFailure {@code keys_unavailable} when no usable keys can be had, {@code
   *     unknown_key} when the key is not (or no longer) published
   */
  Key resolve(@Nullable String kid, String alg) throws CredentialFailure {
    RemoteKeyCache r = remote;
    if (r == null) {
      KeySourceSnapshot.Entry e = find(requireNonNull(fixed), kid);
      if (e == null) {
        throw CredentialFailure.invalidToken("unknown_key");
      }
      return checkAlg(e, alg);
    }
    long now = r.clock.millis();
    KeySourceSnapshot s = r.snapshot;
    if (s == null || now > s.usableUntilMillis) {
      s = r.fetchIfAllowed(now);
      if (s == null || now > s.usableUntilMillis) {
        throw CredentialFailure.keysUnavailable();
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
        throw CredentialFailure.keysUnavailable();
      }
    }
    if (e == null) {
      throw CredentialFailure.invalidToken("unknown_key");
    }
    return checkAlg(e, alg);
  }

  /**
   * Returns whether {@code key} is still one of the usable keys (for verified-token cache hits).
   */
  boolean stillTrusts(Key key, long nowMillis) {
    RemoteKeyCache r = remote;
    KeySourceSnapshot s = r == null ? fixed : r.snapshot;
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

  private static Key checkAlg(KeySourceSnapshot.Entry e, String alg) throws CredentialFailure {
    if (e.alg != null && !e.alg.equals(alg)) {
      throw CredentialFailure.invalidToken("algorithm_mismatch");
    }
    return e.key;
  }

  /** Stops background refresh and, when the source created its own executor, shuts it down. */
  @Override
  public void close() {
    RemoteKeyCache r = remote;
    if (r != null) {
      r.close();
    }
  }

  /** Builds a remote {@link KeySource}. Not thread-safe. */
  public static final class RemoteBuilder {
    final URI uri;
    final @Nullable String discoveryIssuer;
    @Nullable ScheduledExecutorService executor;
    Clock clock = Clock.systemUTC();
    @Nullable SSLContext sslContext;
    Duration defaultCacheDuration = Duration.ofMinutes(10);
    Duration minCacheDuration = Duration.ofMinutes(1);
    Duration maxCacheDuration = Duration.ofHours(24);
    Duration unknownKeyRefreshInterval = Duration.ofSeconds(30);
    Duration maxStaleness = Duration.ofHours(6);
    Duration failureRetryInterval = Duration.ofSeconds(30);
    Duration timeout = Duration.ofSeconds(5);
    int maxResponseBytes = 256 * 1024;
    boolean allowPlainHttp;
    KeyFetchObserver observer = KeyFetchObserver.NOOP;

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

    /**
     * Tells {@code observer} the outcome of every discovery and JWK Set request. Default: {@link
     * KeyFetchObserver#NOOP}.
     */
    public RemoteBuilder observer(KeyFetchObserver observer) {
      this.observer = requireNonNull(observer, "observer");
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
      this.defaultCacheDuration = requirePositive(d, "defaultCacheDuration");
      return this;
    }

    /** Lower bound on the cache lifetime. Default: 1 minute. */
    public RemoteBuilder minCacheDuration(Duration d) {
      this.minCacheDuration = requirePositive(d, "minCacheDuration");
      return this;
    }

    /** Upper bound on the cache lifetime. Default: 24 hours. */
    public RemoteBuilder maxCacheDuration(Duration d) {
      this.maxCacheDuration = requirePositive(d, "maxCacheDuration");
      return this;
    }

    /** Least time between two fetches caused by unknown key ids. Default: 30 seconds. */
    public RemoteBuilder unknownKeyRefreshInterval(Duration d) {
      this.unknownKeyRefreshInterval = requireNonNegative(d, "unknownKeyRefreshInterval");
      return this;
    }

    /**
     * How long past their cache lifetime the last good keys stay in use while the provider cannot
     * be reached. Default: 6 hours.
     */
    public RemoteBuilder maxStaleness(Duration d) {
      this.maxStaleness = requireNonNegative(d, "maxStaleness");
      return this;
    }

    /** Least time between fetch attempts after a failed fetch. Default: 30 seconds. */
    public RemoteBuilder failureRetryInterval(Duration d) {
      this.failureRetryInterval = requireNonNegative(d, "failureRetryInterval");
      return this;
    }

    /** Connect and request timeout. Default: 5 seconds. */
    public RemoteBuilder timeout(Duration d) {
      this.timeout = requirePositive(d, "timeout");
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
      HttpsJsonFetcher.checkUri(
          uri, allowPlainHttp, discoveryIssuer != null ? "issuer" : "jwksUri");
      if (minCacheDuration.compareTo(maxCacheDuration) > 0) {
        throw new IllegalStateException("minCacheDuration must not exceed maxCacheDuration");
      }
      RemoteKeyCache remote = new RemoteKeyCache(this);
      remote.startRefresh();
      return new KeySource(false, null, remote);
    }
  }
}
