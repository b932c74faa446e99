package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Client-side checks, profiles and builder refusals. */
class MtlsChannelCredentialsTest {

  private static final DevPki PKI = DevPki.create();
  private static final DevPki.Credential CLIENT = PKI.client(PKI.spiffeId("ns/a/sa/client"));

  private static MtlsServerCredentials.Builder serverBuilder(DevPki.Credential s) {
    return MtlsServerCredentials.newBuilder()
        .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
        .trust(TrustMaterial.of(List.of(PKI.rootCertificate())));
  }

  private static MtlsChannelCredentials.Builder clientBuilder() {
    return MtlsChannelCredentials.newBuilder()
        .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
        .identity(IdentityMaterial.of(CLIENT.privateKey(), CLIENT.chain()));
  }

  private static String roundTrip(Server server, ChannelCredentials creds) throws Exception {
    ManagedChannel channel = TlsEcho.channel(server, creds);
    try {
      return Echo.call(channel, "hello");
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  private static void assertUnavailable(Server server, ChannelCredentials creds) {
    assertThatThrownBy(() -> roundTrip(server, creds))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  private static String pin(X509Certificate c) {
    return Base64.getEncoder().encodeToString(Certs.spkiSha256(c));
  }

  @Test
  void pinSpkiSha256_leafOrIntermediatePinned_succeedsAndWrongPinFails() throws Exception {
    DevPki.Credential s = PKI.server();
    Server server = TlsEcho.start(serverBuilder(s).build());
    try {
      assertThat(roundTrip(server, clientBuilder().pinSpkiSha256(pin(s.certificate())).build()))
          .isEqualTo("hello");
      assertThat(
              roundTrip(
                  server,
                  clientBuilder()
                      .pinSpkiSha256("sha256/" + pin(PKI.intermediateCertificate()))
                      .build()))
          .isEqualTo("hello");
      assertUnavailable(
          server, clientBuilder().pinSpkiSha256(pin(PKI.foreign().rootCertificate())).build());
      assertThat(roundTrip(server, clientBuilder().build())).isEqualTo("hello");
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void hostnameVerification_serverCertificateForOtherName_fails() throws Exception {
    DevPki.Credential wrongName = PKI.newLeaf().dnsName("records.example").serverAuth().issue();
    Server server = TlsEcho.start(serverBuilder(wrongName).build());
    try {
      assertUnavailable(server, clientBuilder().build());
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void trust_serverFromOtherCa_fails() throws Exception {
    DevPki.Credential foreignServer = PKI.foreign().server();
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(foreignServer.privateKey(), foreignServer.chain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .build());
    try {
      assertUnavailable(server, clientBuilder().build());
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void protocols_tls13OnlyServerAndTls12OnlyClient_fail() throws Exception {
    Server server = TlsEcho.start(serverBuilder(PKI.server()).protocols("TLSv1.3").build());
    try {
      assertThat(roundTrip(server, clientBuilder().build())).isEqualTo("hello");
      assertUnavailable(server, clientBuilder().protocols("TLSv1.2").build());
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void profile_tls12WithRsaKeys_succeeds() throws Exception {
    DevPki rsa = DevPki.newBuilder().keyType(DevPki.KeyType.RSA_2048).build();
    DevPki.Credential s = rsa.server();
    DevPki.Credential c = rsa.client(rsa.spiffeId("rsa"));
    TrustMaterial trust = TrustMaterial.of(List.of(rsa.rootCertificate()));
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(trust)
                .protocols("TLSv1.2")
                .build());
    try {
      assertThat(
              roundTrip(
                  server,
                  MtlsChannelCredentials.newBuilder()
                      .trust(trust)
                      .identity(IdentityMaterial.of(c.privateKey(), c.chain()))
                      .build()))
          .isEqualTo("hello");
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void profile_mozillaIntermediate_acceptsChaChaThatNistRefuses() throws Exception {
    Server server =
        TlsEcho.start(serverBuilder(PKI.server()).profile(TlsProfile.MOZILLA_INTERMEDIATE).build());
    try {
      RawClientHello.Result r =
          RawClientHello.send(
              server.getPort(), RawClientHello.TLS_1_2, RawClientHello.CHACHA_TLS12);
      assertThat(r.answer()).isEqualTo(RawClientHello.Answer.SERVER_HELLO);
      assertThat(
              RawClientHello.send(
                      server.getPort(), RawClientHello.TLS_1_2, RawClientHello.CBC_SUITES)
                  .answer())
          .isNotEqualTo(RawClientHello.Answer.SERVER_HELLO);
      assertThat(
              roundTrip(server, clientBuilder().profile(TlsProfile.MOZILLA_INTERMEDIATE).build()))
          .isEqualTo("hello");
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void namedGroups_x25519OnlyClient_refusedByNistAcceptedByMozilla() throws Exception {
    // On every JDK: the profile's groups are the engine's algorithm constraints.
    // RSA certificates, so the client's group list cannot also rule out an ECDSA certificate.
    DevPki rsa = DevPki.newBuilder().keyType(DevPki.KeyType.RSA_2048).build();
    DevPki.Credential s = rsa.server();
    TrustMaterial trust = TrustMaterial.of(List.of(rsa.rootCertificate()));
    MtlsServerCredentials.Builder b =
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
            .trust(trust);
    Server nist = TlsEcho.start(b.build());
    Server mozilla = TlsEcho.start(b.profile(TlsProfile.MOZILLA_INTERMEDIATE).build());
    int[] ecdheRsaGcm = {0xC02F}; // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    int[] x25519 = {RawClientHello.X25519};
    try {
      assertThat(RawClientHello.send(nist.getPort(), RawClientHello.TLS_1_2, ecdheRsaGcm).answer())
          .as("control: P-256 offered")
          .isEqualTo(RawClientHello.Answer.SERVER_HELLO);
      assertThat(
              RawClientHello.send(
                      nist.getPort(), RawClientHello.TLS_1_2, RawClientHello.STATIC_RSA_SUITES)
                  .answer())
          .as("static RSA key transport against an RSA certificate")
          .isNotEqualTo(RawClientHello.Answer.SERVER_HELLO);
      assertThat(
              RawClientHello.send(nist.getPort(), RawClientHello.TLS_1_2, ecdheRsaGcm, x25519)
                  .answer())
          .isNotEqualTo(RawClientHello.Answer.SERVER_HELLO);
      assertThat(
              RawClientHello.send(mozilla.getPort(), RawClientHello.TLS_1_2, ecdheRsaGcm, x25519)
                  .answer())
          .isEqualTo(RawClientHello.Answer.SERVER_HELLO);
    } finally {
      TlsEcho.shutdown(nist);
      TlsEcho.shutdown(mozilla);
    }
  }

  @Test
  void ocsp_responderUnreachable_failClosedRefusesAndSoftFailAccepts() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    DevPki ocspPki =
        DevPki.newBuilder().ocspResponder("http://127.0.0.1:" + closedPort + "/ocsp").build();
    DevPki.Credential s = ocspPki.server();
    DevPki.Credential c = ocspPki.client(ocspPki.spiffeId("ocsp"));
    TrustMaterial trust = TrustMaterial.of(List.of(ocspPki.rootCertificate()));
    MtlsServerCredentials.Builder server =
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
            .trust(trust)
            .enableOcsp();
    Server closed = TlsEcho.start(server.build());
    Server soft = TlsEcho.start(server.allowUnsafeOcspSoftFail().build());
    ChannelCredentials client =
        MtlsChannelCredentials.newBuilder()
            .trust(trust)
            .identity(IdentityMaterial.of(c.privateKey(), c.chain()))
            .build();
    try {
      assertUnavailable(closed, client);
      assertThat(roundTrip(soft, client)).isEqualTo("hello");
    } finally {
      TlsEcho.shutdown(closed);
      TlsEcho.shutdown(soft);
    }
  }

  @Test
  void ocsp_withCrls_fallsBackToCrls() throws Exception {
    DevPki.Credential s = PKI.server();
    DevPki.Credential revoked = PKI.revokedClient(PKI.spiffeId("gone"));
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate()), PKI.crls()))
                .enableOcsp()
                .build());
    try {
      assertThat(roundTrip(server, clientBuilder().build())).isEqualTo("hello");
      // Our builder refuses nothing about a revoked-but-valid certificate: the server must.
      assertUnavailable(
          server,
          MtlsChannelCredentials.newBuilder()
              .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
              .identity(IdentityMaterial.of(revoked.privateKey(), revoked.chain()))
              .build());
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void build_weakeningOrContradictorySettings_refused() {
    DevPki.Credential s = PKI.server();
    assertThatThrownBy(() -> serverBuilder(s).protocols("TLSv1.1").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("TLSv1.1");
    assertThatThrownBy(
            () -> serverBuilder(s).cipherSuites("TLS_RSA_WITH_AES_128_GCM_SHA256").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("TLS_RSA_WITH_AES_128_GCM_SHA256");
    assertThatThrownBy(
            () -> serverBuilder(s).cipherSuites("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256").build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> serverBuilder(s).cipherSuites("TLS_CHACHA20_POLY1305_SHA256").build())
        .as("ChaCha20 is outside the NIST profile")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () ->
                serverBuilder(s)
                    .protocols("TLSv1.2")
                    .cipherSuites("TLS_AES_128_GCM_SHA256")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("none of the chosen cipher suites");
    assertThatThrownBy(() -> serverBuilder(s).allowUnsafeNoClientAuth().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("client authentication is off");
    assertThatThrownBy(
            () ->
                serverBuilder(s).allowUnsafeOptionalClientAuth().allowUnsafeNoClientAuth().build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> serverBuilder(s).allowUnsafeOcspSoftFail().build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> MtlsServerCredentials.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("identity");
    assertThatThrownBy(() -> MtlsChannelCredentials.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("trust");
    assertThatThrownBy(() -> clientBuilder().protocols("SSLv3").build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> clientBuilder().pinSpkiSha256("AAAA"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void build_noClientAuthOptIn_servesAnonymousTls() throws Exception {
    DevPki.Credential s = PKI.server();
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .allowUnsafeNoClientAuth()
                .build());
    try {
      assertThat(
              roundTrip(
                  server,
                  MtlsChannelCredentials.newBuilder()
                      .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                      .build()))
          .isEqualTo("hello");
    } finally {
      TlsEcho.shutdown(server);
    }
  }
}
