package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.masking.testproto.ContactServiceGrpc;
import dev.hipaagrpc.masking.testproto.ContactUpdate;
import dev.hipaagrpc.masking.testproto.EmptyWriteRule;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.UpdateContactRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WriteRulesTest {

  private static final String CANARY_PHONE = "555-CANARY-7788";

  private final Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();

  /** Records every request the service sees. */
  static final class ContactService extends ContactServiceGrpc.ContactServiceImplBase {
    final List<UpdateContactRequest> seen = new CopyOnWriteArrayList<>();

    @Override
    public void updateContact(UpdateContactRequest request, StreamObserver<Patient> out) {
      seen.add(request);
      out.onNext(Patient.newBuilder().setId(request.getPatientId()).build());
      out.onCompleted();
    }

    @Override
    public StreamObserver<UpdateContactRequest> updateContacts(StreamObserver<Patient> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(UpdateContactRequest request) {
          seen.add(request);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onNext(Patient.getDefaultInstance());
          out.onCompleted();
        }
      };
    }
  }

  private static UpdateContactRequest phoneUpdate() {
    return UpdateContactRequest.newBuilder()
        .setPatientId("p-1")
        .addContacts(ContactUpdate.newBuilder().setPhone(CANARY_PHONE))
        .build();
  }

  private Patient call(TestServer server, String roles, UpdateContactRequest request) {
    return ContactServiceGrpc.newBlockingStub(server.channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TestServer.roles(roles)))
        .updateContact(request);
  }

  @Test
  void readOnlyForRole_setsField_refusedBeforeServiceWithPathInDecision() throws Exception {
    ContactService service = new ContactService();
    try (TestServer server = new TestServer(service, MaskingServerInterceptor.create(redactor))) {
      RefusalSummary.flush();
      assertThatThrownBy(() -> call(server, "billing", phoneUpdate()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(e.getStatus().getDescription())
                    .startsWith("Access denied (correlation id: ")
                    .doesNotContain(CANARY_PHONE)
                    .doesNotContain("phone");
              });

      assertThat(service.seen).as("the service never saw the request").isEmpty();
      AccessDecision decision = server.facts.get(0).decision();
      assertThat(decision).isNotNull();
      assertThat(decision.permitted()).isFalse();
      assertThat(decision.ruleId())
          .isEqualTo("write-rule:hipaagrpc.masking.test.UpdateContactRequest/contacts.phone")
          .doesNotContain(CANARY_PHONE);
      // Counted in the once-a-minute refusal summary, by its rule.
      assertThat(RefusalSummary.flush())
          .endsWith(
              ": PERMISSION_DENIED"
                  + " write-rule:hipaagrpc.masking.test.UpdateContactRequest/contacts.phone=1");
    }
  }

  @Test
  void otherRole_mayWriteTheField_serviceSeesRequest() throws Exception {
    ContactService service = new ContactService();
    try (TestServer server = new TestServer(service, MaskingServerInterceptor.create(redactor))) {
      call(server, "clinician", phoneUpdate());
      // billing may set what is not read-only for it
      call(
          server,
          "billing",
          UpdateContactRequest.newBuilder()
              .setPatientId("p-1")
              .addContacts(ContactUpdate.newBuilder().setEmail("a@example.org"))
              .build());

      assertThat(service.seen).hasSize(2);
      assertThat(server.facts.get(0).decision()).isNull();
    }
  }

  @Test
  void outputOnly_refusedForEveryCallerEvenWithoutPrincipal() throws Exception {
    ContactService service = new ContactService();
    UpdateContactRequest withId = phoneUpdate().toBuilder().setRecordId("r-9").build();
    try (TestServer server = new TestServer(service, MaskingServerInterceptor.create(redactor))) {
      for (String roles : new String[] {"clinician", "admin,clinician"}) {
        assertThatThrownBy(() -> call(server, roles, withId))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      }
      assertThatThrownBy(
              () -> ContactServiceGrpc.newBlockingStub(server.channel).updateContact(withId))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

      assertThat(service.seen).isEmpty();
      assertThat(server.facts.get(2).decision().ruleId())
          .isEqualTo("write-rule:hipaagrpc.masking.test.UpdateContactRequest/record_id");
    }
  }

  @Test
  void rulesApplyInMapValuesAndRecursiveMessages() {
    UpdateContactRequest inMap =
        UpdateContactRequest.newBuilder()
            .putByKind("home", ContactUpdate.newBuilder().setPhone(CANARY_PHONE).build())
            .build();
    UpdateContactRequest nested =
        UpdateContactRequest.newBuilder()
            .setNext(UpdateContactRequest.newBuilder().setNext(phoneUpdate()))
            .build();

    assertThat(redactor.forbiddenField(inMap, Fixtures.principal("billing")))
        .isEqualTo("by_kind.phone");
    assertThat(redactor.forbiddenField(nested, Fixtures.principal("billing")))
        .isEqualTo("next.next.contacts.phone");
    assertThat(redactor.forbiddenField(nested, Fixtures.principal("clinician"))).isNull();
    assertThat(redactor.forbiddenField(Patient.getDefaultInstance(), null)).isNull();
  }

  @Test
  void clientStreaming_forbiddenSecondMessage_refusedAndLaterMessagesDropped() throws Exception {
    ContactService service = new ContactService();
    try (TestServer server = new TestServer(service, MaskingServerInterceptor.create(redactor))) {
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Throwable> error = new AtomicReference<>();
      StreamObserver<UpdateContactRequest> requests =
          ContactServiceGrpc.newStub(server.channel)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(TestServer.roles("billing")))
              .updateContacts(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(Patient value) {}

                    @Override
                    public void onError(Throwable t) {
                      error.set(t);
                      done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                      done.countDown();
                    }
                  });
      requests.onNext(UpdateContactRequest.newBuilder().setPatientId("p-1").build());
      requests.onNext(phoneUpdate());
      requests.onNext(UpdateContactRequest.newBuilder().setPatientId("p-2").build());
      requests.onCompleted();

      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(Status.fromThrowable(error.get()).getCode())
          .isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(service.seen)
          .extracting(UpdateContactRequest::getPatientId)
          .containsExactly("p-1");
    }
  }

  @Test
  void emptyOrBlankWriteRule_refusedAtStartUp() {
    assertThatThrownBy(() -> redactor.precompile(EmptyWriteRule.getDescriptor()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("hipaagrpc.masking.test.EmptyWriteRule.v")
        .hasMessageContaining("empty write_rule");
  }
}
