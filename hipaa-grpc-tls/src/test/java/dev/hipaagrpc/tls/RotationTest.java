package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot rotation from files on a caller-supplied executor, under load. */
class RotationTest {

  private static final DevPki PKI = DevPki.create();
  private static final String CLIENT_ID = PKI.spiffeId("ns/ward/sa/monitor");

  @TempDir Path dir;
  private ScheduledExecutorService executor;
  private Server server;
  private IdentityMaterial serverIdentity;
  private IdentityMaterial clientIdentity;
  private final LinkedBlockingQueue<String> serverEvents = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> clientEvents = new LinkedBlockingQueue<>();

  @BeforeEach
  void setUp() {
    executor = Executors.newScheduledThreadPool(2);
    PKI.server().writePem(dir, "server");
    PKI.client(CLIENT_ID).writePem(dir, "client");
    Path ca = PKI.writeTrustBundle(dir.resolve("ca.pem"));
    serverIdentity =
        IdentityMaterial.fromPemFiles(dir.resolve("server.pem"), dir.resolve("server.key"))
            .addListener(recorder(serverEvents));
    clientIdentity =
        IdentityMaterial.fromPemFiles(dir.resolve("client.pem"), dir.resolve("client.key"))
            .addListener(recorder(clientEvents));
    server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(serverIdentity)
                .trust(TrustMaterial.fromPemFiles(ca))
                .build(),
            TransportGuardServerInterceptor.create());
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    executor.shutdownNow();
    TlsEcho.shutdown(server);
  }

  private static RotationListener recorder(Queue<String> events) {
    return new RotationListener() {
      @Override
      public void onReloaded(Path file) {
        events.add("reloaded");
      }

      @Override
      public void onRefused(Path file, String reason) {
        events.add("refused:" + reason);
      }
    };
  }

  private ChannelCredentials clientCreds() {
    return MtlsChannelCredentials.newBuilder()
        .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
        .identity(clientIdentity)
        .build();
  }

  /** Records the SHA-256 of the server certificate each call saw. */
  private static final class ServerCertSpy implements ClientInterceptor {
    final AtomicReference<String> last = new AtomicReference<>();

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onHeaders(Metadata h) {
                  SSLSession session = getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                  try {
                    last.set(Certs.sha256Hex((X509Certificate) session.getPeerCertificates()[0]));
                  } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    last.set("unverified");
                  }
                  super.onHeaders(h);
                }
              },
              headers);
        }
      };
    }
  }

  /** One new connection (new handshake), one call; returns "serverSha|whoami". */
  private String freshCall(ChannelCredentials creds) throws InterruptedException {
    ManagedChannel channel = TlsEcho.channel(server, creds);
    ServerCertSpy spy = new ServerCertSpy();
    try {
      String who = Echo.call(ClientInterceptors.intercept(channel, spy), "whoami");
      return spy.last.get() + "|" + who;
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  @Test
  void rotate_serverAndClientTenTimesUnderLoad_zeroFailedCalls() throws Exception {
    ChannelCredentials creds = clientCreds();
    try (var serverReload = serverIdentity.reloadEvery(java.time.Duration.ofMillis(5), executor);
        var clientReload = clientIdentity.reloadEvery(java.time.Duration.ofMillis(5), executor)) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger ok = new AtomicInteger();
      Queue<Status> failures = new ConcurrentLinkedQueue<>();
      ManagedChannel longLived = TlsEcho.channel(server, creds);
      Thread load =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    Echo.call(longLived, "ping");
                    freshCall(creds);
                    ok.incrementAndGet();
                  } catch (io.grpc.StatusRuntimeException e) {
                    failures.add(e.getStatus());
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                }
              });
      load.start();
      try {
        rotateTenTimesThenTwoRounds(ok, failures);
      } finally {
        stop.set(true);
        load.join(TimeUnit.SECONDS.toMillis(30));
      }
      assertThat(load.isAlive()).as("load thread stopped within 30 s").isFalse();
      TlsEcho.shutdown(longLived);
      assertThat(failures).isEmpty();
      assertThat(ok.get()).isGreaterThan(0);
    }
  }

  /** Rotates both identities ten times, each checked by a new handshake; then waits for load. */
  private void rotateTenTimesThenTwoRounds(AtomicInteger ok, Queue<Status> failures)
      throws Exception {
    for (int i = 0; i < 10; i++) {
      DevPki.Credential newServer = PKI.server();
      DevPki.Credential newClient = PKI.client(CLIENT_ID);
      newServer.writePem(dir, "server");
      newClient.writePem(dir, "client");
      awaitReloaded(serverEvents);
      awaitReloaded(clientEvents);
      // A new handshake now sees both new certificates. (New client credentials, so the client
      // has no cached TLS session to resume: a resumed session keeps its first certificates.)
      String seen = freshCall(clientCreds());
      assertThat(seen)
          .startsWith(Certs.sha256Hex(newServer.certificate()) + "|")
          .endsWith("|" + Certs.sha256Hex(newClient.certificate()));
    }
    // Two more rounds of calls after the last rotation, within a bound.
    int before = ok.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ok.get() < before + 2 && failures.isEmpty()) {
      assertThat(System.nanoTime() - deadline)
          .as("two more successful rounds of calls within 30 s")
          .isNegative();
      Thread.sleep(5);
    }
  }

  /** Waits for a "reloaded" event; "refused" events in between are a half-written pair. */
  private static void awaitReloaded(LinkedBlockingQueue<String> events)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertThat(e).as("a reload within 30 s").isNotNull();
      if (e.equals("reloaded")) {
        return;
      }
      assertThat(e).isEqualTo("refused:key_mismatch");
    }
  }

  @Test
  void reload_invalidReplacements_refusedAndServiceContinues() throws Exception {
    ChannelCredentials creds = clientCreds();
    String original = freshCall(creds);
    Path chain = dir.resolve("server.pem");
    Path key = dir.resolve("server.key");

    // Expired certificate with its own key.
    DevPki.Credential expired =
        PKI.newLeaf()
            .dnsName("localhost")
            .validity(
                java.time.Instant.now().minus(java.time.Duration.ofDays(10)),
                java.time.Instant.now().minus(java.time.Duration.ofDays(1)))
            .issue();
    expired.writeKeyPem(key);
    expired.writeChainPem(chain);
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isEqualTo("refused:expired");

    // Not yet valid.
    DevPki.Credential future =
        PKI.newLeaf()
            .dnsName("localhost")
            .validity(
                java.time.Instant.now().plus(java.time.Duration.ofDays(1)),
                java.time.Instant.now().plus(java.time.Duration.ofDays(10)))
            .issue();
    future.writeKeyPem(key);
    future.writeChainPem(chain);
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isEqualTo("refused:not_yet_valid");
    // Unlike other refusals, not-yet-valid content is tried again (it becomes valid by itself:
    // issuer clock skew must not block a rotation for good).
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isEqualTo("refused:not_yet_valid");

    // A valid certificate with somebody else's key.
    PKI.server().writeChainPem(chain);
    PKI.server().writeKeyPem(key);
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isEqualTo("refused:key_mismatch");

    // Garbage.
    java.nio.file.Files.writeString(chain, "-----BEGIN CERTIFICATE-----\nnot base64!\n");
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isEqualTo("refused:malformed");

    // The same refused content again is not re-parsed or re-reported.
    assertThat(serverIdentity.reload()).isFalse();
    assertThat(serverEvents.poll()).isNull();

    // Still serving with the original certificate.
    assertThat(freshCall(creds)).isEqualTo(original);
  }

  @Test
  void trustReload_newCrlRevokesClient_refusedOnNextHandshakeWithoutRestart() throws Exception {
    DevPki pki = DevPki.create();
    DevPki.Credential s = pki.server();
    DevPki.Credential victim = pki.client(pki.spiffeId("ns/ward/sa/lost-laptop"));
    DevPki.Credential other = pki.client(pki.spiffeId("ns/ward/sa/desk"));
    Path ca = pki.writeTrustBundle(dir.resolve("crl-ca.pem"));
    Path crl = pki.writeCrls(dir.resolve("crl.pem"));
    TrustMaterial trust = TrustMaterial.fromPemFiles(ca, List.of(crl));
    Server crlServer =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(trust)
                .build());
    try {
      assertThat(callAs(crlServer, pki, victim)).isEqualTo("hi");
      pki.revoke(victim);
      pki.writeCrls(crl);
      assertThat(trust.reload()).isTrue();
      assertThatThrownBy(() -> callAs(crlServer, pki, victim))
          .isInstanceOfSatisfying(
              io.grpc.StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      assertThat(callAs(crlServer, pki, other)).isEqualTo("hi");
    } finally {
      TlsEcho.shutdown(crlServer);
    }
  }

  private static String callAs(Server target, DevPki pki, DevPki.Credential client)
      throws InterruptedException {
    ManagedChannel channel =
        TlsEcho.channel(
            target,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(pki.rootCertificate())))
                .identity(IdentityMaterial.of(client.privateKey(), client.chain()))
                .build());
    try {
      return Echo.call(channel, "hi");
    } finally {
      TlsEcho.shutdown(channel);
    }
  }
}
