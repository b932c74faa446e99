package dev.hipaagrpc.testing;

import static java.util.Objects.requireNonNull;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A string echo service over a UTF-8 marshaller (no generated code), for tests of interceptors:
 * service {@value #SERVICE} with a unary method {@code Echo} and a bidirectional-streaming method
 * {@code Chat}.
 *
 * <pre>{@code
 * Server server = InProcessServerBuilder.forName(name)
 *     .addService(ServerInterceptors.intercept(Echo.service(), interceptorUnderTest))
 *     .build().start();
 * assertThat(Echo.call(channel, "hello")).isEqualTo("hello");
 * }</pre>
 *
 * <p>Extra methods for a test ({@link #method}) belong to the same service name, so one {@code
 * ServerServiceDefinition.builder(Echo.SERVICE)} can hold them with the methods of {@link
 * #service()}.
 *
 * <p>Thread-safe (stateless).
 */
public final class Echo {

  /** The service name. */
  public static final String SERVICE = "hipaagrpc.test.Echo";

  /** Marshals a {@code String} as its UTF-8 bytes. */
  public static final MethodDescriptor.Marshaller<String> UTF8 =
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

  /** {@code hipaagrpc.test.Echo/Echo}: unary. */
  public static final MethodDescriptor<String, String> ECHO =
      method("Echo", MethodDescriptor.MethodType.UNARY);

  /** {@code hipaagrpc.test.Echo/Chat}: bidirectional streaming, one reply per message. */
  public static final MethodDescriptor<String, String> CHAT =
      method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);

  private Echo() {}

  /** Returns a method of the echo service with a UTF-8 marshaller (for extra test methods). */
  public static MethodDescriptor<String, String> method(
      String bareName, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(requireNonNull(type, "type"))
        .setFullMethodName(
            MethodDescriptor.generateFullMethodName(SERVICE, requireNonNull(bareName, "bareName")))
        .setRequestMarshaller(UTF8)
        .setResponseMarshaller(UTF8)
        .build();
  }

  /** The echo service: replies with the request. */
  public static ServerServiceDefinition service() {
    return service(UnaryOperator.identity());
  }

  /**
   * The echo service, replying with {@code reply.apply(request)} to every message, on the thread
   * that delivers it; {@code reply} must be thread-safe and must not return null. An exception it
   * throws fails that call (grpc closes it with {@code UNKNOWN}).
   */
  public static ServerServiceDefinition service(UnaryOperator<String> reply) {
    requireNonNull(reply, "reply");
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (request, observer) -> {
                  observer.onNext(reply.apply(request));
                  observer.onCompleted();
                }))
        .addMethod(
            CHAT,
            ServerCalls.asyncBidiStreamingCall(
                observer ->
                    new StreamObserver<String>() {
                      @Override
                      public void onNext(String value) {
                        observer.onNext(reply.apply(value));
                      }

                      @Override
                      public void onError(Throwable t) {
                        // The client cancelled: there is nobody to answer.
                      }

                      @Override
                      public void onCompleted() {
                        observer.onCompleted();
                      }
                    }))
        .build();
  }

  /**
   * Calls {@link #ECHO} on {@code channel} with a 10-second deadline (so a broken server fails the
   * test instead of hanging it) and returns the reply.
   *
   * @throws io.grpc.StatusRuntimeException if the call fails
   */
  public static String call(Channel channel, String message) {
    requireNonNull(channel, "channel");
    requireNonNull(message, "message");
    return ClientCalls.blockingUnaryCall(
        channel, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), message);
  }
}
