package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.Socket;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every refused connection is reported once to the {@link TlsHandshakeObserver}, with a bounded
 * reason; real clients over real Netty TLS on port 0.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HandshakeFailureObserverTest {

  private static final DevPki PKI = DevPki.create();
  private static final String CLIENT_ID = PKI.spiffeId("ns/clinic/sa/portal");
  private static final BlockingQueue<TlsHandshakeFailure> REPORTED = new LinkedBlockingQueue<>();

  @TempDir static Path dir;
  private static Server server;
  private static DevPki.Credential revoked;

  @BeforeAll
  static void start() {
    revoked = PKI.revokedClient(PKI.spiffeId("ns/clinic/sa/stolen"));
    DevPki.PemFiles files = PKI.server().writePem(dir, "server");
    server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(
                    IdentityMaterial.fromPemFiles(files.certificateChain(), files.privateKey()))
                .trust(
                    TrustMaterial.fromPemFiles(
                        PKI.writeTrustBundle(dir.resolve("ca.pem")),
                        List.of(PKI.writeCrls(dir.resolve("crl.pem")))))
                .handshakeObserver(REPORTED::add)
                .build());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    TlsEcho.shutdown(server);
  }

  @BeforeEach
  void clear() {
    REPORTED.clear();
  }

  private static TlsHandshakeFailure nextReport() throws InterruptedException {
    TlsHandshakeFailure r = REPORTED.poll(10, TimeUnit.SECONDS);
    assertThat(r).as("a refused connection is reported").isNotNull();
    return r;
  }

  private static void callFails(ChannelCredentials creds) throws InterruptedException {
    ManagedChannel channel = TlsEcho.channel(server, creds);
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello")).isNotNull();
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  private static final DevPki.Credential GOOD_CLIENT = PKI.client(CLIENT_ID);

  private static void rawNettyCallFails(DevPki.@Nullable Credential client) throws Exception {
    SslContextBuilder b = SslContextBuilder.forClient().trustManager(PKI.rootCertificate());
    if (client != null) {
      b.keyManager(alwaysPresenting(client));
    }
    SslContext ctx = GrpcSslContexts.configure(b, SslProvider.JDK).build();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("localhost", server.getPort()).sslContext(ctx).build();
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello")).isNotNull();
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  /**
   * Presents {@code client} whatever CAs the server asks for (the JDK's own key manager would send
   * no certificate to a server that names other CAs), as a misconfigured or hostile client does.
   */
  private static X509ExtendedKeyManager alwaysPresenting(DevPki.Credential client) {
    X509Certificate[] chain = client.chain().toArray(new X509Certificate[0]);
    return new X509ExtendedKeyManager() {
      @Override
      public String[] getClientAliases(String keyType, Principal[] issuers) {
        return new String[] {"client"};
      }

      @Override
      public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return "client";
      }

      @Override
      public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
        return "client";
      }

      @Override
      public String[] getServerAliases(String keyType, Principal[] issuers) {
        return new String[0];
      }

      @Override
      public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket s) {
        return null;
      }

      @Override
      public X509Certificate[] getCertificateChain(String alias) {
        return chain.clone();
      }

      @Override
      public PrivateKey getPrivateKey(String alias) {
        return client.privateKey();
      }
    };
  }

  /** A good call is not a failure, and proves the server still serves. */
  private static void goodCallNotReported() throws InterruptedException {
    ManagedChannel channel =
        TlsEcho.channel(
            server,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .identity(IdentityMaterial.of(GOOD_CLIENT.privateKey(), GOOD_CLIENT.chain()))
                .build());
    try {
      assertThat(Echo.call(channel, "ok")).isEqualTo("ok");
    } finally {
      TlsEcho.shutdown(channel);
    }
    assertThat(REPORTED).isEmpty();
  }

  @Test
  void plaintextClient_reportedPlaintext() throws Exception {
    callFails(InsecureChannelCredentials.create());
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.PLAINTEXT);
    goodCallNotReported();
  }

  @Test
  void tls11Hello_reportedProtocolVersion() throws Exception {
    RawClientHello.send(server.getPort(), RawClientHello.TLS_1_1, new int[] {0xC009, 0xC013});
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.PROTOCOL_VERSION);
    goodCallNotReported();
  }

  @Test
  void cbcOnlyHello_reportedNoCipherOverlap() throws Exception {
    RawClientHello.send(server.getPort(), RawClientHello.TLS_1_2, RawClientHello.CBC_SUITES);
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.NO_CIPHER_OVERLAP);
  }

  @Test
  void sha1OnlySignatureSchemes_reportedNoSignatureOrGroupOverlap() throws Exception {
    RawClientHello.send(
        server.getPort(),
        RawClientHello.Hello.tls12(RawClientHello.ECDHE_ECDSA_GCM)
            .withSignatureSchemes(RawClientHello.SHA1_SCHEMES));
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.NO_SIGNATURE_OR_GROUP_OVERLAP);
  }

  @Test
  void clientCertificateFromOtherCa_reportedUnknownCa() throws Exception {
    rawNettyCallFails(PKI.foreign().client(CLIENT_ID));
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.UNKNOWN_CA);
    goodCallNotReported();
  }

  @Test
  void expiredClientCertificate_reportedCertificateExpired() throws Exception {
    rawNettyCallFails(PKI.expiredClient(CLIENT_ID));
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.CERTIFICATE_EXPIRED);
  }

  @Test
  void revokedClientCertificate_reportedCertificateRevoked() throws Exception {
    rawNettyCallFails(revoked);
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.CERTIFICATE_REVOKED);
  }

  @Test
  void noClientCertificate_reportedCertificateRequired() throws Exception {
    rawNettyCallFails(null);
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.CERTIFICATE_REQUIRED);
  }

  @Test
  void clientWithoutCertificateAgainstOtherCaList_reportedCertificateRequired() throws Exception {
    SslContext ctx =
        GrpcSslContexts.configure(
                SslContextBuilder.forClient()
                    .trustManager(PKI.rootCertificate())
                    .keyManager(
                        PKI.foreign().client(CLIENT_ID).privateKey(),
                        PKI.foreign().client(CLIENT_ID).chain()),
                SslProvider.JDK)
            .build();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("localhost", server.getPort()).sslContext(ctx).build();
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello")).isNotNull();
    } finally {
      TlsEcho.shutdown(channel);
    }
    // The JDK client sends no certificate to a server that names other CAs.
    assertThat(nextReport()).isEqualTo(TlsHandshakeFailure.CERTIFICATE_REQUIRED);
  }

  @Test
  void eachReason_tagIsLowerCaseName() {
    assertThat(TlsHandshakeFailure.NO_CIPHER_OVERLAP.tag()).isEqualTo("no_cipher_overlap");
  }
}
