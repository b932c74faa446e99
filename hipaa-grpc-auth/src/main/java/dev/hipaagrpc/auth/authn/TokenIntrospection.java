package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static dev.hipaagrpc.core.internal.Checks.requireNonNegative;
import static dev.hipaagrpc.core.internal.Checks.requirePositive;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth 2.0 token introspection (RFC 7662) for an issuer whose access tokens are opaque: the server
 * asks the issuer's introspection endpoint, over HTTPS and authenticated as a client, whether a
 * presented token is active and what it grants. Configure it on the issuer with {@link
 * IssuerConfig#newBuilder(String, TokenIntrospection)} (opaque tokens only) or {@link
 * IssuerConfig.Builder#introspection} (JWTs verified locally, other tokens introspected).
 *
 * <p>What the answer must hold: {@code active} exactly {@code true}; {@code exp} (a token without
 * one is refused, so no cache entry can outlive it); {@code iss}, when present, equal to the
 * issuer; the audience in {@code aud} (or the issuer's audience claim); a subject; {@code
 * token_type}, when present, {@code Bearer} or {@code DPoP}. The same claim mapping, lifetime,
 * {@code jti}, step-up and {@code cnf} (certificate or DPoP binding) rules as for JWTs then apply.
 *
 * <p>Caching: an active answer is reused for the same token until the earlier of its {@code exp}
 * and {@link Builder#maxCacheTime} (default 60 s, the longest a revoked token stays usable); an
 * inactive answer is never cached as valid, and is remembered as inactive for {@link
 * Builder#inactiveCacheTime} (default 10 s) so a client retrying a dead token does not load the
 * endpoint. Concurrent calls presenting one new token share one request, and at most {@link
 * Builder#maxConcurrentRequests} (default 16) requests for tokens never seen active are in flight,
 * plus as many again for re-checks of tokens this server has seen active: a flood of made-up tokens
 * (they cost an unauthenticated caller nothing) cannot hold up the re-checks of the sessions
 * already in use. Beyond that, and when the endpoint cannot be reached, answers an error or
 * non-JSON, calls fail {@code UNAVAILABLE} with code {@code introspection_unavailable}, like a JWKS
 * outage (never {@code UNAUTHENTICATED}: the client's token may be good). The request blocks the
 * thread the authentication layer runs on (the server's executor; the transport's own with {@code
 * directExecutor()}, which a server that introspects should not use) for at most {@link
 * Builder#timeout} (default 2 s). Put a connection-level limit in front (a load balancer, mTLS)
 * where unauthenticated callers can reach the server.
 *
 * <p>Neither the token, the client secret, nor the response appears in a log line or exception.
 * Immutable configuration; thread-safe.
 */
public final class TokenIntrospection {
  private static final Logger logger = LoggerFactory.getLogger(TokenIntrospection.class);
  private static final long WARN_INTERVAL_MILLIS = 60_000;
  private static final int MAX_INACTIVE_ENTRIES = 10_000;

  private final URI endpoint;
  private final @Nullable String authorization;
  private final String formSuffix;
  private final HttpsJsonFetcher http;
  private final Duration timeout;
  private final long maxCacheMillis;
  private final long inactiveCacheMillis;
  private final Semaphore permits;
  private final Semaphore recheckPermits;
  private final java.util.Set<VerifiedTokenCache.Key> seenActive = ConcurrentHashMap.newKeySet();
  private final Clock clock;
  private final KeyFetchObserver observer;
  private final ConcurrentHashMap<VerifiedTokenCache.Key, Long> inactiveUntil =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<VerifiedTokenCache.Key, CompletableFuture<Map<String, Object>>>
      inFlight = new ConcurrentHashMap<>();
  private final AtomicLong lastWarnMillis = new AtomicLong(Long.MIN_VALUE / 2);

  private TokenIntrospection(Builder b) {
    this.endpoint = b.endpoint;
    String clientId = requireNonNull(b.clientId);
    String secret = b.clientSecret;
    if (secret != null) {
      // RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
      this.authorization =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(
                      (urlEncode(clientId) + ":" + urlEncode(secret))
                          .getBytes(StandardCharsets.UTF_8));
      this.formSuffix = "&token_type_hint=access_token";
    } else {
      // RFC 8705 tls_client_auth: the certificate authenticates, client_id names the client.
      this.authorization = null;
      this.formSuffix = "&token_type_hint=access_token&client_id=" + urlEncode(clientId);
    }
    this.http = new HttpsJsonFetcher(b.sslContext, b.timeout, b.maxResponseBytes);
    this.timeout = b.timeout;
    this.maxCacheMillis = b.maxCacheTime.toMillis();
    this.inactiveCacheMillis = b.inactiveCacheTime.toMillis();
    this.permits = new Semaphore(b.maxConcurrentRequests);
    this.recheckPermits = new Semaphore(b.maxConcurrentRequests);
    this.clock = b.clock;
    this.observer = b.observer;
  }

  /**
   * Starts a configuration for the introspection endpoint {@code endpoint} (HTTPS). Choose one
   * client authentication: {@link Builder#clientSecretBasic} or {@link
   * Builder#tlsClientAuthentication}.
   */
  public static Builder newBuilder(URI endpoint) {
    return new Builder(endpoint);
  }

  /** The endpoint, for start-up summaries. */
  public URI endpoint() {
    return endpoint;
  }

  /** The longest an active answer is reused, in milliseconds. */
  long maxCacheMillis() {
    return maxCacheMillis;
  }

  /**
   * Returns the members of the issuer's answer for {@code token} when it is active.
   *
   * @throws CredentialFailure {@code inactive_token} when the issuer says it is not active, {@code
   *     introspection_unavailable} when no answer can be had
   */
  Map<String, Object> introspect(String token) throws CredentialFailure {
    VerifiedTokenCache.Key key = VerifiedTokenCache.keyOf(token, token.length());
    long now = clock.millis();
    Long until = inactiveUntil.get(key);
    if (until != null) {
      if (now < until) {
        throw CredentialFailure.invalidToken("inactive_token");
      }
      inactiveUntil.remove(key, until);
    }
    CompletableFuture<Map<String, Object>> mine = new CompletableFuture<>();
    CompletableFuture<Map<String, Object>> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return await(running);
    }
    try {
      Map<String, Object> answer = request(token, seenActive.contains(key));
      if (seenActive.size() >= MAX_INACTIVE_ENTRIES) {
        seenActive.clear(); // bounded: a forgotten token re-checks from the shared pool once
      }
      seenActive.add(key);
      mine.complete(answer);
    } catch (CredentialFailure f) {
      if (f.code().equals("inactive_token") && inactiveCacheMillis > 0) {
        if (inactiveUntil.size() >= MAX_INACTIVE_ENTRIES) {
          inactiveUntil.clear(); // bounded: forgetting costs one request per token
        }
        inactiveUntil.put(key, clock.millis() + inactiveCacheMillis);
      }
      mine.completeExceptionally(f);
    } catch (RuntimeException e) {
      warn(e.getClass().getSimpleName());
      mine.completeExceptionally(unavailable());
    } finally {
      inFlight.remove(key, mine);
    }
    return await(mine);
  }

  private Map<String, Object> await(CompletableFuture<Map<String, Object>> future)
      throws CredentialFailure {
    try {
      return future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CredentialFailure f) {
        throw f;
      }
      throw unavailable();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable();
    } catch (TimeoutException e) {
      throw unavailable();
    }
  }

  private Map<String, Object> request(String token, boolean recheck) throws CredentialFailure {
    Semaphore pool = recheck ? recheckPermits : permits;
    if (!pool.tryAcquire()) {
      warn("too many introspection requests in flight");
      throw unavailable();
    }
    HttpsJsonFetcher.Fetched fetched;
    try {
      HttpRequest.Builder r =
          HttpRequest.newBuilder(endpoint)
              .timeout(timeout)
              .header("Content-Type", "application/x-www-form-urlencoded")
              .header("Accept", "application/json");
      if (authorization != null) {
        r.header("Authorization", authorization);
      }
      String form = "token=" + urlEncode(token) + formSuffix;
      fetched = http.send(r.POST(HttpRequest.BodyPublishers.ofString(form)).build());
    } catch (IOException | RuntimeException e) {
      // The exception class only: HTTP messages can carry response text.
      FetchReports.tell(
          observer, KeyFetchObserver.Kind.INTROSPECTION, KeyFetchObserver.Outcome.ERROR);
      warn(e.getClass().getSimpleName());
      throw unavailable();
    } finally {
      pool.release();
    }
    Map<String, Object> answer = JwtJson.parseObject(fetched.body);
    if (answer == null || !(answer.get("active") instanceof Boolean active)) {
      FetchReports.tell(
          observer, KeyFetchObserver.Kind.INTROSPECTION, KeyFetchObserver.Outcome.REJECTED);
      warn("answer is not an RFC 7662 JSON object");
      throw unavailable();
    }
    FetchReports.tell(observer, KeyFetchObserver.Kind.INTROSPECTION, KeyFetchObserver.Outcome.OK);
    if (!active) {
      throw CredentialFailure.invalidToken("inactive_token");
    }
    return answer;
  }

  private void warn(String reason) {
    long now = clock.millis();
    long last = lastWarnMillis.get();
    if (now - last >= WARN_INTERVAL_MILLIS && lastWarnMillis.compareAndSet(last, now)) {
      logger.warn(
          "Token introspection at {} failed ({}); calls with opaque tokens fail UNAVAILABLE"
              + " (logged at most once a minute)",
          endpoint.getHost(),
          reason);
    }
  }

  static CredentialFailure unavailable() {
    return new CredentialFailure(
        "introspection_unavailable",
        io.grpc.Status.Code.UNAVAILABLE,
        CredentialFailure.BearerError.NONE);
  }

  private static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Prints the endpoint only. */
  @Override
  public String toString() {
    return "TokenIntrospection{" + endpoint + "}";
  }

  /** Builds a {@link TokenIntrospection}. Not thread-safe. */
  public static final class Builder {
    private URI endpoint;
    private boolean allowLoopbackHttp;
    private @Nullable String clientId;
    private @Nullable String clientSecret;
    private @Nullable SSLContext sslContext;
    private Duration timeout = Duration.ofSeconds(2);
    private Duration maxCacheTime = Duration.ofSeconds(60);
    private Duration inactiveCacheTime = Duration.ofSeconds(10);
    private int maxConcurrentRequests = 16;
    private int maxResponseBytes = 64 * 1024;
    private Clock clock = Clock.systemUTC();
    private KeyFetchObserver observer = KeyFetchObserver.NOOP;

    private Builder(URI endpoint) {
      this.endpoint = requireNonNull(endpoint, "endpoint");
    }

    /**
     * Authenticates to the endpoint with HTTP Basic ({@code client_secret_basic}, RFC 6749 section
     * 2.3.1), the method every introspecting identity provider supports.
     *
     * @param clientSecret kept in memory, never printed
     */
    public Builder clientSecretBasic(String clientId, String clientSecret) {
      this.clientId = requireNonBlank(clientId, "clientId");
      this.clientSecret = requireNonBlank(clientSecret, "clientSecret");
      return this;
    }

    /**
     * Authenticates with the TLS client certificate of {@link #sslContext} ({@code
     * tls_client_auth}, RFC 8705 section 2); {@code client_id} is sent in the form. Use {@code
     * TrustMaterial.clientSslContext(IdentityMaterial)} from the tls module, which follows
     * certificate rotation.
     */
    public Builder tlsClientAuthentication(String clientId) {
      this.clientId = requireNonBlank(clientId, "clientId");
      this.clientSecret = null;
      return this;
    }

    /**
     * The TLS context for the endpoint: its trust, and the client certificate for {@link
     * #tlsClientAuthentication}. Default: the JDK's default trust. {@code
     * TrustMaterial.clientSslContext()} gives one that follows the tls module's trust reloads.
     */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** Bounds connect, request and response together. Default: 2 s. */
    public Builder timeout(Duration d) {
      this.timeout = requirePositive(d, "timeout");
      return this;
    }

    /**
     * The longest an active answer is reused for the same token (also bounded by the token's {@code
     * exp}); zero asks on every call. This is how long a token revoked at the issuer stays usable
     * here. Default: 60 s.
     */
    public Builder maxCacheTime(Duration d) {
      this.maxCacheTime = requireNonNegative(d, "maxCacheTime");
      return this;
    }

    /** How long an inactive answer is remembered as inactive (never as valid). Default: 10 s. */
    public Builder inactiveCacheTime(Duration d) {
      this.inactiveCacheTime = requireNonNegative(d, "inactiveCacheTime");
      return this;
    }

    /**
     * Requests in flight at once for tokens never seen active (and as many again for re-checks of
     * tokens seen active); calls beyond fail UNAVAILABLE. Default: 16.
     */
    public Builder maxConcurrentRequests(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxConcurrentRequests must be at least 1");
      }
      this.maxConcurrentRequests = n;
      return this;
    }

    /** Answers larger than this are an outage. Default: 64 KiB. */
    public Builder maxResponseBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxResponseBytes must be at least 1024");
      }
      this.maxResponseBytes = bytes;
      return this;
    }

    /** The clock cache lifetimes are measured with. Default: the system UTC clock. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Accepts a plain-HTTP endpoint on a loopback host.
     *
     * <p>DANGEROUS: tokens and the client secret travel unencrypted. For tests only.
     */
    @SuppressWarnings("MethodName") // the name is the warning
    public Builder INSECURE_allowPlainHttpForLoopbackTesting() {
      this.allowLoopbackHttp = true;
      return this;
    }

    /**
     * Tells {@code observer} the outcome of every introspection request ({@code OK} for an active
     * or inactive answer). Default: {@link KeyFetchObserver#NOOP}.
     */
    public Builder observer(KeyFetchObserver observer) {
      this.observer = requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalArgumentException if the endpoint is not HTTPS
     * @throws IllegalStateException if no client authentication is chosen, or TLS client
     *     authentication without an {@link #sslContext}
     */
    public TokenIntrospection build() {
      endpoint = HttpsJsonFetcher.checkUri(endpoint, allowLoopbackHttp, "introspection endpoint");
      if (clientId == null) {
        throw new IllegalStateException(
            "choose the client authentication: clientSecretBasic(...) or"
                + " tlsClientAuthentication(...)");
      }
      if (clientSecret == null && sslContext == null) {
        throw new IllegalStateException(
            "tlsClientAuthentication needs the sslContext holding the client certificate");
      }
      return new TokenIntrospection(this);
    }
  }
}
