package dev.hipaagrpc.auth;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Fetches small JSON documents (JWK Sets, OIDC discovery, token responses) over HTTPS with a size
 * cap, no redirects and timeouts. Thread-safe.
 */
final class JwksFetcher {

  /** A fetched body and its Cache-Control lifetime ({@code null} when the server gave none). */
  static final class Fetched {
    final String body;
    final @Nullable Duration maxAge;

    Fetched(String body, @Nullable Duration maxAge) {
      this.body = body;
      this.maxAge = maxAge;
    }
  }

  private final HttpClient client;
  private final Duration timeout;
  private final int maxBytes;

  JwksFetcher(@Nullable SSLContext sslContext, Duration timeout, int maxBytes) {
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(timeout)
            .version(HttpClient.Version.HTTP_1_1);
    if (sslContext != null) {
      b.sslContext(sslContext);
    }
    this.client = b.build();
    this.timeout = timeout;
    this.maxBytes = maxBytes;
  }

  Fetched get(URI uri) throws IOException {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Accept", "application/json, application/jwk-set+json")
            .GET()
            .build();
    return send(request);
  }

  Fetched send(HttpRequest request) throws IOException {
    HttpResponse<InputStream> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    try (InputStream in = response.body()) {
      if (response.statusCode() != 200) {
        throw new IOException("HTTP status " + response.statusCode());
      }
      Optional<String> length = response.headers().firstValue("content-length");
      if (length.isPresent()) {
        try {
          if (Long.parseLong(length.get().trim()) > maxBytes) {
            throw new IOException("response larger than " + maxBytes + " bytes");
          }
        } catch (NumberFormatException e) {
          throw new IOException("bad content-length", e);
        }
      }
      byte[] body = in.readNBytes(maxBytes + 1);
      if (body.length > maxBytes) {
        throw new IOException("response larger than " + maxBytes + " bytes");
      }
      Duration maxAge = maxAge(response.headers().allValues("cache-control"));
      if (maxAge != null) {
        Optional<String> age = response.headers().firstValue("age");
        if (age.isPresent()) {
          try {
            maxAge = maxAge.minusSeconds(Math.max(0, Long.parseLong(age.get().trim())));
          } catch (NumberFormatException e) {
            // A malformed Age is ignored: max-age alone still bounds the lifetime.
          }
          if (maxAge.isNegative()) {
            maxAge = Duration.ZERO;
          }
        }
      }
      return new Fetched(new String(body, StandardCharsets.UTF_8), maxAge);
    }
  }

  /**
   * Reads {@code max-age} from Cache-Control; {@code no-store}/{@code no-cache} count as zero.
   * Returns null when no directive bounds the lifetime.
   */
  static @Nullable Duration maxAge(java.util.List<String> cacheControl) {
    Duration result = null;
    for (String header : cacheControl) {
      for (String directive : header.split(",", -1)) {
        String d = directive.trim().toLowerCase(Locale.ROOT);
        if (d.equals("no-store") || d.equals("no-cache")) {
          return Duration.ZERO;
        }
        if (d.startsWith("max-age=")) {
          String v = d.substring("max-age=".length()).replace("\"", "");
          try {
            long seconds = Long.parseLong(v);
            if (seconds >= 0) {
              result = Duration.ofSeconds(seconds);
            }
          } catch (NumberFormatException e) {
            // Malformed max-age: ignore it; the configured default lifetime applies.
          }
        }
      }
    }
    return result;
  }

  /**
   * Refuses URIs that are not HTTPS; plain HTTP only when {@code allowLoopbackHttp} and the host is
   * a loopback address.
   *
   * @throws IllegalArgumentException if the URI is not acceptable
   */
  static URI checkUri(URI uri, boolean allowLoopbackHttp, String what) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(what + " must be an absolute https URI without user info");
    }
    if (scheme.equals("https")) {
      return uri;
    }
    if (scheme.equals("http") && allowLoopbackHttp && isLoopback(uri.getHost())) {
      return uri;
    }
    throw new IllegalArgumentException(
        what
            + " must use https (plain http only for a loopback host with"
            + " INSECURE_allowPlainHttpForLoopbackTesting)");
  }

  private static boolean isLoopback(String host) {
    String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!h.isEmpty() && (Character.isDigit(h.charAt(0)) || h.contains(":"))) {
      try {
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
    return false;
  }
}
