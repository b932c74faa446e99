package dev.hipaagrpc.tls;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PeerIdentity;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** A one-method echo service over a String marshaller, and helpers to run it over real TLS. */
final class Echo {

  static final MethodDescriptor.Marshaller<String> UTF8 =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<String, String> ECHO =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("hipaagrpc.test.Echo/Echo")
          .setRequestMarshaller(UTF8)
          .setResponseMarshaller(UTF8)
          .build();

  /** Counted down when a "hang" call's Context is cancelled. */
  static volatile java.util.concurrent.CountDownLatch HANG_CANCELLED =
      new java.util.concurrent.CountDownLatch(1);

  private Echo() {}

  /**
   * Echoes the request; a request of {@code "whoami"} returns the peer recorded in CallFacts (or
   * "none"), so tests can see what the transport guard recorded.
   */
  static ServerServiceDefinition service() {
    return ServerServiceDefinition.builder("hipaagrpc.test.Echo")
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (request, observer) -> {
                  if (request.equals("hang")) {
                    // Never answers; reports when the call's Context is cancelled.
                    Context.current().addListener(c -> HANG_CANCELLED.countDown(), Runnable::run);
                    return;
                  }
                  String reply = request;
                  if (request.equals("whoami")) {
                    CallFacts facts = CallFacts.current();
                    PeerIdentity peer = facts == null ? null : facts.peer();
                    reply =
                        peer == null
                            ? "none"
                            : peer.spiffeId() + "|" + peer.dnsNames() + "|" + peer.sha256Hex();
                  }
                  observer.onNext(reply);
                  observer.onCompleted();
                }))
        .build();
  }

  static Server start(ServerCredentials creds, ServerInterceptor... interceptors) {
    return start(creds, b -> {}, interceptors);
  }

  static Server start(
      ServerCredentials creds,
      java.util.function.Consumer<NettyServerBuilder> configure,
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

  static String call(Channel channel, String message) {
    return ClientCalls.blockingUnaryCall(
        channel, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), message);
  }

  static void shutdown(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static void shutdown(Server server) throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
