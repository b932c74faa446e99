package dev.hipaagrpc.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.SecurityLayer.Slot;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real calls through a stack observed by the Micrometer and OpenTelemetry observers: the meters and
 * span attributes they produce, and that no subject, patient or request value reaches either.
 */
class ObservabilityTest {
  private static final String SUBJECT = "patient-4711-jane-doe";
  private static final Metadata.Key<String> SCENARIO =
      Metadata.Key.of("x-scenario", Metadata.ASCII_STRING_MARSHALLER);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Server server;
  private ManagedChannel channel;

  /** Authentication and authorization stand-ins that record what the real ones record. */
  private static SecurityLayer layer(Slot slot, ServerInterceptor interceptor) {
    return SecurityLayer.of(slot, interceptor, slot.name());
  }

  @BeforeEach
  void start() throws IOException {
    start(false);
  }

  /**
   * Starts the server; with {@code closeElsewhere} an audit-slot stand-in closes every call from
   * another thread, as the durable audit does from its release thread.
   */
  private void start(boolean closeElsewhere) throws IOException {
    ServerInterceptor authentication =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            CallFacts facts = CallFacts.of(io.grpc.Context.current());
            if ("expired".equals(headers.get(SCENARIO))) {
              facts.authenticationFailure("expired_token");
              call.close(Status.UNAUTHENTICATED, new Metadata());
              return new ServerCall.Listener<>() {};
            }
            facts.principal(
                Principal.newBuilder(
                        SUBJECT, Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp")
                    .build());
            return next.startCall(call, headers);
          }
        };
    ServerInterceptor authorization =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            CallFacts facts = CallFacts.of(io.grpc.Context.current());
            if ("glass".equals(headers.get(SCENARIO))) {
              facts.decision(AccessDecision.breakGlass("er-rule", "v7", "PATIENT_EMERGENCY"));
            } else if ("deny".equals(headers.get(SCENARIO))) {
              facts.decision(AccessDecision.deny("default-deny", "v7"));
              call.close(Status.PERMISSION_DENIED, new Metadata());
              return new ServerCall.Listener<>() {};
            } else {
              facts.decision(AccessDecision.allow("nurses-read", "v7"));
            }
            facts.addMaskedFields(2);
            return next.startCall(call, headers);
          }
        };
    SecurityStack.Builder builder = SecurityStack.newBuilder();
    if (closeElsewhere) {
      builder.audit(
          layer(
              Slot.AUDIT,
              new ServerInterceptor() {
                @Override
                public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                    ServerCall<ReqT, RespT> call,
                    Metadata headers,
                    ServerCallHandler<ReqT, RespT> next) {
                  return next.startCall(
                      new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                        @Override
                        public void close(Status status, Metadata trailers) {
                          Thread t = new Thread(() -> super.close(status, trailers));
                          t.start();
                          try {
                            t.join();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                        }
                      },
                      headers);
                }
              }));
    } else {
      builder.allowUnsafeWithoutAudit();
    }
    SecurityStack stack =
        builder
            .allowUnsafeWithoutTransportGuard()
            .authentication(layer(Slot.AUTHENTICATION, authentication))
            .authorization(layer(Slot.AUTHORIZATION, authorization))
            .observe(MicrometerCallObserver.create(registry))
            .observe(OpenTelemetryCallObserver.create())
            .build();
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
    stack.applyTo(b);
    server = b.addService(stack.wrap(Echo.service(r -> "echo " + r))).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private Status call(String scenario) {
    Metadata headers = new Metadata();
    headers.put(SCENARIO, scenario);
    try {
      ClientCalls.blockingUnaryCall(
          io.grpc.ClientInterceptors.intercept(
              channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
          Echo.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
          "value-of-" + SUBJECT);
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private double count(String name, String... tags) {
    Meter m = registry.find(name).tags(tags).meter();
    if (m == null) {
      return 0;
    }
    double total = 0;
    for (io.micrometer.core.instrument.Measurement measurement : m.measure()) {
      if (measurement.getStatistic() == io.micrometer.core.instrument.Statistic.COUNT) {
        total += measurement.getValue();
      }
    }
    return total;
  }

  @Test
  void micrometer_callsAuthenticationFailuresDecisionsAndBreakGlass() {
    assertThat(call("ok").isOk()).isTrue();
    assertThat(call("ok").isOk()).isTrue();
    assertThat(call("expired").getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(call("deny").getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(call("glass").isOk()).isTrue();

    String method = Echo.ECHO.getFullMethodName();
    assertThat(
            count("hipaa.grpc.server.calls", "method", method, "status", "OK", "decision", "ALLOW"))
        .isEqualTo(2);
    assertThat(
            count(
                "hipaa.grpc.server.calls",
                "method",
                method,
                "status",
                "UNAUTHENTICATED",
                "decision",
                "none"))
        .isEqualTo(1);
    assertThat(count("hipaa.grpc.authentication.failures", "code", "expired_token")).isEqualTo(1);
    assertThat(
            count("hipaa.grpc.authorization.decisions", "rule", "default-deny", "outcome", "DENY"))
        .isEqualTo(1);
    assertThat(count("hipaa.grpc.break_glass", "rule", "er-rule", "reason", "PATIENT_EMERGENCY"))
        .isEqualTo(1);
    assertNoPhiInTags();
  }

  @Test
  void micrometer_unknownMethodsShareOneTagValue() {
    for (int i = 0; i < 20; i++) {
      io.grpc.MethodDescriptor<String, String> minted =
          Echo.ECHO.toBuilder().setFullMethodName("attacker.Minted/M" + i).build();
      try {
        ClientCalls.blockingUnaryCall(channel, minted, CallOptions.DEFAULT, "x");
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
      }
    }
    assertThat(registry.find("hipaa.grpc.server.calls").meters())
        .allSatisfy(m -> assertThat(m.getId().getTag("method")).isEqualTo("unknown"));
    assertThat(count("hipaa.grpc.server.calls", "method", "unknown")).isEqualTo(20);
  }

  @Test
  void openTelemetry_attributesOnTheCurrentSpan_withoutPhi() {
    RecordingSpan span = new RecordingSpan();
    try (Scope ignored = Context.root().with(span).makeCurrent()) {
      assertThat(call("glass").isOk()).isTrue();
    }
    assertThat(span.attributes)
        .containsEntry("hipaa.decision", "BREAK_GLASS")
        .containsEntry("hipaa.rule_id", "er-rule")
        .containsEntry("hipaa.policy_version", "v7")
        .containsEntry("hipaa.break_glass", true)
        .containsEntry("hipaa.break_glass.reason", "PATIENT_EMERGENCY")
        .containsEntry("hipaa.fields_masked", 2L)
        .containsKey("hipaa.correlation_id");
    assertThat(span.attributes.values().toString()).doesNotContain("4711").doesNotContain("jane");

    RecordingSpan failed = new RecordingSpan();
    try (Scope ignored = Context.root().with(failed).makeCurrent()) {
      call("expired");
    }
    assertThat(failed.attributes).containsEntry("hipaa.authentication.failure", "expired_token");
    assertThat(failed.attributes).doesNotContainKey("hipaa.decision");
  }

  @Test
  void openTelemetry_callEndedOnAnotherThread_attributesStillOnTheCallsSpan() throws Exception {
    stop();
    start(true);
    RecordingSpan span = new RecordingSpan();
    try (Scope ignored = Context.root().with(span).makeCurrent()) {
      assertThat(call("ok").isOk()).isTrue();
    }
    assertThat(span.attributes)
        .containsEntry("hipaa.decision", "ALLOW")
        .containsEntry("hipaa.rule_id", "nurses-read");
  }

  private void assertNoPhiInTags() {
    List<String> values = new ArrayList<>();
    for (Meter m : registry.getMeters()) {
      for (Tag t : m.getId().getTags()) {
        values.add(t.getValue());
      }
    }
    assertThat(values).isNotEmpty().noneMatch(v -> v.contains("4711") || v.contains("jane"));
  }

  /** A recording span, made current with the OpenTelemetry API alone (no SDK). */
  private static final class RecordingSpan implements Span {
    final Map<String, Object> attributes = new ConcurrentHashMap<>();

    @Override
    public <T> Span setAttribute(AttributeKey<T> key, T value) {
      attributes.put(key.getKey(), value);
      return this;
    }

    @Override
    public Span addEvent(String name, Attributes attributes) {
      return this;
    }

    @Override
    public Span addEvent(String name, Attributes attributes, long timestamp, TimeUnit unit) {
      return this;
    }

    @Override
    public Span setStatus(StatusCode statusCode, String description) {
      return this;
    }

    @Override
    public Span recordException(Throwable exception, Attributes additionalAttributes) {
      return this;
    }

    @Override
    public Span updateName(String name) {
      return this;
    }

    @Override
    public void end() {}

    @Override
    public void end(long timestamp, TimeUnit unit) {}

    @Override
    public SpanContext getSpanContext() {
      return SpanContext.getInvalid();
    }

    @Override
    public boolean isRecording() {
      return true;
    }
  }
}
