package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MtlsServerCredentialsTest {

  private static final DevPki PKI = DevPki.create();
  private static final String CLIENT_ID = PKI.spiffeId("ns/clinic/sa/frontend");
  private static Server server;

  @TempDir static Path dir;

  @BeforeAll
  static void startServer() {
    DevPki.PemFiles files = PKI.server().writePem(dir, "server");
    Path ca = PKI.writeTrustBundle(dir.resolve("ca.pem"));
    Path crl = PKI.writeCrls(dir.resolve("crl.pem"));
    ServerCredentials creds =
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.fromPemFiles(files.certificateChain(), files.privateKey()))
            .trust(TrustMaterial.fromPemFiles(ca, List.of(crl)))
            .build();
    server = Echo.start(creds);
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    Echo.shutdown(server);
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
    ManagedChannel channel = Echo.channel(server, creds);
    try {
      return Echo.call(channel, message);
    } finally {
      Echo.shutdown(channel);
    }
  }

  private static void assertServerStillServes() throws InterruptedException {
    assertThat(callWith(clientCreds(PKI.client(CLIENT_ID)), "still here")).isEqualTo("still here");
  }

  @Test
  void call_validClientCertificate_succeeds() throws InterruptedException {
    assertThat(callWith(clientCreds(PKI.client(CLIENT_ID)), "hello")).isEqualTo("hello");
  }

  @Test
  void call_noClientCertificate_failsUnavailable() throws InterruptedException {
    assertThatThrownBy(() -> callWith(clientCreds(null), "hello"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertServerStillServes();
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
