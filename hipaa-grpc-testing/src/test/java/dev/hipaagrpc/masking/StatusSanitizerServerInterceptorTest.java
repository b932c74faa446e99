package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.TypeRegistry;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.masking.testproto.GetPatientRequest;
import dev.hipaagrpc.masking.testproto.ListPatientsRequest;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.PatientServiceGrpc;
import dev.hipaagrpc.testing.PhiCanaries;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

class StatusSanitizerServerInterceptorTest {

  private static final Metadata.Key<String> DEBUG =
      Metadata.Key.of("x-debug", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> RETRY =
      Metadata.Key.of("x-retry-after", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<byte[]> DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private final PhiCanaries canaries = PhiCanaries.create(7);
  private final Patient phi = canaries.fill(Patient.getDefaultInstance());

  /** Fails in the way the request id names, with PHI everywhere it can put it. */
  final class FailingService extends PatientServiceGrpc.PatientServiceImplBase {
    @Override
    public void getPatient(GetPatientRequest request, StreamObserver<Patient> out) {
      switch (request.getId()) {
        case "throw" -> throw new IllegalStateException("no chart for " + phi.getName());
        case "throw-status" ->
            throw Status.PERMISSION_DENIED
                .withDescription("ssn " + phi.getSsn() + " is restricted")
                .asRuntimeException();
        case "status" -> {
          Metadata trailers = new Metadata();
          trailers.put(DEBUG, phi.getName());
          trailers.put(RETRY, "5");
          trailers.put(
              DETAILS,
              com.google.rpc.Status.newBuilder()
                  .setCode(5)
                  .setMessage("patient " + phi.getName())
                  .addDetails(Any.pack(phi))
                  .build()
                  .toByteArray());
          out.onError(
              Status.NOT_FOUND
                  .withDescription("no record for " + phi.getName())
                  .withCause(new RuntimeException(phi.getSsn()))
                  .asRuntimeException(trailers));
        }
        case "onerror" -> out.onError(new IllegalArgumentException(phi.getEmailHash()));
        case "forged-id" -> {
          Metadata trailers = new Metadata();
          trailers.put(CorrelationId.HEADER, "id with " + phi.getName());
          out.onError(Status.ABORTED.asRuntimeException(trailers));
        }
        case "good-id" -> {
          Metadata trailers = new Metadata();
          trailers.put(CorrelationId.HEADER, "req-123");
          out.onError(Status.ABORTED.asRuntimeException(trailers));
        }
        default -> {
          out.onNext(Patient.newBuilder().setId("ok").build());
          out.onCompleted();
        }
      }
    }

    @Override
    public void listPatients(ListPatientsRequest request, StreamObserver<Patient> out) {
      out.onNext(Patient.newBuilder().setId("first").build());
      throw new IllegalStateException("streaming failed for " + phi.getName());
    }
  }

  private StatusSanitizerServerInterceptor sanitizer() {
    return StatusSanitizerServerInterceptor.newBuilder()
        .allowTrailers("X-Retry-After")
        .redactor(
            Redactor.newBuilder()
                .tokenizer(Fixtures.tokenizer())
                .typeRegistry(TypeRegistry.newBuilder().add(Patient.getDescriptor()).build())
                .build())
        .build();
  }

  private StatusRuntimeException call(TestServer server, String id) {
    try {
      PatientServiceGrpc.newBlockingStub(server.channel)
          .getPatient(GetPatientRequest.newBuilder().setId(id).build());
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("call succeeded");
  }

  @Test
  void thrownException_becomesGenericInternalWithCorrelationId() throws Exception {
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(new FailingService(), sanitizer())) {
      StatusRuntimeException e = call(server, "throw");

      String id = server.facts.get(0).correlationId();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(e.getStatus().getDescription())
          .isEqualTo("Internal error (correlation id: " + id + ")");
      assertThat(e.getStatus().getCause()).isNull();
      assertThat(err.text())
          .contains("GetPatient closed with INTERNAL (correlation id: " + id + ")")
          .contains("java.lang.IllegalStateException");
      canaries.assertAbsent(err.text(), "server log");
      canaries.assertAbsent(String.valueOf(e.getStatus()) + e.getTrailers(), "status");
    }
  }

  @Test
  void thrownStatusException_keepsCodeDropsDescription() throws Exception {
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(new FailingService(), sanitizer())) {
      StatusRuntimeException e = call(server, "throw-status");

      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).startsWith("Access denied (correlation id: ");
      canaries.assertAbsent(err.text(), "server log");
      canaries.assertAbsent(e.getStatus().toString(), "status");
    }
  }

  @Test
  void handlerStatusWithPhi_genericDescriptionAllowListedTrailersOnly() throws Exception {
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(new FailingService(), sanitizer())) {
      StatusRuntimeException e = call(server, "status");

      String id = server.facts.get(0).correlationId();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(e.getStatus().getDescription())
          .isEqualTo("Not found (correlation id: " + id + ")");
      Metadata trailers = e.getTrailers();
      assertThat(trailers.get(DEBUG)).isNull();
      assertThat(trailers.get(DETAILS)).isNull();
      assertThat(trailers.get(RETRY)).isEqualTo("5");
      String log = err.text();
      assertThat(log)
          .contains("closed with NOT_FOUND")
          .contains("description withheld")
          .contains("trailers dropped")
          .contains("x-debug")
          .contains("Patient")
          .contains("[REDACTED]");
      canaries.assertAbsent(log, "server log");
      canaries.assertAbsent(e.getStatus() + " " + trailers, "status and trailers");
    }
  }

  @Test
  void onErrorWithPlainException_becomesInternal() throws Exception {
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(new FailingService(), sanitizer())) {
      StatusRuntimeException e = call(server, "onerror");

      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(e.getStatus().getDescription()).startsWith("Internal error (correlation id: ");
      assertThat(err.text()).contains("closed with UNKNOWN (sent as INTERNAL)");
      canaries.assertAbsent(err.text(), "server log");
    }
  }

  @Test
  void streamingThrowAfterMessage_closedGenerically() throws Exception {
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(new FailingService(), sanitizer())) {
      var it =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .listPatients(ListPatientsRequest.getDefaultInstance());

      assertThat(it.next().getId()).isEqualTo("first");
      assertThatThrownBy(it::next)
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                canaries.assertAbsent(e.getStatus().toString(), "status");
              });
      canaries.assertAbsent(err.text(), "server log");
    }
  }

  @Test
  void okCall_passesUnchangedAndServerKeepsServing() throws Exception {
    try (TestServer server = new TestServer(new FailingService(), sanitizer())) {
      call(server, "throw");

      Patient p =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .getPatient(GetPatientRequest.newBuilder().setId("fine").build());

      assertThat(p.getId()).isEqualTo("ok");
    }
  }

  @Test
  void withMasking_canariesNeverLeave() throws Exception {
    Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server =
            new TestServer(
                new FailingService(), MaskingServerInterceptor.create(redactor), sanitizer())) {
      StatusRuntimeException e = call(server, "status");

      assertThat(e.getTrailers().get(CorrelationId.HEADER)).as("not set by the handler").isNull();
      canaries.assertAbsent(err.text() + e.getStatus() + e.getTrailers(), "any output");
    }
  }

  @Test
  void correlationIdTrailer_passesOnlyInItsSafeShape() throws Exception {
    try (TestServer server = new TestServer(new FailingService(), sanitizer())) {
      assertThat(call(server, "good-id").getTrailers().get(CorrelationId.HEADER))
          .isEqualTo("req-123");
      StatusRuntimeException forged = call(server, "forged-id");
      assertThat(forged.getTrailers().get(CorrelationId.HEADER)).isNull();
      canaries.assertAbsent(forged.getStatus() + " " + forged.getTrailers(), "status");
    }
  }

  @Test
  void allowTrailers_refusesStatusDetails() {
    assertThatThrownBy(
            () ->
                StatusSanitizerServerInterceptor.newBuilder()
                    .allowTrailers("grpc-status-details-bin"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> StatusSanitizerServerInterceptor.newBuilder().allowTrailers("bad key!"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void genericDescription_neverEmptyForAnyCode() {
    for (Status.Code code : Status.Code.values()) {
      assertThat(StatusSanitizerServerInterceptor.genericDescription(code)).isNotBlank();
    }
  }
}
