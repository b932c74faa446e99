package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TransportGuardServerInterceptorTest {

  private static final DevPki PKI = DevPki.create();

  /** Outermost: captures the facts holder so the test can read what inner layers recorded. */
  private static final class FactsCapture implements ServerInterceptor {
    final AtomicReference<CallFacts> facts = new AtomicReference<>();

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Context ctx = CallFacts.inContext(Context.current());
      facts.set(CallFacts.of(ctx));
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }

  private static Server mtlsServer(ServerInterceptor... interceptors) {
    DevPki.Credential s = PKI.server();
    return TlsEcho.start(
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
            .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
            .build(),
        interceptors);
  }

  private static String callMtls(Server server, DevPki.Credential client, String message)
      throws InterruptedException {
    ManagedChannel channel =
        TlsEcho.channel(
            server,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .identity(IdentityMaterial.of(client.privateKey(), client.chain()))
                .build());
    try {
      return Echo.call(channel, message);
    } finally {
      TlsEcho.shutdown(channel);
    }
  }

  @Test
  void interceptCall_plaintextNettyServer_refusedUnauthenticatedWithCorrelationId()
      throws Exception {
    FactsCapture capture = new FactsCapture();
    // ServerInterceptors.intercept runs the last one first: capture, then the guard.
    Server server =
        TlsEcho.start(
            InsecureServerCredentials.create(), TransportGuardServerInterceptor.create(), capture);
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "localhost", server.getPort(), InsecureChannelCredentials.create())
            .build();
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello"))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(e.getStatus().getDescription())
                    .isEqualTo(
                        "Transport security required (correlation id: "
                            + capture.facts.get().correlationId()
                            + ")");
              });
      assertThat(capture.facts.get().authenticationFailure()).isEqualTo("insecure_transport");
      // Refuses every call, and keeps doing so.
      assertThatThrownBy(() -> Echo.call(channel, "again"))
          .isInstanceOf(StatusRuntimeException.class);
    } finally {
      TlsEcho.shutdown(channel);
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void interceptCall_mtlsWithSpiffeClient_recordsLeafIdentityNotIntermediate() throws Exception {
    Server server = mtlsServer(TransportGuardServerInterceptor.create());
    DevPki.Credential client = PKI.client(PKI.spiffeId("ns/lab/sa/analyzer"));
    try {
      String who = callMtls(server, client, "whoami");
      assertThat(who)
          .isEqualTo(
              PKI.spiffeId("ns/lab/sa/analyzer") + "|[]|" + Certs.sha256Hex(client.certificate()));
      assertThat(who).doesNotContain(Certs.sha256Hex(PKI.intermediateCertificate()));
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void interceptCall_mtlsWithDnsClient_recordsDnsSan() throws Exception {
    Server server = mtlsServer(TransportGuardServerInterceptor.create());
    DevPki.Credential client = PKI.clientWithDnsName("Billing.Internal");
    try {
      assertThat(callMtls(server, client, "whoami"))
          .isEqualTo("null|[billing.internal]|" + Certs.sha256Hex(client.certificate()));
      // Second call on another connection: identity comes from that connection's session.
      DevPki.Credential other = PKI.client(PKI.spiffeId("ns/x/sa/y"));
      assertThat(callMtls(server, other, "whoami")).startsWith(PKI.spiffeId("ns/x/sa/y") + "|");
    } finally {
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void interceptCall_optionalClientAuthWithoutCertificate_allowedWithoutPeer() throws Exception {
    DevPki.Credential s = PKI.server();
    Server server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .allowUnsafeOptionalClientAuth()
                .build(),
            TransportGuardServerInterceptor.create());
    ManagedChannel channel =
        TlsEcho.channel(
            server,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .build());
    try {
      assertThat(Echo.call(channel, "whoami")).isEqualTo("none");
    } finally {
      TlsEcho.shutdown(channel);
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void interceptCall_inProcessByDefault_refused() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .addService(
                ServerInterceptors.intercept(
                    TlsEcho.service(), TransportGuardServerInterceptor.create()))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      assertThatThrownBy(() -> Echo.call(channel, "hello"))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    } finally {
      TlsEcho.shutdown(channel);
      TlsEcho.shutdown(server);
    }
  }

  @Test
  void interceptCall_inProcessWhenAllowed_passesWithoutPeer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .addService(
                ServerInterceptors.intercept(
                    TlsEcho.service(),
                    TransportGuardServerInterceptor.newBuilder().allowInProcessTransport().build()))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      assertThat(Echo.call(channel, "whoami")).isEqualTo("none");
    } finally {
      TlsEcho.shutdown(channel);
      TlsEcho.shutdown(server);
    }
  }
}
