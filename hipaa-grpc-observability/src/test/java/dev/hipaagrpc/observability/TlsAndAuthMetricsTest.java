package dev.hipaagrpc.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.hipaagrpc.auth.authn.KeySource;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.MtlsServerCredentials;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.micrometer.core.instrument.search.RequiredSearch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The TLS handshake-failure counter over real handshakes on port 0, and the identity-provider
 * request counter and key-age gauge against a real HTTPS JWKS server on loopback.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsAndAuthMetricsTest {

  private static final DevPki PKI = DevPki.create();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double failures(String reason) {
    return registry
        .get("hipaa.grpc.tls.handshake.failures")
        .tag("reason", reason)
        .counter()
        .count();
  }

  /** Waits (bounded) until the counter reaches {@code n}; refusals are counted on an event loop. */
  private void awaitFailures(String reason, double n) throws InterruptedException {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (failures(reason) < n && System.nanoTime() < giveUp) {
      Thread.sleep(10);
    }
    assertThat(failures(reason)).isEqualTo(n);
  }

  private static void callFails(Server server, ChannelCredentials creds) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("localhost", server.getPort(), creds).build();
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello")).isNotNull();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tlsMetrics_plaintextWrongCaAndNoCertificate_countedByReasonEveryReasonRegistered()
      throws Exception {
    DevPki.Credential serverCert = PKI.server();
    Server server =
        Grpc.newServerBuilderForPort(
                0,
                MtlsServerCredentials.newBuilder()
                    .identity(IdentityMaterial.of(serverCert.privateKey(), serverCert.chain()))
                    .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                    .handshakeObserver(MicrometerTlsMetrics.create(registry))
                    .build())
            .addService(
                ServerInterceptors.intercept(
                    Echo.service(), TransportGuardServerInterceptor.create()))
            .build()
            .start();
    try {
      // Every reason is there from the start, at zero.
      assertThat(registry.get("hipaa.grpc.tls.handshake.failures").counters()).hasSize(13);
      assertThat(failures("unknown_ca")).isZero();

      callFails(server, InsecureChannelCredentials.create());
      awaitFailures("plaintext", 1);

      // A client that trusts another CA refuses the server's certificate with an alert.
      callFails(
          server,
          MtlsChannelCredentials.newBuilder()
              .trust(TrustMaterial.of(List.of(PKI.foreign().rootCertificate())))
              .build());
      awaitFailures("peer_alert", 1);

      callFails(
          server,
          MtlsChannelCredentials.newBuilder()
              .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
              .build());
      awaitFailures("certificate_required", 1);
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(failures("plaintext")).isEqualTo(1);
  }

  /** A JWKS on HTTPS with one P-256 key. */
  private static final class Jwks implements AutoCloseable {
    final HttpsServer server;

    Jwks(String body) throws Exception {
      DevPki.Credential cert = PKI.server();
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pw = "test".toCharArray();
      ks.setKeyEntry("server", cert.privateKey(), pw, cert.chain().toArray(new Certificate[0]));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.setHttpsConfigurator(new HttpsConfigurator(ctx));
      server.createContext(
          "/jwks",
          exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(bytes);
            }
          });
      server.start();
    }

    URI uri() {
      return URI.create("https://localhost:" + server.getAddress().getPort() + "/jwks");
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  private static String jwk(ECPublicKey key) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"alg\":\"ES256\","
        + "\"use\":\"sig\",\"x\":\""
        + b64.encodeToString(fixed(key.getW().getAffineX()))
        + "\",\"y\":\""
        + b64.encodeToString(fixed(key.getW().getAffineY()))
        + "\"}]}";
  }

  private static byte[] fixed(BigInteger v) {
    byte[] raw = v.toByteArray();
    byte[] out = new byte[32];
    int n = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - n, out, 32 - n, n);
    return out;
  }

  private double requests(String kind, String outcome) {
    RequiredSearch s =
        registry
            .get("hipaa.grpc.auth.idp.requests")
            .tag("kind", kind)
            .tag("outcome", outcome)
            .tag("source", "workforce-idp");
    return s.counter().count();
  }

  private void awaitRequests(String kind, String outcome, double n) throws InterruptedException {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (requests(kind, outcome) < n && System.nanoTime() < giveUp) {
      Thread.sleep(10);
    }
    assertThat(requests(kind, outcome)).isEqualTo(n);
  }

  @Test
  void authMetrics_jwksFetched_countedByKindOutcomeAndSourceKeyAgeGauged() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    KeyPair pair = g.generateKeyPair();
    SSLContext trust = TrustMaterial.of(List.of(PKI.rootCertificate())).clientSslContext();
    try (Jwks jwks = new Jwks(jwk((ECPublicKey) pair.getPublic()));
        KeySource keys =
            KeySource.fromJwksUri(jwks.uri())
                .sslContext(trust)
                .observer(MicrometerAuthMetrics.create(registry, "workforce-idp"))
                .build()) {
      MicrometerAuthMetrics.bindKeyAge(registry, keys, "workforce-idp");
      awaitRequests("jwks", "ok", 1);
      double age =
          registry.get("hipaa.grpc.auth.keys.age").tag("source", "workforce-idp").gauge().value();
      assertThat(age).isNotNaN().isGreaterThanOrEqualTo(0);
      assertThat(requests("discovery", "ok")).isZero();
      assertThat(requests("jwks", "error")).isZero();
    }
    // No tag value beyond the configured name, the kinds and the outcomes.
    assertThat(
            registry.get("hipaa.grpc.auth.idp.requests").counters().stream()
                .flatMap(c -> c.getId().getTags().stream())
                .map(t -> t.getValue())
                .distinct())
        .allSatisfy(
            v ->
                assertThat(
                        Arrays.asList(
                            "workforce-idp",
                            "discovery",
                            "jwks",
                            "introspection",
                            "ok",
                            "error",
                            "rejected"))
                    .contains(v));
    assertThatThrownBy(() -> MicrometerAuthMetrics.create(registry, "https://idp.example/x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
