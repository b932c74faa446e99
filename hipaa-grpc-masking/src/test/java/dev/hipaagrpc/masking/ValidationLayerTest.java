package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.DebugInfo;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.masking.testproto.RegisterPatientRequest;
import dev.hipaagrpc.masking.testproto.RegisterPatientResponse;
import dev.hipaagrpc.masking.testproto.RegistrationServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ValidationLayerTest {

  // PHI canaries: none may reach the caller in any form.
  private static final String CANARY_NAME = "CanaryNameQZX";
  private static final String CANARY_SSN = "CANARY-SSN-991";
  private static final String CANARY_KEY = "canary-key-557";

  /** Counts the requests that reached the service. */
  static final class Registration extends RegistrationServiceGrpc.RegistrationServiceImplBase {
    final List<RegisterPatientRequest> seen = new CopyOnWriteArrayList<>();

    @Override
    public void register(
        RegisterPatientRequest request, StreamObserver<RegisterPatientResponse> out) {
      seen.add(request);
      out.onNext(RegisterPatientResponse.newBuilder().setId("r-1").build());
      out.onCompleted();
    }
  }

  private static StatusRuntimeException refused(TestServer server, RegisterPatientRequest request) {
    try {
      RegistrationServiceGrpc.newBlockingStub(server.channel).register(request);
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call was not refused");
  }

  private static TestServer server(RegistrationServiceGrpc.RegistrationServiceImplBase service)
      throws Exception {
    // Sanitizer outside validation, as SecurityStack orders them.
    return new TestServer(
        service, ProtovalidateLayer.create(), StatusSanitizerServerInterceptor.create());
  }

  private static void assertNoCanary(StatusRuntimeException e) {
    String all = Fixtures.clientVisible(e);
    assertThat(all.toLowerCase(java.util.Locale.ROOT))
        .doesNotContain(CANARY_NAME.toLowerCase(java.util.Locale.ROOT))
        .doesNotContain(CANARY_SSN.toLowerCase(java.util.Locale.ROOT))
        .doesNotContain(CANARY_KEY);
  }

  private static List<BadRequest.FieldViolation> violations(StatusRuntimeException e)
      throws Exception {
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    List<BadRequest.FieldViolation> out = new ArrayList<>();
    if (details == null) {
      return out;
    }
    for (Any any : details.getDetailsList()) {
      out.addAll(any.unpack(BadRequest.class).getFieldViolationsList());
    }
    return out;
  }

  @Test
  void slot_isValidation() {
    assertThat(ProtovalidateLayer.create().slot()).isEqualTo(SecurityLayer.Slot.VALIDATION);
  }

  @Test
  void invalidRequest_refusedBeforeService_violationsReachClientWithoutPhi() throws Exception {
    Registration service = new Registration();
    try (TestServer server = server(service)) {
      RefusalSummary.flush();
      StatusRuntimeException e =
          refused(
              server, RegisterPatientRequest.newBuilder().setName(CANARY_NAME).setAge(200).build());

      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(RefusalSummary.flush()).endsWith(": INVALID_ARGUMENT invalid_request=1");
      assertThat(e.getStatus().getDescription()).startsWith("Invalid request (correlation id: ");
      assertThat(violations(e))
          .extracting(BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getReason)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple("name", "string.max_len"),
              org.assertj.core.groups.Tuple.tuple("age", "int32.lte"));
      assertThat(violations(e).get(0).getDescription()).isNotBlank();
      assertNoCanary(e);
      assertThat(service.seen).isEmpty();
    }
  }

  @Test
  void violationMessageEchoingTheValue_dropped_othersKept() throws Exception {
    Registration service = new Registration();
    try (TestServer server = server(service)) {
      StatusRuntimeException both =
          refused(
              server,
              RegisterPatientRequest.newBuilder().setName(CANARY_NAME).setSsn(CANARY_SSN).build());
      StatusRuntimeException echoOnly =
          refused(server, RegisterPatientRequest.newBuilder().setSsn(CANARY_SSN).build());

      assertThat(violations(both))
          .extracting(BadRequest.FieldViolation::getField)
          .containsExactly("name");
      assertNoCanary(both);
      assertThat(echoOnly.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(violations(echoOnly)).as("nothing safe left: no details at all").isEmpty();
      assertNoCanary(echoOnly);
      assertThat(service.seen).isEmpty();
    }
  }

  @Test
  void mapKey_neverInThePath() throws Exception {
    try (TestServer server = server(new Registration())) {
      StatusRuntimeException e =
          refused(server, RegisterPatientRequest.newBuilder().putTags(CANARY_KEY, "x").build());

      assertThat(violations(e))
          .extracting(BadRequest.FieldViolation::getField)
          .containsExactly("tags[]");
      assertNoCanary(e);
    }
  }

  @Test
  void validRequest_reachesService() throws Exception {
    Registration service = new Registration();
    try (TestServer server = server(service)) {
      RegistrationServiceGrpc.newBlockingStub(server.channel)
          .register(
              RegisterPatientRequest.newBuilder()
                  .setName("Al")
                  .setSsn("123-45-6789")
                  .putTags("k", "value")
                  .setAge(40)
                  .build());

      assertThat(service.seen).hasSize(1);
    }
  }

  @Test
  void sanitizer_onlyAllowListedDetailTypesAndValueFreeViolationsPass() throws Exception {
    RegistrationServiceGrpc.RegistrationServiceImplBase handwritten =
        new RegistrationServiceGrpc.RegistrationServiceImplBase() {
          @Override
          public void register(
              RegisterPatientRequest request, StreamObserver<RegisterPatientResponse> out) {
            BadRequest bad =
                BadRequest.newBuilder()
                    .addFieldViolations(
                        BadRequest.FieldViolation.newBuilder()
                            .setField("ssn")
                            .setDescription("ssn " + request.getSsn() + " is invalid"))
                    .addFieldViolations(
                        BadRequest.FieldViolation.newBuilder()
                            .setField("name")
                            .setDescription("must be at most 5 characters"))
                    .addFieldViolations(
                        BadRequest.FieldViolation.newBuilder()
                            .setField("tags[" + CANARY_KEY + "]")
                            .setDescription("too short"))
                    .build();
            out.onError(
                StatusProto.toStatusRuntimeException(
                    com.google.rpc.Status.newBuilder()
                        .setCode(Status.Code.INVALID_ARGUMENT.value())
                        .setMessage("bad " + request.getName())
                        .addDetails(Any.pack(bad))
                        .addDetails(
                            Any.pack(DebugInfo.newBuilder().setDetail(request.getName()).build()))
                        .build()));
          }
        };
    try (TestServer server =
        new TestServer(handwritten, StatusSanitizerServerInterceptor.create())) {
      StatusRuntimeException e =
          refused(
              server,
              RegisterPatientRequest.newBuilder().setName(CANARY_NAME).setSsn(CANARY_SSN).build());

      assertThat(violations(e))
          .extracting(
              BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getDescription)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("name", "must be at most 5 characters"));
      com.google.rpc.Status details = StatusProto.fromThrowable(e);
      assertThat(details.getDetailsCount()).as("DebugInfo is not on the allow-list").isEqualTo(1);
      assertThat(details.getMessage()).startsWith("Invalid request (correlation id: ");
      assertNoCanary(e);
    }
  }

  @Test
  void validatorThatCannotRun_internalWithoutDetail() throws Exception {
    build.buf.protovalidate.Validator broken =
        message -> {
          throw new build.buf.protovalidate.exceptions.ValidationException(
              "rule failed on " + CANARY_NAME);
        };
    Registration service = new Registration();
    try (TestServer server =
        new TestServer(
            service,
            ProtovalidateLayer.create(broken),
            StatusSanitizerServerInterceptor.create())) {
      StatusRuntimeException e =
          refused(server, RegisterPatientRequest.newBuilder().setName(CANARY_NAME).build());

      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
      assertNoCanary(e);
      assertThatThrownBy(() -> violations(e).get(0)).isInstanceOf(IndexOutOfBoundsException.class);
      assertThat(service.seen).isEmpty();
    }
  }
}
