package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client-initiated renegotiation against a real server: a JDK client that has completed a TLS 1.2
 * handshake (with its certificate and ALPN h2) asks for a second one.
 */
class RenegotiationTest {

  private static final DevPki PKI = DevPki.create();
  private static Server server;

  @BeforeAll
  static void start() {
    DevPki.Credential s = PKI.server();
    server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .build());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    TlsEcho.shutdown(server);
  }

  @Test
  void tls12_clientInitiatedRenegotiation_connectionClosedSecondHandshakeNeverCompletes()
      throws Exception {
    AtomicInteger handshakes = new AtomicInteger();
    try (SSLSocket socket = connect("TLSv1.2")) {
      socket.addHandshakeCompletedListener(e -> handshakes.incrementAndGet());
      socket.startHandshake();
      assertThat(socket.getApplicationProtocol()).isEqualTo("h2");
      socket.getOutputStream().write(Http2.PREFACE);
      socket.getOutputStream().write(Http2.EMPTY_SETTINGS);
      socket.getOutputStream().flush();
      assertThat(socket.getInputStream().read()).as("server's SETTINGS frame").isNotNegative();
      socket.startHandshake(); // on an established TLS 1.2 connection: renegotiate
      assertThat(readUntilClosed(socket)).as("the server closes the connection").isTrue();
    }
    assertThat(handshakes).as("only the first handshake completed").hasValue(1);
    assertServerStillServes("TLSv1.2");
  }

  @Test
  void tls13_keyUpdate_isNotRenegotiation_connectionStaysUsable() throws Exception {
    // startHandshake() on TLS 1.3 sends a KeyUpdate; the guard must not mistake it.
    try (SSLSocket socket = connect("TLSv1.3")) {
      socket.startHandshake();
      socket.startHandshake();
      socket.getOutputStream().write(Http2.PREFACE);
      socket.getOutputStream().write(Http2.EMPTY_SETTINGS);
      socket.getOutputStream().flush();
      assertThat(socket.getInputStream().read()).as("server's SETTINGS frame").isNotNegative();
    }
  }

  @Test
  void tls12_ordinaryTraffic_passesTheGuard() throws Exception {
    // Many records after the handshake (a 200 KiB message spans 13+ of them) are not refused.
    assertServerStillServes("TLSv1.2");
    assertEchoes("TLSv1.2", "x".repeat(200 * 1024));
  }

  private static void assertServerStillServes(String protocol) throws InterruptedException {
    assertEchoes(protocol, "hello");
  }

  private static void assertEchoes(String protocol, String message) throws InterruptedException {
    ManagedChannel channel =
        TlsEcho.channel(
            server,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .identity(client())
                .protocols(protocol)
                .build());
    try {
      assertThat(Echo.call(channel, message)).isEqualTo(message);
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  private static IdentityMaterial client() {
    DevPki.Credential c = PKI.client(PKI.spiffeId("ns/clinic/sa/frontend"));
    return IdentityMaterial.of(c.privateKey(), c.chain());
  }

  /** True if the server closed the connection (EOF or reset); false on a 10 s read timeout. */
  private static boolean readUntilClosed(SSLSocket socket) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[4096];
    try {
      while (in.read(buf) >= 0) {
        // the server's SETTINGS, sent right after the first handshake
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static SSLSocket connect(String protocol) throws Exception {
    DevPki.Credential c = PKI.client(PKI.spiffeId("ns/clinic/sa/frontend"));
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    char[] pw = "x".toCharArray();
    keys.setKeyEntry("c", c.privateKey(), pw, c.chain().toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, pw);
    KeyStore roots = KeyStore.getInstance("PKCS12");
    roots.load(null, null);
    roots.setCertificateEntry("root", PKI.rootCertificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(roots);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    SSLSocket socket =
        (SSLSocket)
            ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.getPort());
    // A safety net against a hung test, not a timing assertion.
    socket.setSoTimeout(10_000);
    SSLParameters p = socket.getSSLParameters();
    p.setProtocols(new String[] {protocol});
    p.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(p);
    return socket;
  }

  /** The HTTP/2 client connection preface. */
  private static final class Http2 {
    static final byte[] PREFACE =
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A SETTINGS frame with no settings (length 0, type 4, no flags, stream 0). */
    static final byte[] EMPTY_SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};

    private Http2() {}
  }
}
