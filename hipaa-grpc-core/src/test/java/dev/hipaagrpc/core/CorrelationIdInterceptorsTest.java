package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CorrelationIdInterceptorsTest {

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
          .setFullMethodName("test.Echo/Echo")
          .setRequestMarshaller(UTF8)
          .setResponseMarshaller(UTF8)
          .build();

  private final AtomicReference<String> seenByService = new AtomicReference<>();
  private final AtomicReference<String> mdcSeenByService = new AtomicReference<>();
  private final AtomicReference<String> seenDownstream = new AtomicReference<>();
  private Server server;
  private ManagedChannel channel;
  private String name;

  @BeforeEach
  void start() throws IOException {
    name = InProcessServerBuilder.generateName();
    ServerServiceDefinition echo =
        ServerServiceDefinition.builder("test.Echo")
            .addMethod(
                ECHO,
                ServerCalls.asyncUnaryCall(
                    (request, observer) -> {
                      seenByService.set(CorrelationId.current());
                      mdcSeenByService.set(org.slf4j.MDC.get(CorrelationId.MDC_KEY));
                      if (request.equals("fail")) {
                        observer.onError(Status.NOT_FOUND.asRuntimeException());
                        return;
                      }
                      if (request.equals("downstream")) {
                        // A call made while serving carries the same id.
                        String reply =
                            ClientCalls.blockingUnaryCall(
                                ClientInterceptors.intercept(
                                    channel, CorrelationIdClientInterceptor.create()),
                                ECHO,
                                CallOptions.DEFAULT,
                                "leaf");
                        observer.onNext(reply);
                      } else {
                        if (request.equals("leaf")) {
                          seenDownstream.set(CorrelationId.current());
                        }
                        observer.onNext(request);
                      }
                      observer.onCompleted();
                    }))
            .build();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(echo, CorrelationIdServerInterceptor.create()))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private String callWith(String request, String incomingId, AtomicReference<Metadata> headers) {
    Metadata extra = new Metadata();
    if (incomingId != null) {
      extra.put(CorrelationId.HEADER, incomingId);
    }
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    var intercepted =
        ClientInterceptors.intercept(
            channel,
            MetadataUtils.newAttachHeadersInterceptor(extra),
            MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    try {
      return ClientCalls.blockingUnaryCall(intercepted, ECHO, CallOptions.DEFAULT, request);
    } finally {
      if (headers.get() == null) {
        headers.set(trailers.get());
      }
    }
  }

  @Test
  void interceptCall_acceptableIncomingId_isKeptAndReturned() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    callWith("hi", "req-42.abc_DEF", headers);

    assertThat(seenByService.get()).isEqualTo("req-42.abc_DEF");
    assertThat(headers.get().get(CorrelationId.HEADER)).isEqualTo("req-42.abc_DEF");
  }

  @Test
  void interceptCall_idIsInTheMdcWhileTheServiceRuns_andTheCallersValueIsRestored() {
    org.slf4j.MDC.put(CorrelationId.MDC_KEY, "callers-own");
    try {
      // The in-process transport runs the server on this thread (direct executors) only for the
      // server's part; whatever thread it runs on, the service sees the call's id.
      callWith("hi", "req-mdc-1", new AtomicReference<>());
      assertThat(mdcSeenByService.get()).isEqualTo("req-mdc-1");
      assertThat(org.slf4j.MDC.get(CorrelationId.MDC_KEY)).isEqualTo("callers-own");
    } finally {
      org.slf4j.MDC.remove(CorrelationId.MDC_KEY);
    }
    callWith("hi", "req-mdc-2", new AtomicReference<>());
    assertThat(mdcSeenByService.get()).isEqualTo("req-mdc-2");
  }

  @Test
  void interceptCall_noIncomingId_generatesOne() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    callWith("hi", null, headers);

    assertThat(seenByService.get()).matches("[0-9a-f]{32}");
    assertThat(headers.get().get(CorrelationId.HEADER)).isEqualTo(seenByService.get());
  }

  @Test
  void interceptCall_unsafeIncomingId_isReplaced() {
    for (String bad :
        new String[] {"", "has space", "quote\"", "x".repeat(65), "new\\nline", "ümlaut", "a;b"}) {
      AtomicReference<Metadata> headers = new AtomicReference<>();
      callWith("hi", bad, headers);

      assertThat(seenByService.get()).as(bad).matches("[0-9a-f]{32}");
      assertThat(headers.get().get(CorrelationId.HEADER)).isEqualTo(seenByService.get());
    }
  }

  @Test
  void interceptCall_failedCall_returnsIdInTrailers() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    assertThatThrownBy(() -> callWith("fail", "trace-me", headers))
        .isInstanceOf(StatusRuntimeException.class);

    assertThat(headers.get().get(CorrelationId.HEADER)).isEqualTo("trace-me");
  }

  @Test
  void interceptCall_exposesCallFactsWithSameId() {
    AtomicReference<CallFacts> facts = new AtomicReference<>();
    ServerServiceDefinition svc =
        ServerServiceDefinition.builder("test.Echo")
            .addMethod(
                ECHO,
                ServerCalls.asyncUnaryCall(
                    (request, observer) -> {
                      facts.set(CallFacts.current());
                      observer.onNext(request);
                      observer.onCompleted();
                    }))
            .build();
    String n = InProcessServerBuilder.generateName();
    try {
      Server s =
          InProcessServerBuilder.forName(n)
              .directExecutor()
              .addService(
                  ServerInterceptors.intercept(svc, CorrelationIdServerInterceptor.create()))
              .build()
              .start();
      ManagedChannel c = InProcessChannelBuilder.forName(n).build();
      Metadata extra = new Metadata();
      extra.put(CorrelationId.HEADER, "abc");
      ClientCalls.blockingUnaryCall(
          ClientInterceptors.intercept(c, MetadataUtils.newAttachHeadersInterceptor(extra)),
          ECHO,
          CallOptions.DEFAULT,
          "x");
      c.shutdownNow();
      s.shutdownNow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(facts.get()).isNotNull();
    assertThat(facts.get().correlationId()).isEqualTo("abc");
  }

  @Test
  void clientInterceptor_propagatesIdOfServingCall() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    callWith("downstream", "upstream-id", headers);

    assertThat(seenDownstream.get()).isEqualTo("upstream-id");
  }

  @Test
  void clientInterceptor_outsideCall_sendsNoHeader() {
    assertThat(Context.current().getDeadline()).isNull();
    var intercepted =
        ClientInterceptors.intercept(channel, CorrelationIdClientInterceptor.create());
    ClientCalls.blockingUnaryCall(intercepted, ECHO, CallOptions.DEFAULT, "hi");

    // No header was sent, so the server generated its own.
    assertThat(seenByService.get()).matches("[0-9a-f]{32}");
  }
}
