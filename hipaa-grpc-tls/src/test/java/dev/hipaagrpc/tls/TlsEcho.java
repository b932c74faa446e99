package dev.hipaagrpc.tls;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.testing.Echo;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The shared {@link Echo} service run over real TLS, with what only these tests need: a request of
 * {@code "whoami"} returns the peer the transport guard recorded, and {@link #HANG} never answers.
 */
final class TlsEcho {

  /** {@code hipaagrpc.test.Echo/Hang}: never answers; counts {@link #hangCancelled} down. */
  static final MethodDescriptor<String, String> HANG =
      Echo.method("Hang", MethodDescriptor.MethodType.UNARY);

  /** Counted down when a {@link #HANG} call's Context is cancelled; replace it per test. */
  static volatile CountDownLatch hangCancelled = new CountDownLatch(1);

  private TlsEcho() {}

  /** {@link Echo#service(java.util.function.UnaryOperator)} with "whoami", plus {@link #HANG}. */
  static ServerServiceDefinition service() {
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(Echo.SERVICE);
    for (ServerMethodDefinition<?, ?> m : Echo.service(TlsEcho::reply).getMethods()) {
      b.addMethod(m);
    }
    return b.addMethod(
            HANG,
            ServerCalls.asyncUnaryCall(
                (request, observer) ->
                    Context.current().addListener(c -> hangCancelled.countDown(), Runnable::run)))
        .build();
  }

  /** The peer recorded in CallFacts for "whoami" ({@code spiffe|dns|sha256}, or "none"). */
  private static String reply(String request) {
    if (!request.equals("whoami")) {
      return request;
    }
    CallFacts facts = CallFacts.current();
    PeerIdentity peer = facts == null ? null : facts.peer();
    return peer == null ? "none" : peer.spiffeId() + "|" + peer.dnsNames() + "|" + peer.sha256Hex();
  }

  static Server start(ServerCredentials creds, ServerInterceptor... interceptors) {
    return start(creds, b -> {}, interceptors);
  }

  static Server start(
      ServerCredentials creds,
      Consumer<NettyServerBuilder> configure,
      ServerInterceptor... interceptors) {
    try {
      NettyServerBuilder b =
          NettyServerBuilder.forAddress(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), creds);
      configure.accept(b);
      return b.addService(ServerInterceptors.intercept(service(), interceptors)).build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ManagedChannel channel(Server server, ChannelCredentials creds) {
    return Grpc.newChannelBuilderForAddress("localhost", server.getPort(), creds).build();
  }

  static void shutdown(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static void shutdown(Server server) throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
