package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import dev.hipaagrpc.core.SecurityLayer.Slot;
import dev.hipaagrpc.core.internal.RefusalSummary;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SecurityStackTest {

  private static final String SERVICE = "test.Echo";

  private static final MethodDescriptor<StringValue, StringValue> ECHO =
      MethodDescriptor.<StringValue, StringValue>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(SERVICE + "/Echo")
          .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
          .build();

  /** The same method as the client sees it when it sends raw bytes. */
  private static final MethodDescriptor<byte[], byte[]> RAW_ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(SERVICE + "/Echo")
          .setRequestMarshaller(BytesMarshaller.INSTANCE)
          .setResponseMarshaller(BytesMarshaller.INSTANCE)
          .build();

  private final List<String> seen = new CopyOnWriteArrayList<>();

  /** What the audit layer saw at close: "CODE correlationId". */
  private final List<String> audited = new CopyOnWriteArrayList<>();

  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void tearDown() {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
  }

  private SecurityLayer recording(Slot slot) {
    String name = slot.name().toLowerCase(java.util.Locale.ROOT);
    return SecurityLayer.of(
        slot,
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            seen.add(name + (CallFacts.current() != null ? "+facts" : ""));
            return next.startCall(call, headers);
          }
        },
        name);
  }

  /** Records the status every call closes with, as an audit layer would. */
  private SecurityLayer recordingAudit() {
    return SecurityLayer.of(
        Slot.AUDIT,
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            seen.add("audit+facts");
            io.grpc.Context ctx = CallFacts.inContext(io.grpc.Context.current());
            CallFacts facts = CallFacts.of(ctx);
            boolean claimed = facts.claimAudit();
            return io.grpc.Contexts.interceptCall(
                ctx,
                new SimpleForwardingServerCall<ReqT, RespT>(call) {
                  @Override
                  public void close(Status status, Metadata trailers) {
                    if (claimed) {
                      audited.add(status.getCode() + " " + facts.correlationId());
                    }
                    super.close(status, trailers);
                  }
                },
                headers,
                next);
          }
        },
        "recording audit");
  }

  private SecurityStack.Builder fullStackOutOfOrder() {
    return SecurityStack.newBuilder()
        .masking(recording(Slot.MASKING))
        .authentication(recording(Slot.AUTHENTICATION))
        .statusSanitizer(recording(Slot.STATUS_SANITIZER))
        .audit(recordingAudit())
        .rateLimit(recording(Slot.RATE_LIMIT))
        .transportGuard(recording(Slot.TRANSPORT_GUARD))
        .validation(recording(Slot.VALIDATION))
        .authorization(recording(Slot.AUTHORIZATION));
  }

  private static final List<String> CANONICAL =
      List.of(
          "audit+facts",
          "transport_guard+facts",
          "authentication+facts",
          "authorization+facts",
          "rate_limit+facts",
          "status_sanitizer+facts",
          "validation+facts",
          "masking+facts",
          "service");

  private ServerServiceDefinition echo(Consumer<StringValue> behaviour) {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (request, observer) -> {
                  seen.add("service");
                  behaviour.accept(request);
                  observer.onNext(request);
                  observer.onCompleted();
                }))
        .build();
  }

  private ServerServiceDefinition echo() {
    return echo(r -> {});
  }

  private ManagedChannel start(SecurityStack stack, boolean apply, ServerServiceDefinition svc)
      throws IOException {
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
    if (apply) {
      stack.applyTo(b);
    }
    servers.add(b.addService(svc).build().start());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    channels.add(channel);
    return channel;
  }

  private static StringValue call(ManagedChannel channel, String value) {
    return ClientCalls.blockingUnaryCall(
        channel,
        ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        StringValue.of(value));
  }

  private static Status rawCall(ManagedChannel channel, byte[]... messages) throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(RAW_ECHO, CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(2);
    for (byte[] m : messages) {
      call.sendMessage(m);
    }
    call.halfClose();
    return closed.get(10, TimeUnit.SECONDS);
  }

  @Test
  void wrap_anyInsertionOrder_runsCanonicalOrder() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    ManagedChannel channel = start(stack, false, stack.wrap(echo()));
    call(channel, "x");
    assertThat(seen).containsExactlyElementsOf(CANONICAL);
  }

  @Test
  void applyTo_unwrappedService_runsCanonicalOrder() throws Exception {
    ManagedChannel channel = start(fullStackOutOfOrder().build(), true, echo());
    call(channel, "x");
    assertThat(seen).containsExactlyElementsOf(CANONICAL);
  }

  @Test
  void applyTo_repeatedCalls_reuseTheChainAndRunEveryLayerEachTime() throws Exception {
    ManagedChannel channel = start(fullStackOutOfOrder().build(), true, echo());
    call(channel, "x");
    call(channel, "y");
    List<String> twice = new java.util.ArrayList<>(CANONICAL);
    twice.addAll(CANONICAL);
    assertThat(seen).containsExactlyElementsOf(twice);
    assertThat(audited).hasSize(2);
  }

  @Test
  void applyTo_repeatedCallsOfExemptMethod_exemptEachTime() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().exemptFromAuthentication(SERVICE + "/*").build();
    ManagedChannel channel = start(stack, true, echo());
    call(channel, "x");
    call(channel, "y");
    assertThat(seen).doesNotContain("authentication+facts", "authorization+facts");
    assertThat(seen).filteredOn("service"::equals).hasSize(2);
    assertThat(audited).hasSize(2);
  }

  @Test
  void applyToAndWrap_sameService_runsEveryLayerOnce() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    ManagedChannel channel = start(stack, true, stack.wrap(echo()));
    call(channel, "x");
    assertThat(seen).containsExactlyElementsOf(CANONICAL);
    assertThat(audited).hasSize(1);
  }

  @Test
  void wrap_twice_isRefused() {
    SecurityStack stack = fullStackOutOfOrder().build();
    ServerServiceDefinition once = stack.wrap(echo());
    assertThatThrownBy(() -> stack.wrap(once))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already wrapped");
  }

  @Test
  void applyTo_twice_isRefused() {
    InProcessServerBuilder b =
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName());
    fullStackOutOfOrder().build().applyTo(b);
    assertThatThrownBy(() -> fullStackOutOfOrder().build().applyTo(b))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already applied");
  }

  @Test
  void auditInstalledTwiceByHand_recordsOnce() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    SecurityLayer extraAudit = recordingAudit();
    ManagedChannel channel =
        start(stack, false, io.grpc.ServerInterceptors.intercept(stack.wrap(echo()), extraAudit));
    call(channel, "x");
    assertThat(audited).hasSize(1);
  }

  @Test
  void malformedRequest_invalidArgumentWithCorrelationId_audited() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    ManagedChannel channel = start(stack, true, stack.wrap(echo()));
    RefusalSummary.flush();
    // Field 1 (string), length 5, only 2 bytes follow: a truncated message.
    Status status = rawCall(channel, new byte[] {0x0a, 0x05, 'a', 'b'});
    assertThat(RefusalSummary.flush()).endsWith(": INVALID_ARGUMENT malformed_request=1");
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).startsWith("Malformed request (correlation id: ");
    assertThat(audited).containsExactly("INVALID_ARGUMENT " + correlationId(status));
    assertThat(seen).doesNotContain("service");
  }

  @Test
  void invalidUtf8InStringField_invalidArgument_audited() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    ManagedChannel channel = start(stack, true, stack.wrap(echo()));
    Status status = rawCall(channel, new byte[] {0x0a, 0x02, (byte) 0xc3, (byte) 0x28});
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(audited).containsExactly("INVALID_ARGUMENT " + correlationId(status));
  }

  @Test
  void requestOverLimit_resourceExhausted_audited() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().maxRequestMessageBytes(16).build();
    ManagedChannel channel = start(stack, false, stack.wrap(echo()));
    byte[] big = StringValue.of("x".repeat(64)).toByteArray();
    Status status = rawCall(channel, big);
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription()).startsWith("Request too large (correlation id: ");
    assertThat(audited).containsExactly("RESOURCE_EXHAUSTED " + correlationId(status));
  }

  @Test
  void serviceThrows_internalWithCorrelationId_audited() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().build();
    ManagedChannel channel =
        start(
            stack,
            false,
            stack.wrap(
                echo(
                    r -> {
                      throw new IllegalStateException("patient 123-45-6789 broke it");
                    })));
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> call(channel, "x"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(e.getStatus().getDescription()).doesNotContain("123-45-6789");
    assertThat(audited).containsExactly("INTERNAL " + correlationId(e.getStatus()));
  }

  @Test
  void innerLayerThrowsInInterceptCall_internal_audited() throws Exception {
    SecurityLayer throwing =
        SecurityLayer.of(
            Slot.MASKING,
            new ServerInterceptor() {
              @Override
              public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                  ServerCall<ReqT, RespT> call,
                  Metadata headers,
                  ServerCallHandler<ReqT, RespT> next) {
                throw new IllegalStateException("broken layer");
              }
            },
            "throwing");
    SecurityStack stack =
        SecurityStack.newBuilder()
            .audit(recordingAudit())
            .transportGuard(recording(Slot.TRANSPORT_GUARD))
            .authentication(recording(Slot.AUTHENTICATION))
            .authorization(recording(Slot.AUTHORIZATION))
            .masking(throwing)
            .build();
    ManagedChannel channel = start(stack, false, stack.wrap(echo()));
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> call(channel, "x"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(audited).containsExactly("INTERNAL " + correlationId(e.getStatus()));
  }

  @Test
  void unknownMethod_authenticatedThenUnimplemented_audited() throws Exception {
    ManagedChannel channel = start(fullStackOutOfOrder().build(), true, echo());
    MethodDescriptor<byte[], byte[]> unknown =
        RAW_ECHO.toBuilder().setFullMethodName("test.Hidden/Enumerate").build();
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(channel, unknown, CallOptions.DEFAULT, new byte[0]));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThat(e.getStatus().getDescription()).startsWith("Method not found (correlation id: ");
    assertThat(seen)
        .containsExactly("audit+facts", "transport_guard+facts", "authentication+facts");
    assertThat(audited).containsExactly("UNIMPLEMENTED " + correlationId(e.getStatus()));
  }

  @Test
  void observers_toldOnceAboutEveryCall_knownUnknownFailingAndThrowing() throws Exception {
    List<String> ends = new CopyOnWriteArrayList<>();
    CallObserver recorder =
        end ->
            ends.add(
                end.method()
                    + " "
                    + end.status()
                    + " "
                    + (end.facts().correlationId().isEmpty() ? "" : "facts")
                    + (end.duration().isNegative() ? " negative" : ""));
    CallObserver throwing =
        end -> {
          throw new IllegalStateException("an observer's bug");
        };
    ManagedChannel channel =
        start(
            fullStackOutOfOrder().observe(throwing).observe(recorder).build(),
            true,
            echo(
                r -> {
                  if (r.getValue().equals("boom")) {
                    throw new IllegalStateException("service bug");
                  }
                }));

    assertThat(call(channel, "x").getValue()).isEqualTo("x"); // a throwing observer changes nothing
    org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> call(channel, "boom"));
    MethodDescriptor<byte[], byte[]> unknown =
        RAW_ECHO.toBuilder().setFullMethodName("test.Hidden/Minted-" + "x".repeat(40)).build();
    org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, unknown, CallOptions.DEFAULT, new byte[0]));

    assertThat(ends)
        .containsExactly(
            ECHO.getFullMethodName() + " OK facts",
            ECHO.getFullMethodName() + " INTERNAL facts",
            "unknown UNIMPLEMENTED facts");
    // The audit layer saw the same three ends: observers sit outside it and do not add calls.
    assertThat(audited).hasSize(3);
  }

  @Test
  void observers_clientCancellation_reportedOnceAsCancelled() throws Exception {
    List<Status.Code> ends = new CopyOnWriteArrayList<>();
    CountDownLatch inService = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name); // a real executor
    SecurityStack stack = fullStackOutOfOrder().observe(end -> ends.add(end.status())).build();
    stack.applyTo(b);
    servers.add(
        b.addService(
                ServerServiceDefinition.builder(SERVICE)
                    .addMethod(
                        ECHO,
                        ServerCalls.asyncUnaryCall(
                            (request, observer) -> {
                              inService.countDown();
                              try {
                                release.await(10, TimeUnit.SECONDS);
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                              observer.onCompleted();
                            }))
                    .build())
            .build()
            .start());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    channels.add(channel);
    ClientCall<StringValue, StringValue> call = channel.newCall(ECHO, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, new Metadata());
    call.request(1);
    call.sendMessage(StringValue.of("x"));
    call.halfClose();
    assertThat(inService.await(10, TimeUnit.SECONDS)).isTrue();
    call.cancel("client gone", null);
    Thread.sleep(200); // the cancellation reaches the server while the service still runs
    release.countDown(); // the service then completes: a close that reaches nobody
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ends.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100); // and the queued onCancel must not be reported again
    assertThat(ends).containsExactly(Status.Code.CANCELLED);
  }

  @Test
  void inspectResponses_seesTheResponseBeforeMasking() throws Exception {
    List<String> inspected = new CopyOnWriteArrayList<>();
    SecurityLayer authz =
        SecurityLayer.of(
            Slot.AUTHORIZATION,
            new ServerInterceptor() {
              @Override
              public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                  ServerCall<ReqT, RespT> call,
                  Metadata headers,
                  ServerCallHandler<ReqT, RespT> next) {
                CallFacts facts = CallFacts.current();
                assertThat(facts.inSecurityStack()).isTrue();
                facts.inspectResponses(m -> inspected.add(((StringValue) m).getValue()));
                return next.startCall(call, headers);
              }
            },
            "inspecting authz");
    SecurityLayer masking =
        SecurityLayer.of(
            Slot.MASKING,
            new ServerInterceptor() {
              @Override
              public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                  ServerCall<ReqT, RespT> call,
                  Metadata headers,
                  ServerCallHandler<ReqT, RespT> next) {
                return next.startCall(
                    new SimpleForwardingServerCall<ReqT, RespT>(call) {
                      @Override
                      @SuppressWarnings("unchecked")
                      public void sendMessage(RespT message) {
                        super.sendMessage((RespT) StringValue.of("****"));
                      }
                    },
                    headers);
              }
            },
            "masking");
    SecurityStack stack =
        SecurityStack.newBuilder()
            .audit(recordingAudit())
            .transportGuard(recording(Slot.TRANSPORT_GUARD))
            .authentication(recording(Slot.AUTHENTICATION))
            .authorization(authz)
            .masking(masking)
            .build();
    ManagedChannel channel = start(stack, true, stack.wrap(echo()));
    assertThat(call(channel, "MRN-1").getValue()).isEqualTo("****");
    assertThat(inspected).containsExactly("MRN-1");
  }

  @Test
  void applyToAndWrap_builderInterceptorAddedBefore_runsInsideTheStackAndNeverSeesAMarker()
      throws Exception {
    List<String> innerSaw = new CopyOnWriteArrayList<>();
    SecurityStack stack = fullStackOutOfOrder().build();
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
    b.intercept(
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            innerSaw.add("facts=" + (CallFacts.current() != null));
            return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<
                ReqT>(next.startCall(call, headers)) {
              @Override
              public void onMessage(ReqT message) {
                innerSaw.add(message.getClass().getSimpleName());
                super.onMessage(message);
              }
            };
          }
        });
    stack.applyTo(b);
    servers.add(b.addService(stack.wrap(echo())).build().start());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    channels.add(channel);
    Status status = rawCall(channel, new byte[] {0x0a, 0x05, 'a'});
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    call(channel, "x");
    assertThat(innerSaw).containsExactly("facts=true", "facts=true", "StringValue");
    assertThat(seen).containsExactlyElementsOf(concatService(CANONICAL.subList(0, 8), CANONICAL));
  }

  @Test
  void deadlineCap_closesThroughAudit() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().maxCallDuration(Duration.ofMillis(200)).build();
    String name = InProcessServerBuilder.generateName();
    ServerServiceDefinition hanging =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, observer) -> {}))
            .build();
    servers.add(
        InProcessServerBuilder.forName(name).addService(stack.wrap(hanging)).build().start());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    channels.add(channel);
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> call(channel, "x"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (audited.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(audited).containsExactly("DEADLINE_EXCEEDED " + correlationId(e.getStatus()));
  }

  @Test
  void exemptFromAuthentication_health_skipsAuthnAndAuthzButAudits() throws Exception {
    SecurityStack stack = fullStackOutOfOrder().exemptFromAuthentication(SERVICE + "/*").build();
    ManagedChannel channel = start(stack, true, echo());
    call(channel, "x");
    assertThat(seen).doesNotContain("authentication+facts", "authorization+facts");
    assertThat(seen).contains("audit+facts", "transport_guard+facts", "service");
    assertThat(audited).hasSize(1);
  }

  @Test
  void exemptFromAudit_withoutAuthenticationExemption_isRefused() {
    assertThatThrownBy(() -> fullStackOutOfOrder().exemptFromAudit(SERVICE + "/*").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exemptFromAuthentication");
  }

  @Test
  void exemptFromAuditAndAuthentication_notAudited() throws Exception {
    SecurityStack stack =
        fullStackOutOfOrder()
            .exemptFromAuthentication(SERVICE + "/Echo")
            .exemptFromAudit(SERVICE + "/Echo")
            .build();
    ManagedChannel channel = start(stack, true, echo());
    call(channel, "x");
    assertThat(audited).isEmpty();
    assertThat(seen).contains("transport_guard+facts", "service");
  }

  @Test
  void exemption_badPattern_isRefused() {
    assertThatThrownBy(() -> SecurityStack.newBuilder().exemptFromAuthentication("Health"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @EnumSource(
      value = Slot.class,
      names = {"AUDIT", "TRANSPORT_GUARD", "AUTHENTICATION", "AUTHORIZATION"})
  void build_requiredLayerMissing_refusedWithReason(Slot missing) {
    SecurityStack.Builder b = SecurityStack.newBuilder();
    for (Slot s :
        List.of(Slot.AUDIT, Slot.TRANSPORT_GUARD, Slot.AUTHENTICATION, Slot.AUTHORIZATION)) {
      if (s != missing) {
        set(b, s);
      }
    }
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no " + missing + " layer")
        .hasMessageContaining("allowUnsafeWithout");
  }

  @ParameterizedTest
  @EnumSource(
      value = Slot.class,
      names = {"AUDIT", "TRANSPORT_GUARD", "AUTHENTICATION", "AUTHORIZATION"})
  void build_requiredLayerOptedOut_builds(Slot missing) {
    SecurityStack.Builder b = SecurityStack.newBuilder();
    for (Slot s :
        List.of(Slot.AUDIT, Slot.TRANSPORT_GUARD, Slot.AUTHENTICATION, Slot.AUTHORIZATION)) {
      if (s != missing) {
        set(b, s);
      }
    }
    switch (missing) {
      case AUDIT -> b.allowUnsafeWithoutAudit();
      case TRANSPORT_GUARD -> b.allowUnsafeWithoutTransportGuard();
      case AUTHENTICATION -> b.allowUnsafeWithoutAuthentication();
      default -> b.allowUnsafeWithoutAuthorization();
    }
    assertThat(b.build().summary()).contains("UNSAFE opt-outs: no [" + missing + "]");
  }

  @Test
  void build_optOutAndLayerBoth_isRefused() {
    assertThatThrownBy(() -> fullStackOutOfOrder().allowUnsafeWithoutAudit().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("opted out");
  }

  @Test
  void slot_wrongLayerType_isRefused() {
    assertThatThrownBy(() -> SecurityStack.newBuilder().audit(recording(Slot.MASKING)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot fill the AUDIT slot");
  }

  @Test
  void layerOf_existingLayerOfOtherSlot_isRefused() {
    assertThatThrownBy(
            () -> SecurityLayer.of(Slot.AUDIT, CorrelationIdServerInterceptor.create(), "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void builder_layerSetTwice_isRefused() {
    assertThatThrownBy(
            () ->
                SecurityStack.newBuilder()
                    .masking(recording(Slot.MASKING))
                    .masking(recording(Slot.MASKING)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("MASKING");
  }

  @Test
  void layers_startWithCorrelationThenInCanonicalOrder() {
    List<SecurityLayer> layers = fullStackOutOfOrder().build().layers();
    assertThat(layers.get(0)).isSameAs(CorrelationIdServerInterceptor.create());
    assertThat(layers).extracting(SecurityLayer::slot).isSorted();
  }

  @Test
  void summary_namesEveryLayerInOrder() {
    String summary = fullStackOutOfOrder().build().summary();
    assertThat(summary)
        .containsSubsequence(
            "correlation[", "audit[", "deadline_cap[", "transport_guard[", "masking[");
  }

  /** The layers seen for a refused call (no service), then for a served call. */
  private static List<String> concatService(List<String> refused, List<String> served) {
    List<String> out = new ArrayList<>(refused);
    out.addAll(served);
    return out;
  }

  private void set(SecurityStack.Builder b, Slot s) {
    switch (s) {
      case AUDIT -> b.audit(recordingAudit());
      case TRANSPORT_GUARD -> b.transportGuard(recording(s));
      case AUTHENTICATION -> b.authentication(recording(s));
      default -> b.authorization(recording(s));
    }
  }

  private static String correlationId(Status status) {
    String d = String.valueOf(status.getDescription());
    int i = d.indexOf("(correlation id: ");
    return d.substring(i + "(correlation id: ".length(), d.length() - 1);
  }

  private enum BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
