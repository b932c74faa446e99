package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.masking.testproto.GetPatientRequest;
import dev.hipaagrpc.masking.testproto.ListPatientsRequest;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.PatientServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskingServerInterceptorTest {

  private final Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();

  /** Returns the fixture patient, and streams `count` of them. */
  static final class PatientService extends PatientServiceGrpc.PatientServiceImplBase {
    volatile boolean sawCancelled;

    @Override
    public void getPatient(GetPatientRequest request, StreamObserver<Patient> out) {
      out.onNext(Fixtures.patient());
      out.onCompleted();
    }

    @Override
    public void listPatients(ListPatientsRequest request, StreamObserver<Patient> out) {
      for (int i = 0; i < request.getCount(); i++) {
        out.onNext(Fixtures.patient().toBuilder().setId("p-" + i).build());
      }
      sawCancelled = ((ServerCallStreamObserver<Patient>) out).isCancelled();
      out.onCompleted();
    }
  }

  @Test
  void unary_noPrincipal_responseMaskedAndCounted() throws Exception {
    try (TestServer server =
        new TestServer(new PatientService(), MaskingServerInterceptor.create(redactor))) {
      Patient p =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .getPatient(GetPatientRequest.newBuilder().setId("p-1").build());

      assertThat(p.getName()).isEqualTo("[REDACTED]");
      assertThat(p.getSsn()).isEqualTo("****6789");
      assertThat(p.hasAttachment()).as("Any of unknown type removed").isFalse();
      assertThat(server.facts).hasSize(1);
      assertThat(server.facts.get(0).maskedFields()).isGreaterThan(10);
    }
  }

  @Test
  void unary_roleInRevealTo_seesName() throws Exception {
    try (TestServer server =
        new TestServer(new PatientService(), MaskingServerInterceptor.create(redactor))) {
      Patient p =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(TestServer.roles("clinician")))
              .getPatient(GetPatientRequest.newBuilder().setId("p-1").build());

      assertThat(p.getName()).isEqualTo("Alice Smith");
      assertThat(p.getSsn()).isEqualTo("****6789");
    }
  }

  @Test
  void serverStreaming_everyMessageMasked() throws Exception {
    try (TestServer server =
        new TestServer(new PatientService(), MaskingServerInterceptor.create(redactor))) {
      Iterator<Patient> it =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .listPatients(ListPatientsRequest.newBuilder().setCount(3).build());
      List<Patient> all = new ArrayList<>();
      it.forEachRemaining(all::add);

      assertThat(all).hasSize(3);
      assertThat(all).extracting(Patient::getId).containsExactly("p-0", "p-1", "p-2");
      assertThat(all).allSatisfy(p -> assertThat(p.getName()).isEqualTo("[REDACTED]"));
      assertThat(server.facts.get(0).maskedFields()).isEqualTo(3 * perPatient());
    }
  }

  @Test
  void refusedOption_failsClosedWithInternalAndWithholdsResponse() throws Exception {
    Redactor noTokenizer = Redactor.create();
    PatientService service = new PatientService();
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server = new TestServer(service, MaskingServerInterceptor.create(noTokenizer))) {
      assertThatThrownBy(
              () ->
                  PatientServiceGrpc.newBlockingStub(server.channel)
                      .getPatient(GetPatientRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                assertThat(e.getStatus().getDescription())
                    .isEqualTo(
                        "Internal error (correlation id: "
                            + server.facts.get(0).correlationId()
                            + ")");
              });
      Iterator<Patient> it =
          PatientServiceGrpc.newBlockingStub(server.channel)
              .listPatients(ListPatientsRequest.newBuilder().setCount(3).build());
      assertThatThrownBy(() -> it.forEachRemaining(p -> {}))
          .isInstanceOf(StatusRuntimeException.class);
      assertThat(service.sawCancelled).isTrue();
      assertThat(err.text()).contains("Tokenizer").doesNotContain("Alice").doesNotContain("6789");
    }
  }

  private int perPatient() {
    Masker.Counter c = new Masker.Counter();
    redactor.redact(Fixtures.patient(), null, c);
    return c.count;
  }
}
