package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * An unauthenticated peer cannot flood the server's log: refused TLS 1.3 handshakes whose client
 * closes at once cost at most one bounded log line, and never a stack trace.
 */
class RefusedHandshakeLoggingTest {

  private static final DevPki PKI = DevPki.create();
  private static final int ATTEMPTS = 20;

  /** Collects everything that reaches System.err (slf4j-simple, so Netty) and java.util.logging. */
  private static final class Capture implements AutoCloseable {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream originalErr = System.err;
    private final java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    private final Level originalLevel = root.getLevel();
    private final Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            synchronized (bytes) {
              String line = r.getLevel() + " " + r.getLoggerName() + " " + r.getMessage() + "\n";
              bytes.writeBytes(line.getBytes(StandardCharsets.UTF_8));
              if (r.getThrown() != null) {
                bytes.writeBytes("STACK TRACE\n".getBytes(StandardCharsets.UTF_8));
              }
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };

    Capture() {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      root.addHandler(handler);
      root.setLevel(Level.INFO);
    }

    String text() {
      System.err.flush();
      synchronized (bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
      }
    }

    @Override
    public void close() {
      System.setErr(originalErr);
      root.removeHandler(handler);
      root.setLevel(originalLevel);
    }
  }

  /**
   * Completes a TLS 1.3 client handshake (which ends before the server checks the client's
   * certificate) and closes at once, as a scanner does.
   */
  private static void handshakeAndClose(Server server, DevPki.@Nullable Credential client)
      throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", PKI.rootCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManager[] kms = null;
    if (client != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] pw = "x".toCharArray();
      keys.setKeyEntry(
          "client",
          client.privateKey(),
          pw,
          client.chain().toArray(new java.security.cert.Certificate[0]));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, pw);
      kms = kmf.getKeyManagers();
    }
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kms, tmf.getTrustManagers(), null);
    try (SSLSocket socket =
        (SSLSocket)
            ctx.getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), server.getPort())) {
      socket.setSoTimeout(5000);
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(params);
      socket.startHandshake();
    }
  }

  @Test
  void refusedHandshakes_clientClosesAtOnce_atMostOneBoundedLineNoStackTrace() throws Exception {
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(serverKey(), serverChain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .build(),
            TransportGuardServerInterceptor.create());
    String log;
    try (Capture capture = new Capture()) {
      for (int i = 0; i < ATTEMPTS; i++) {
        handshakeAndClose(server, i % 2 == 0 ? null : PKI.foreign().client("spiffe://x/y"));
      }
      // A good call afterwards proves the server still serves; shutting the server down then
      // drains the event loops' work for the refused connections before the log is read.
      ManagedChannel channel =
          TlsEcho.channel(
              server,
              MtlsChannelCredentials.newBuilder()
                  .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                  .identity(IdentityMaterial.of(goodClient.privateKey(), goodClient.chain()))
                  .build());
      try {
        assertThat(Echo.call(channel, "hello")).isEqualTo("hello");
      } finally {
        TlsEcho.shutdown(channel);
      }
      server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
      log = capture.text();
    } finally {
      TlsEcho.shutdown(server);
    }
    assertThat(log).doesNotContain("reached at the tail of the pipeline");
    assertThat(log).doesNotContain("STACK TRACE").doesNotContain("\tat ");
    assertThat(log.lines().filter(l -> !l.isBlank()).count()).isLessThanOrEqualTo(1);
    assertThat(log.length()).isLessThanOrEqualTo(400);
  }

  private final DevPki.Credential serverCert = PKI.server();
  private final DevPki.Credential goodClient = PKI.client(PKI.spiffeId("ns/ward/sa/good"));

  private java.security.PrivateKey serverKey() {
    return serverCert.privateKey();
  }

  private List<java.security.cert.X509Certificate> serverChain() {
    return serverCert.chain();
  }
}
