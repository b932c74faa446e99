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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A trust or revocation change binds resumed sessions (stateless tickets included, TLS 1.3 and 1.2)
 * and live connections: the next call after the change is refused.
 */
class TrustChangeBindsSessionsTest {

  private static final DevPki PKI = DevPki.create();

  private DevPki.Credential client;
  private TrustMaterial serverTrust;
  private Server server;

  @BeforeEach
  void setUp() {
    client = PKI.client(PKI.spiffeId("ns/ward/sa/resumer"));
    serverTrust = TrustMaterial.of(List.of(PKI.rootCertificate()), PKI.crls());
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (server != null) {
      TlsEcho.shutdown(server);
    }
  }

  private void startServer(String protocol) {
    DevPki.Credential serverCert = PKI.server();
    server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(serverCert.privateKey(), serverCert.chain()))
                .trust(serverTrust)
                .protocols(protocol)
                .build(),
            TransportGuardServerInterceptor.create());
  }

  /** One credentials object, so every channel shares one client session cache (resumption). */
  private ChannelCredentials clientCreds() {
    return MtlsChannelCredentials.newBuilder()
        .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
        .identity(IdentityMaterial.of(client.privateKey(), client.chain()))
        .build();
  }

  private String callOnNewChannel(ChannelCredentials creds) throws InterruptedException {
    ManagedChannel channel = TlsEcho.channel(server, creds);
    try {
      return Echo.call(channel, "hello");
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  private void removeClientCa() {
    serverTrust.update(List.of(PKI.foreign().rootCertificate()), PKI.foreign().crls());
  }

  private void revokeClient() {
    PKI.revoke(client);
    serverTrust.update(List.of(PKI.rootCertificate()), PKI.crls());
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void newConnection_caRemovedAfterResumableHandshake_refused(String protocol)
      throws InterruptedException {
    assertNewConnectionRefusedAfter(protocol, this::removeClientCa);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void newConnection_clientRevokedAfterResumableHandshake_refused(String protocol)
      throws InterruptedException {
    assertNewConnectionRefusedAfter(protocol, this::revokeClient);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void liveConnection_caRemoved_nextCallRefused(String protocol) throws InterruptedException {
    assertLiveConnectionRefusedAfter(protocol, this::removeClientCa);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void liveConnection_clientRevoked_nextCallRefused(String protocol) throws InterruptedException {
    assertLiveConnectionRefusedAfter(protocol, this::revokeClient);
  }

  /** Two connections (the second resumable from the first's session), a change, a third. */
  private void assertNewConnectionRefusedAfter(String protocol, Runnable change)
      throws InterruptedException {
    startServer(protocol);
    ChannelCredentials creds = clientCreds();
    assertThat(callOnNewChannel(creds)).isEqualTo("hello");
    assertThat(callOnNewChannel(creds)).isEqualTo("hello");

    change.run();

    assertThatThrownBy(() -> callOnNewChannel(creds))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  /** One connection, a call, a change, then every later call on it is refused. */
  private void assertLiveConnectionRefusedAfter(String protocol, Runnable change)
      throws InterruptedException {
    startServer(protocol);
    ManagedChannel channel = TlsEcho.channel(server, clientCreds());
    try {
      assertThat(Echo.call(channel, "hello")).isEqualTo("hello");

      change.run();

      for (String message : List.of("hello", "again")) {
        assertThatThrownBy(() -> Echo.call(channel, message))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      }
    } finally {
      TlsEcho.shutdown(channel);
    }
  }
}
