package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class SecurityStackTest {

  private final List<String> seen = new CopyOnWriteArrayList<>();

  private ServerInterceptor recording(String name) {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        seen.add(name + (CallFacts.current() != null ? "+facts" : ""));
        return next.startCall(call, headers);
      }
    };
  }

  private SecurityStack stackGivenOutOfOrder() {
    return SecurityStack.newBuilder()
        .masking(recording("masking"))
        .authentication(recording("authn"))
        .statusSanitizer(recording("sanitizer"))
        .audit(recording("audit"))
        .rateLimit(recording("ratelimit"))
        .transportGuard(recording("guard"))
        .authorization(recording("authz"))
        .build();
  }

  private static final List<String> CANONICAL =
      List.of(
          "audit+facts",
          "guard+facts",
          "authn+facts",
          "authz+facts",
          "ratelimit+facts",
          "sanitizer+facts",
          "masking+facts");

  private ServerServiceDefinition echo() {
    return ServerServiceDefinition.builder("test.Echo")
        .addMethod(
            CorrelationIdInterceptorsTest.ECHO,
            ServerCalls.asyncUnaryCall(
                (request, observer) -> {
                  seen.add("service");
                  observer.onNext(request);
                  observer.onCompleted();
                }))
        .build();
  }

  private void call(String name) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      ClientCalls.blockingUnaryCall(
          channel, CorrelationIdInterceptorsTest.ECHO, CallOptions.DEFAULT, "x");
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void wrap_anyInsertionOrder_runsCanonicalOrder() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(stackGivenOutOfOrder().wrap(echo()))
            .build()
            .start();
    try {
      call(name);
    } finally {
      server.shutdownNow();
    }
    assertThat(seen).containsExactlyElementsOf(concat(CANONICAL, "service"));
  }

  @Test
  void applyTo_serverBuilder_runsCanonicalOrder() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server =
        stackGivenOutOfOrder()
            .applyTo(InProcessServerBuilder.forName(name).directExecutor())
            .addService(echo())
            .build()
            .start();
    try {
      call(name);
    } finally {
      server.shutdownNow();
    }
    assertThat(seen).containsExactlyElementsOf(concat(CANONICAL, "service"));
  }

  @Test
  void builder_layerSetTwice_isRefused() {
    assertThatThrownBy(
            () -> SecurityStack.newBuilder().masking(recording("a")).masking(recording("b")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("MASKING");
  }

  @Test
  void interceptors_alwaysStartWithCorrelation() {
    assertThat(SecurityStack.newBuilder().build().interceptors())
        .containsExactly(CorrelationIdServerInterceptor.create());
  }

  private static List<String> concat(List<String> list, String last) {
    List<String> out = new java.util.ArrayList<>(list);
    out.add(last);
    return out;
  }
}
