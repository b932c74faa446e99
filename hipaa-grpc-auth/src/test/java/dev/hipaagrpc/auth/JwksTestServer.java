package dev.hipaagrpc.auth;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real identity provider on loopback: serves a JWK Set and an OIDC discovery document, counts
 * fetches, rotates keys on demand, and can be made to fail.
 */
final class JwksTestServer implements AutoCloseable {
  private final HttpServer server;
  final AtomicInteger jwksFetches = new AtomicInteger();
  final AtomicInteger discoveryFetches = new AtomicInteger();
  volatile String jwks = "{\"keys\":[]}";
  volatile String cacheControl = "max-age=300";
  volatile int status = 200;
  volatile String discoveryIssuer;

  JwksTestServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/jwks", this::serveJwks);
    server.createContext("/.well-known/openid-configuration", this::serveDiscovery);
    server.start();
    discoveryIssuer = issuer();
  }

  String issuer() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  URI jwksUri() {
    return URI.create(issuer() + "/jwks");
  }

  private void serveJwks(HttpExchange exchange) throws IOException {
    jwksFetches.incrementAndGet();
    if (status != 200) {
      respond(exchange, status, "{\"error\":\"down\"}");
      return;
    }
    exchange.getResponseHeaders().add("Cache-Control", cacheControl);
    respond(exchange, 200, jwks);
  }

  private void serveDiscovery(HttpExchange exchange) throws IOException {
    discoveryFetches.incrementAndGet();
    respond(
        exchange,
        200,
        "{\"issuer\":\"" + discoveryIssuer + "\",\"jwks_uri\":\"" + jwksUri() + "\"}");
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
  }
}
