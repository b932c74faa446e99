package dev.hipaagrpc.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.testing.GetPatientRequest;
import dev.hipaagrpc.audit.testing.PatientRecord;
import dev.hipaagrpc.audit.testing.PatientServiceGrpc;
import dev.hipaagrpc.core.CorrelationIdServerInterceptor;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Exactly one event per call on the paths where a cancel, a close and grpc-java race. */
@Timeout(60)
class OneEventPerCallTest {

  private final TestSinks.Collecting sink = new TestSinks.Collecting();
  private final AuditDispatcher dispatcher = AuditDispatcher.newBuilder(sink).build();
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private final CountDownLatch answered = new CountDownLatch(1);
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
    dispatcher.close();
  }

  /** Answers from another thread, after the client has cancelled. */
  private final class LateService extends PatientServiceGrpc.PatientServiceImplBase {
    @Override
    public void getPatient(GetPatientRequest req, StreamObserver<PatientRecord> out) {
      Thread t =
          new Thread(
              () -> {
                try {
                  cancelled.await(10, TimeUnit.SECONDS);
                  Thread.sleep(100); // let the server see the cancellation first
                  out.onNext(PatientRecord.newBuilder().setPatientId("p").build());
                  out.onCompleted();
                } catch (InterruptedException | RuntimeException e) {
                  // a closed call may refuse the late answer: that is the point
                } finally {
                  answered.countDown();
                }
              });
      t.start();
    }
  }

  private void start(io.grpc.BindableService service) throws IOException {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                ServerInterceptors.intercept(
                    service,
                    AuditServerInterceptor.newBuilder(dispatcher, TestServer.IDENTIFIER_KEY)
                        .build(),
                    CorrelationIdServerInterceptor.create()))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @Test
  void clientCancelsThenServiceAnswers_oneEvent() throws Exception {
    start(new LateService());
    ClientCall<GetPatientRequest, PatientRecord> call =
        channel.newCall(PatientServiceGrpc.getGetPatientMethod(), CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(GetPatientRequest.newBuilder().setPatientId("p").build());
    call.halfClose();
    Thread.sleep(100);
    call.cancel("user left", null);
    assertThat(closed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
    cancelled.countDown();
    assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(300); // a second event would be queued by now
    List<AuditEvent> events = sink.await(1);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getType()).isEqualTo(AuditEvent.Type.CALL_CANCELLED);
  }

  @Test
  void garbageRequestToAnUnwrappedService_oneEventWithTheUnknownTheCallerSaw() throws Exception {
    start(new LateService());
    MethodDescriptor<byte[], byte[]> raw =
        PatientServiceGrpc.getGetPatientMethod().toBuilder(Bytes.INSTANCE, Bytes.INSTANCE).build();
    ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(new byte[] {0x0a, 0x7f, 0x01});
    call.halfClose();
    Status seen = closed.get(10, TimeUnit.SECONDS);
    assertThat(seen.getCode()).isEqualTo(Status.Code.UNKNOWN);
    List<AuditEvent> events = sink.await(1);
    Thread.sleep(200);
    assertThat(sink.await(1)).hasSize(1);
    assertThat(events.get(0).getOutcome().getStatus()).isEqualTo("UNKNOWN");
  }

  private enum Bytes implements MethodDescriptor.Marshaller<byte[]> {
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
