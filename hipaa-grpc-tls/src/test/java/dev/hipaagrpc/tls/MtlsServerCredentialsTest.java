package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One mTLS server with the defaults (NIST profile, client certificate required, CRLs), attacked by
 * every kind of client the issue lists; after each refusal a good client still gets served.
 */
class MtlsServerCredentialsTest {

  private static final DevPki PKI = DevPki.create();
  private static final String CLIENT_ID = PKI.spiffeId("ns/clinic/sa/frontend");
  private static DevPki.Credential revoked;
  private static Server server;

  @TempDir static Path dir;

  @BeforeAll
  static void startServer() {
    revoked = PKI.revokedClient(PKI.spiffeId("ns/clinic/sa/stolen"));
    DevPki.PemFiles files = PKI.server().writePem(dir, "server");
    Path ca = PKI.writeTrustBundle(dir.resolve("ca.pem"));
    Path crl = PKI.writeCrls(dir.resolve("crl.pem"));
    ServerCredentials creds =
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.fromPemFiles(files.certificateChain(), files.privateKey()))
            .trust(TrustMaterial.fromPemFiles(ca, List.of(crl)))
            .build();
    server = TlsEcho.start(creds);
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    TlsEcho.shutdown(server);
  }

  private static ChannelCredentials clientCreds(DevPki.Credential client) {
    MtlsChannelCredentials.Builder b =
        MtlsChannelCredentials.newBuilder().trust(TrustMaterial.of(List.of(PKI.rootCertificate())));
    if (client != null) {
      b.identity(IdentityMaterial.of(client.privateKey(), client.chain()));
    }
    return b.build();
  }

  private static String callWith(ChannelCredentials creds, String message)
      throws InterruptedException {
    ManagedChannel channel = TlsEcho.channel(server, creds);
    try {
      return Echo.call(channel, message);
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  /**
   * A client that does not go through our builder (so it can present what our builder would refuse,
   * like an expired certificate): plain grpc-netty with the JDK's defaults.
   */
  private static String callWithRawNettyClient(DevPki.Credential client) throws Exception {
    SslContext ctx =
        GrpcSslContexts.configure(
                io.netty.handler.ssl.SslContextBuilder.forClient()
                    .keyManager(client.privateKey(), client.chain())
                    .trustManager(PKI.rootCertificate()),
                SslProvider.JDK)
            .build();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("localhost", server.getPort()).sslContext(ctx).build();
    try {
      return Echo.call(channel, "hello");
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  private static void assertUnavailable(ThrowingCall call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  interface ThrowingCall {
    void run() throws Exception;
  }

  private static void assertServerStillServes() throws InterruptedException {
    assertThat(callWith(clientCreds(PKI.client(CLIENT_ID)), "still here")).isEqualTo("still here");
  }

  @Test
  void call_validClientCertificate_succeeds() throws InterruptedException {
    assertThat(callWith(clientCreds(PKI.client(CLIENT_ID)), "hello")).isEqualTo("hello");
  }

  @Test
  void call_rawNettyClientWithValidCertificate_succeeds() throws Exception {
    // Control for the raw-client tests below: the raw client itself works.
    assertThat(callWithRawNettyClient(PKI.client(CLIENT_ID))).isEqualTo("hello");
  }

  @Test
  void call_noClientCertificate_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWith(clientCreds(null), "hello"));
    assertServerStillServes();
  }

  @Test
  void call_certificateFromOtherCa_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWithRawNettyClient(PKI.foreign().client(CLIENT_ID)));
    assertServerStillServes();
  }

  @Test
  void call_expiredCertificate_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWithRawNettyClient(PKI.expiredClient(CLIENT_ID)));
    assertServerStillServes();
  }

  @Test
  void call_notYetValidCertificate_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWithRawNettyClient(PKI.notYetValidClient(CLIENT_ID)));
    assertServerStillServes();
  }

  @Test
  void call_revokedCertificate_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWithRawNettyClient(revoked));
    assertServerStillServes();
  }

  @Test
  void call_plaintextClient_failsUnavailable() throws InterruptedException {
    assertUnavailable(() -> callWith(InsecureChannelCredentials.create(), "hello"));
    assertServerStillServes();
  }

  @Test
  void handshake_rawHelloWithApprovedSuite_getsServerHello() throws IOException {
    // Control: the hand-built hello is well-formed, so the refusals below mean something.
    RawClientHello.Result r =
        RawClientHello.send(
            server.getPort(), RawClientHello.TLS_1_2, RawClientHello.ECDHE_ECDSA_GCM);
    assertThat(r.answer()).isEqualTo(RawClientHello.Answer.SERVER_HELLO);
  }

  @Test
  void handshake_cbcOnlyAgainstJdkDefaults_getsServerHello() throws Exception {
    // Control: the JDK's default TLS server accepts this CBC-only hello, so the refusal below is
    // our profile's doing, not the JDK's policy.
    DevPki.Credential s = PKI.server();
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "x".toCharArray();
    ks.setKeyEntry(
        "k", s.privateKey(), pw, s.chain().toArray(new java.security.cert.Certificate[0]));
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
    kmf.init(ks, pw);
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    try (javax.net.ssl.SSLServerSocket listener =
        (javax.net.ssl.SSLServerSocket)
            ctx.getServerSocketFactory()
                .createServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread accept =
          new Thread(
              () -> {
                try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) listener.accept()) {
                  socket.startHandshake();
                } catch (IOException e) {
                  // The raw client hangs up after the ServerHello.
                }
              });
      accept.start();
      RawClientHello.Result r =
          RawClientHello.send(
              listener.getLocalPort(), RawClientHello.TLS_1_2, RawClientHello.CBC_SUITES);
      assertThat(r.answer()).isEqualTo(RawClientHello.Answer.SERVER_HELLO);
      accept.join();
    }
  }

  @Test
  void handshake_tls11Only_refusedWithoutServerHello() throws Exception {
    int[] suites = {0xC009, 0xC013, 0xC02B};
    RawClientHello.Result r = RawClientHello.send(server.getPort(), RawClientHello.TLS_1_1, suites);
    assertRefused(r);
    assertServerStillServes();
  }

  @Test
  void handshake_tls12CbcOnly_refusedWithoutServerHello() throws Exception {
    assertRefused(
        RawClientHello.send(server.getPort(), RawClientHello.TLS_1_2, RawClientHello.CBC_SUITES));
    assertServerStillServes();
  }

  @Test
  void handshake_tls12StaticRsaOnly_refusedWithoutServerHello() throws Exception {
    assertRefused(
        RawClientHello.send(
            server.getPort(), RawClientHello.TLS_1_2, RawClientHello.STATIC_RSA_SUITES));
    assertServerStillServes();
  }

  @Test
  void handshake_tls12ChaChaOnly_refusedByNistProfile() throws Exception {
    assertRefused(
        RawClientHello.send(server.getPort(), RawClientHello.TLS_1_2, RawClientHello.CHACHA_TLS12));
    assertServerStillServes();
  }

  @Test
  void handshake_tls12Sha1SignatureSchemesOnly_refusedWithHandshakeFailure() throws Exception {
    // SP 800-52r2 allows no SHA-1 handshake signature. JDK 17 would sign the ServerKeyExchange
    // with ecdsa_sha1 here; the profile's constraints leave it no scheme to sign with.
    RawClientHello.Hello sha1 =
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM)
            .withSignatureSchemes(RawClientHello.SHA1_SCHEMES);
    RawClientHello.Result r = RawClientHello.send(server.getPort(), sha1);
    assertThat(r.answer()).isEqualTo(RawClientHello.Answer.ALERT);
    assertThat(r.alertDescription()).as("handshake_failure").isEqualTo(40);
    assertServerStillServes();
  }

  @Test
  void handshake_tls12NoSignatureAlgorithmsExtension_meansSha1_refused() throws Exception {
    // RFC 5246 7.4.1.4.1: without the extension a TLS 1.2 client supports only SHA-1 signatures.
    RawClientHello.Hello none =
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM).withSignatureSchemes();
    assertRefused(RawClientHello.send(server.getPort(), none));
    assertServerStillServes();
  }

  @Test
  void handshake_noAlpn_refusedWithNoApplicationProtocolAlert() throws Exception {
    RawClientHello.Hello noAlpn =
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM).withAlpn();
    RawClientHello.Result r = RawClientHello.send(server.getPort(), noAlpn);
    assertThat(r.answer()).isEqualTo(RawClientHello.Answer.ALERT);
    assertThat(r.alertLevel()).as("fatal").isEqualTo(2);
    assertThat(r.alertDescription()).as("no_application_protocol").isEqualTo(120);
    assertServerStillServes();
  }

  @Test
  void handshake_http11OnlyAlpn_refusedWithNoApplicationProtocolAlert() throws Exception {
    RawClientHello.Hello http11 =
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM).withAlpn("http/1.1");
    RawClientHello.Result r = RawClientHello.send(server.getPort(), http11);
    assertThat(r.answer()).isEqualTo(RawClientHello.Answer.ALERT);
    assertThat(r.alertDescription()).as("no_application_protocol").isEqualTo(120);
    assertServerStillServes();
  }

  @Test
  void handshake_h2AmongOthers_getsServerHello() throws Exception {
    RawClientHello.Hello both =
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM).withAlpn("http/1.1", "h2");
    assertThat(RawClientHello.send(server.getPort(), both).answer())
        .isEqualTo(RawClientHello.Answer.SERVER_HELLO);
  }

  private static void assertRefused(RawClientHello.Result r) {
    assertThat(r.answer()).isNotEqualTo(RawClientHello.Answer.SERVER_HELLO);
    if (r.answer() == RawClientHello.Answer.ALERT) {
      assertThat(r.alertLevel()).as("fatal alert").isEqualTo(2);
    }
  }

  @Test
  void build_noTrust_refused() {
    DevPki.Credential s = PKI.server();
    MtlsServerCredentials.Builder b =
        MtlsServerCredentials.newBuilder().identity(IdentityMaterial.of(s.privateKey(), s.chain()));
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("trust");
  }
}
