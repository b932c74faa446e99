package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.hipaagrpc.testing.DevPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TrustMaterial#clientSslContext()} against a real HTTPS server on loopback, as the auth
 * module's JWKS and token fetches use it: trusted, then refused after a trust change, without a new
 * context.
 */
class ClientSslContextTest {

  private final DevPki pki = DevPki.create();
  private HttpsServer server;

  @BeforeEach
  void start() throws Exception {
    DevPki.Credential s = pki.server();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "x".toCharArray();
    ks.setKeyEntry("s", s.privateKey(), pw, s.chain().toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(ks, pw);
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.createContext(
        "/jwks",
        ex -> {
          byte[] body = "{\"keys\":[]}".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String get(SSLContext tls) throws IOException, InterruptedException {
    // A new client per request: a new connection, so each fetch does its own handshake.
    HttpClient client =
        HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    return client
        .send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + server.getAddress().getPort() + "/jwks"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void clientSslContext_trustsTheMaterialAndFollowsItsChanges() throws Exception {
    TrustMaterial trust = TrustMaterial.of(List.of(pki.rootCertificate()));
    SSLContext tls = trust.clientSslContext();
    assertThat(trust.clientSslContext()).as("one context, one change hook").isSameAs(tls);
    assertThat(get(tls)).isEqualTo("{\"keys\":[]}");

    trust.update(List.of(pki.foreign().rootCertificate()), List.of());
    assertThatThrownBy(() -> get(tls)).isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void clientSslContext_doesNotTrustTheJdkPublicCas() {
    SSLContext tls = TrustMaterial.of(List.of(pki.foreign().rootCertificate())).clientSslContext();
    assertThatThrownBy(() -> get(tls)).isInstanceOf(SSLHandshakeException.class);
  }
}
