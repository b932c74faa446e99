package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AccessTokenSource} using the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4)
 * against a token endpoint, with client authentication by HTTP Basic ({@code client_secret_basic}).
 *
 * <p>The token is cached until {@code refreshBefore} (default 60 s, at most half the token's
 * lifetime) before it expires; then one caller fetches a new one while concurrent callers wait for
 * that single request. If the refresh fails while the cached token is still valid, the cached token
 * is returned. Responses are capped at 64 KiB; the endpoint must be HTTPS; timeout 10 s. Neither
 * the secret nor the token nor the response body appears in an exception message or log.
 *
 * <p>Thread-safe.
 */
public final class ClientCredentialsTokenSource implements AccessTokenSource {

  private static final class Cached {
    final String token;
    final long fetchedAtMillis;
    final long refreshAtMillis;
    final long expiresAtMillis;

    Cached(String token, long fetchedAtMillis, long refreshAtMillis, long expiresAtMillis) {
      this.token = token;
      this.fetchedAtMillis = fetchedAtMillis;
      this.refreshAtMillis = refreshAtMillis;
      this.expiresAtMillis = expiresAtMillis;
    }
  }

  private final URI endpoint;
  private final String basicAuth;
  private final String form;
  private final Clock clock;
  private final long refreshBeforeMillis;
  private final Duration timeout;
  private final HttpsJsonFetcher http;
  private final Object lock = new Object();
  private volatile @Nullable Cached cached;

  private ClientCredentialsTokenSource(Builder b) {
    this.endpoint = b.endpoint;
    this.basicAuth =
        "Basic "
            + Base64.getEncoder()
                .encodeToString(
                    (urlEncode(b.clientId) + ":" + urlEncode(b.clientSecret))
                        .getBytes(StandardCharsets.UTF_8));
    StringBuilder f = new StringBuilder("grant_type=client_credentials");
    if (!b.scopes.isEmpty()) {
      f.append("&scope=").append(urlEncode(String.join(" ", b.scopes)));
    }
    for (URI resource : b.resources) {
      f.append("&resource=").append(urlEncode(resource.toString()));
    }
    if (b.audience != null) {
      f.append("&audience=").append(urlEncode(b.audience));
    }
    this.form = f.toString();
    this.clock = b.clock;
    this.refreshBeforeMillis = b.refreshBefore.toMillis();
    this.timeout = b.timeout;
    this.http = new HttpsJsonFetcher(b.sslContext, b.timeout, 64 * 1024);
  }

  /**
   * Starts a source for {@code clientId} at {@code tokenEndpoint}.
   *
   * @param tokenEndpoint the HTTPS token endpoint
   * @param clientId the OAuth client id
   * @param clientSecret the client secret; kept in memory, never printed
   */
  public static Builder newBuilder(URI tokenEndpoint, String clientId, String clientSecret) {
    return new Builder(tokenEndpoint, clientId, clientSecret);
  }

  @Override
  public String token() throws IOException {
    Cached c = cached;
    long now = clock.millis();
    if (c != null && now < c.refreshAtMillis) {
      return c.token;
    }
    synchronized (lock) {
      c = cached;
      now = clock.millis();
      if (c != null && now < c.refreshAtMillis) {
        return c.token; // another caller refreshed while this one waited
      }
      try {
        Cached fresh = fetch(now);
        cached = fresh;
        return fresh.token;
      } catch (IOException e) {
        if (c != null && now < c.expiresAtMillis) {
          return c.token;
        }
        throw e;
      }
    }
  }

  /**
   * Drops the cached token if it was fetched before {@code instant} (a server refused it): the next
   * {@link #token()} fetches a new one. A token fetched since is kept, so concurrent refusals of
   * one stale token cause one fetch, not one each.
   */
  @Override
  public void invalidateIssuedBefore(Instant instant) {
    synchronized (lock) {
      Cached c = cached;
      if (c != null && c.fetchedAtMillis < instant.toEpochMilli()) {
        cached = null;
      }
    }
  }

  private Cached fetch(long now) throws IOException {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .header("Authorization", basicAuth)
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build();
    HttpsJsonFetcher.Fetched response = http.send(request);
    Map<String, Object> json = JwtJson.parseObject(response.body);
    if (json == null) {
      throw new IOException("token response is not a JSON object");
    }
    String token = JwtJson.string(json, "access_token");
    String type = JwtJson.string(json, "token_type");
    if (token == null || token.isEmpty() || type == null || !type.equalsIgnoreCase("Bearer")) {
      throw new IOException("token response lacks a bearer access_token");
    }
    for (int i = 0; i < token.length(); i++) {
      char ch = token.charAt(i);
      if (ch <= 0x20 || ch > 0x7e) {
        throw new IOException("access_token has characters not allowed in a header");
      }
    }
    Object expiresIn = json.get("expires_in");
    long lifetimeMillis =
        expiresIn instanceof Number n
            ? (long) (n.doubleValue() * 1000)
            : Duration.ofMinutes(5).toMillis(); // RFC 6749 makes it optional; assume short
    if (lifetimeMillis <= 0) {
      throw new IOException("token response has a non-positive expires_in");
    }
    // A huge expires_in would overflow the deadline below; no access token should live a day.
    lifetimeMillis = Math.min(lifetimeMillis, Duration.ofDays(1).toMillis());
    long early = Math.min(refreshBeforeMillis, lifetimeMillis / 2);
    return new Cached(token, now, now + lifetimeMillis - early, now + lifetimeMillis);
  }

  private static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Prints the endpoint only. */
  @Override
  public String toString() {
    return "ClientCredentialsTokenSource{" + endpoint + "}";
  }

  /** Builds a {@link ClientCredentialsTokenSource}. Not thread-safe. */
  public static final class Builder {
    private final URI endpoint;
    private final String clientId;
    private final String clientSecret;
    private final List<String> scopes = new ArrayList<>();
    private @Nullable String audience;
    private final List<URI> resources = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private Duration refreshBefore = Duration.ofSeconds(60);
    private Duration timeout = Duration.ofSeconds(10);
    private @Nullable SSLContext sslContext;
    private boolean allowPlainHttp;

    private Builder(URI endpoint, String clientId, String clientSecret) {
      this.endpoint = requireNonNull(endpoint, "tokenEndpoint");
      this.clientId = requireNonNull(clientId, "clientId");
      this.clientSecret = requireNonNull(clientSecret, "clientSecret");
      if (clientId.isBlank() || clientSecret.isEmpty()) {
        throw new IllegalArgumentException("clientId and clientSecret must not be blank");
      }
    }

    /** Requests these scopes. Default: none (the server's default scopes). */
    public Builder scopes(String... scopes) {
      for (String s : scopes) {
        requireNonNull(s, "scope");
        if (s.isBlank() || s.contains(" ")) {
          throw new IllegalArgumentException("a scope must be one non-blank word");
        }
        this.scopes.add(s);
      }
      return this;
    }

    /**
     * Asks for a token for these resource servers, sent as RFC 8707 "resource" parameters, the
     * standard way to name the API a token is for (one per URI; several allowed). Each must be an
     * absolute URI without a fragment. Default: none.
     */
    public Builder resource(URI... resources) {
      for (URI r : resources) {
        requireNonNull(r, "resource");
        if (!r.isAbsolute() || r.getRawFragment() != null) {
          throw new IllegalArgumentException(
              "a resource must be an absolute URI without a fragment (RFC 8707 section 2)");
        }
        this.resources.add(r);
      }
      return this;
    }

    /**
     * Sends an {@code audience} parameter, which some providers (Auth0) use instead of RFC 8707
     * {@link #resource}. Default: none.
     */
    public Builder audience(String audience) {
      this.audience = requireNonNull(audience, "audience");
      return this;
    }

    /** Sets the clock for token lifetimes. Default: system UTC. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** How long before expiry a token is replaced. Default: 60 s. */
    public Builder refreshBefore(Duration d) {
      requireNonNull(d, "refreshBefore");
      if (d.isNegative()) {
        throw new IllegalArgumentException("refreshBefore must not be negative");
      }
      this.refreshBefore = d;
      return this;
    }

    /** Connect and request timeout. Default: 10 s. */
    public Builder timeout(Duration d) {
      requireNonNull(d, "timeout");
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("timeout must be positive");
      }
      this.timeout = d;
      return this;
    }

    /** Sets the TLS context for the token endpoint. Default: the JDK's default trust. */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = requireNonNull(sslContext, "sslContext");
      return this;
    }

    /**
     * Allows a plain {@code http} endpoint on a loopback address.
     *
     * <p>DANGEROUS: the client secret and tokens travel unencrypted. For tests only.
     */
    public Builder INSECURE_allowPlainHttpForLoopbackTesting() {
      this.allowPlainHttp = true;
      return this;
    }

    /**
     * Returns the source. Nothing is fetched until the first {@link #token()} call.
     *
     * @throws IllegalArgumentException if the endpoint is not HTTPS (or loopback HTTP with the
     *     opt-in)
     */
    public ClientCredentialsTokenSource build() {
      HttpsJsonFetcher.checkUri(endpoint, allowPlainHttp, "tokenEndpoint");
      return new ClientCredentialsTokenSource(this);
    }
  }
}
