package dev.hipaagrpc.auth.authn;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * A real identity provider on loopback (HTTP, or HTTPS with a test certificate): serves a JWK Set,
 * an OIDC discovery document and an OAuth 2.0 token endpoint, counts requests, rotates keys on
 * demand, and can be made to fail.
 */
final class JwksTestServer implements AutoCloseable {
  private final HttpServer server;
  private final String scheme;
  final AtomicInteger jwksFetches = new AtomicInteger();
  final AtomicInteger discoveryFetches = new AtomicInteger();
  final AtomicInteger tokenRequests = new AtomicInteger();
  volatile String jwks = "{\"keys\":[]}";
  volatile String cacheControl = "max-age=300";
  volatile int status = 200;
  volatile String discoveryIssuer;
  volatile Supplier<String> tokenResponse = () -> "{}";
  volatile CountDownLatch tokenGate = new CountDownLatch(0);

  /** While its count is not zero, the JWKS body stalls after its first bytes. */
  volatile CountDownLatch bodyStall = new CountDownLatch(0);

  /** Answers introspection requests: the presented token in, the JSON answer out. */
  volatile java.util.function.Function<String, String> introspectionAnswer =
      t -> "{\"active\":false}";

  final AtomicInteger introspectionRequests = new AtomicInteger();
  volatile String lastIntrospectionAuthorization;
  volatile String lastIntrospectionForm;

  volatile String lastTokenAuthorization;
  volatile String lastTokenForm;

  /** Plain HTTP on 127.0.0.1. */
  JwksTestServer() throws IOException {
    this(null);
  }

  /** HTTPS on localhost when {@code tls} is set. */
  JwksTestServer(SSLContext tls) throws IOException {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    if (tls == null) {
      server = HttpServer.create(address, 0);
      scheme = "http://127.0.0.1:";
    } else {
      HttpsServer https = HttpsServer.create(address, 0);
      https.setHttpsConfigurator(new HttpsConfigurator(tls));
      server = https;
      scheme = "https://localhost:";
    }
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/jwks", this::serveJwks);
    server.createContext("/.well-known/openid-configuration", this::serveDiscovery);
    server.createContext("/token", this::serveToken);
    server.createContext("/introspect", this::serveIntrospection);
    server.start();
    discoveryIssuer = issuer();
  }

  String issuer() {
    return scheme + server.getAddress().getPort();
  }

  URI jwksUri() {
    return URI.create(issuer() + "/jwks");
  }

  URI introspectionUri() {
    return URI.create(issuer() + "/introspect");
  }

  URI tokenUri() {
    return URI.create(issuer() + "/token");
  }

  private void serveJwks(HttpExchange exchange) throws IOException {
    jwksFetches.incrementAndGet();
    if (status != 200) {
      respond(exchange, status, "{\"error\":\"down\"}");
      return;
    }
    exchange.getResponseHeaders().add("Cache-Control", cacheControl);
    CountDownLatch stall = bodyStall;
    if (stall.getCount() > 0) {
      byte[] bytes = jwks.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes, 0, 8);
        out.flush();
        stall.await(10, TimeUnit.SECONDS);
        out.write(bytes, 8, bytes.length - 8);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    respond(exchange, 200, jwks);
  }

  private void serveDiscovery(HttpExchange exchange) throws IOException {
    discoveryFetches.incrementAndGet();
    respond(
        exchange,
        200,
        "{\"issuer\":\"" + discoveryIssuer + "\",\"jwks_uri\":\"" + jwksUri() + "\"}");
  }

  private void serveToken(HttpExchange exchange) throws IOException {
    tokenRequests.incrementAndGet();
    lastTokenAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
    lastTokenForm = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    try {
      tokenGate.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (status != 200 || !"POST".equals(exchange.getRequestMethod())) {
      respond(exchange, status == 200 ? 405 : status, "{\"error\":\"secret-detail\"}");
      return;
    }
    respond(exchange, 200, tokenResponse.get());
  }

  private void serveIntrospection(HttpExchange exchange) throws IOException {
    introspectionRequests.incrementAndGet();
    lastIntrospectionAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
    String form = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    lastIntrospectionForm = form;
    try {
      tokenGate.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (status != 200 || !"POST".equals(exchange.getRequestMethod())) {
      respond(exchange, status == 200 ? 405 : status, "{\"error\":\"secret-detail\"}");
      return;
    }
    String token = "";
    for (String pair : form.split("&", -1)) {
      if (pair.startsWith("token=")) {
        token = java.net.URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
      }
    }
    respond(exchange, 200, introspectionAnswer.apply(token));
  }

  private static void respond(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
