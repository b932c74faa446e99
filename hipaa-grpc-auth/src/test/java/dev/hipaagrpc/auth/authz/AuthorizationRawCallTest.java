package dev.hipaagrpc.auth.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Refusals happen before any request message is deserialized: a method whose request marshaller
 * counts its parses, behind authorization and the rate limiter.
 */
class AuthorizationRawCallTest {

  static final AtomicInteger PARSED = new AtomicInteger();

  // Echo's methods with a request marshaller that counts what it deserializes.
  static final MethodDescriptor.Marshaller<String> COUNTING =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return Echo.UTF8.stream(value);
        }

        @Override
        public String parse(InputStream stream) {
          PARSED.incrementAndGet();
          return Echo.UTF8.parse(stream);
        }
      };

  static final MethodDescriptor<String, String> ALLOWED = method("Allowed");
  static final MethodDescriptor<String, String> UNLISTED = method("Unlisted");

  static MethodDescriptor<String, String> method(String name) {
    return Echo.method(name, MethodDescriptor.MethodType.UNARY).toBuilder(COUNTING, Echo.UTF8)
        .build();
  }

  static final ServerInterceptor PRINCIPAL =
      new ServerInterceptor() {
        @Override
        public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
          Principal p = AuthorizationTestServer.user("u1", "nurse").build();
          Context ctx = CallFacts.inContext(Context.current());
          CallFacts.of(ctx).principal(p);
          return Contexts.interceptCall(ctx, call, headers, next);
        }
      };

  @Test
  void interceptCall_deniedOrLimited_requestNeverDeserialized() throws Exception {
    ServerCalls.UnaryMethod<String, String> echo =
        (req, out) -> {
          out.onNext(req);
          out.onCompleted();
        };
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(Echo.SERVICE)
            .addMethod(ALLOWED, ServerCalls.asyncUnaryCall(echo))
            .addMethod(UNLISTED, ServerCalls.asyncUnaryCall(echo))
            .build();
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.create(
            AuthorizationPolicy.newBuilder("v1")
                .rule(
                    AuthorizationPolicy.allow("a")
                        .methods(Echo.SERVICE + "/Allowed")
                        .anyRole("nurse"))
                .build());
    RateLimitServerInterceptor limiter =
        RateLimitServerInterceptor.newBuilder().defaultLimit(1, 1).build();
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(service, limiter, authz, PRINCIPAL))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      PARSED.set(0);
      String request = "patient p-1";
      StatusRuntimeException denied =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () -> ClientCalls.blockingUnaryCall(channel, UNLISTED, CallOptions.DEFAULT, request));
      assertThat(denied.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(PARSED).hasValue(0);

      assertThat(ClientCalls.blockingUnaryCall(channel, ALLOWED, CallOptions.DEFAULT, request))
          .isEqualTo(request);
      assertThat(PARSED).hasValue(1);

      StatusRuntimeException limited =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () -> ClientCalls.blockingUnaryCall(channel, ALLOWED, CallOptions.DEFAULT, request));
      assertThat(limited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(PARSED).hasValue(1);
      assertThat(List.of(denied.getStatus().getDescription(), limited.getStatus().getDescription()))
          .noneMatch(d -> d.contains("p-1"));
    } finally {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination();
    }
  }
}
