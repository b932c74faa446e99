package dev.hipaagrpc.auth.authn;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Fetches small JSON documents (JWK Sets, OIDC discovery, token responses) over HTTPS with a size
 * cap, no redirects and timeouts. Thread-safe.
 */
final class HttpsJsonFetcher {

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

  HttpsJsonFetcher(@Nullable SSLContext sslContext, Duration timeout, int maxBytes) {
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
    // The request timeout covers only the wait for response headers; the whole exchange, body
    // included, gets the same deadline here, so a provider that stalls mid-body cannot hold the
    // caller (possibly a gRPC call thread) indefinitely.
    CompletableFuture<HttpResponse<byte[]>> future =
        client.sendAsync(request, info -> new CappedBody(maxBytes));
    HttpResponse<byte[]> response;
    try {
      response = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new IOException("timed out", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException("fetch failed", cause);
    }
    if (response.statusCode() != 200) {
      throw new IOException("HTTP status " + response.statusCode());
    }
    byte[] body = response.body();
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

  /** Collects a response body, failing (and cancelling the stream) past {@code maxBytes}. */
  private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int maxBytes;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.@Nullable Subscription subscription;

    CappedBody(int maxBytes) {
      this.maxBytes = maxBytes;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer item : items) {
        if (buffer.size() + item.remaining() > maxBytes) {
          Flow.Subscription s = subscription;
          if (s != null) {
            s.cancel();
          }
          result.completeExceptionally(
              new IOException("response larger than " + maxBytes + " bytes"));
          return;
        }
        byte[] chunk = new byte[item.remaining()];
        item.get(chunk);
        buffer.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
      result.complete(buffer.toByteArray());
    }
  }
}
