package dev.hipaagrpc.audit;

import static dev.hipaagrpc.audit.TestServer.CANARY;
import static dev.hipaagrpc.audit.TestServer.IDENTIFIER_KEY;
import static dev.hipaagrpc.audit.TestServer.PATIENT_ID;
import static dev.hipaagrpc.audit.TestServer.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.testing.GetPatientRequest;
import dev.hipaagrpc.audit.testing.PatientRecord;
import dev.hipaagrpc.core.KeyedIdentifier;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class AuditServerInterceptorTest {

  private final TestSinks.Collecting sink = new TestSinks.Collecting();
  private AuditDispatcher dispatcher;
  private TestServer server;

  @BeforeEach
  void setUp() throws Exception {
    dispatcher = AuditDispatcher.newBuilder(sink).build();
    AuditServerInterceptor audit =
        AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY)
            .recordHeaders("user-agent-extra")
            .clock(Clock.fixed(Instant.parse("2026-03-04T05:06:07.008Z"), ZoneOffset.UTC))
            .build();
    server = new TestServer(audit);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
    dispatcher.close();
  }

  private static String json(AuditEvent e) {
    return EventJson.toJson(e);
  }

  @Test
  void unaryCall_allowed_recordsEveryField() throws Exception {
    PatientRecord r = server.blocking("ok").getPatient(request("hello"));
    assertThat(r.getName()).isEqualTo(CANARY);
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getSchema()).isEqualTo("hipaagrpc.audit/2");
    assertThat(e.getType()).isEqualTo(AuditEvent.Type.CALL);
    assertThat(e.getTime()).isEqualTo("2026-03-04T05:06:07.008Z");
    assertThat(e.getEventId()).hasSize(32);
    assertThat(e.getCorrelationId()).isNotEmpty();
    assertThat(e.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(e.getActor().getSubject()).isEqualTo("dr.house");
    assertThat(e.getActor().getSubjectHashed()).isFalse();
    assertThat(e.getActor().getKind()).isEqualTo("USER");
    assertThat(e.getActor().getRolesList()).containsExactly("clinician");
    assertThat(e.getActor().getAuthMethod()).isEqualTo("BEARER_TOKEN");
    assertThat(e.getActor().getCredentialFingerprint()).isEqualTo("fp-123");
    assertThat(e.getActor().getIssuer()).isEqualTo("https://idp.example");
    assertThat(e.getSource().getAddress()).isEqualTo("InProcessSocketAddress");
    assertThat(e.getTarget().getService()).isEqualTo("hipaagrpc.audit.testing.PatientService");
    assertThat(e.getTarget().getMethod()).isEqualTo("GetPatient");
    assertThat(e.getTarget().getAction()).isEqualTo("read");
    assertThat(e.getTarget().getMethodType()).isEqualTo("UNARY");
    assertThat(e.getResource().getType()).isEqualTo("Patient");
    assertThat(e.getResource().getPatientsList())
        .containsExactly(AccessReportTest.keyedPatientId(PATIENT_ID));
    assertThat(e.getResource().getPatients(0)).startsWith(KeyedIdentifier.PREFIX);
    assertThat(e.getResource().getPatientHmac()).isEmpty();
    assertThat(e.getOutcome().getStatus()).isEqualTo("OK");
    assertThat(e.getAuthorization().getDecision()).isEqualTo("ALLOW");
    assertThat(e.getAuthorization().getRuleId()).isEqualTo("clinician-read");
    assertThat(e.getAuthorization().getPolicyVersion()).isEqualTo("policy-v7");
    assertThat(e.getAuthorization().getPurposeOfUse()).isEqualTo("TREAT");
    assertThat(e.getMaskedFields()).isEqualTo(2);
    assertThat(e.getTraffic().getRequestMessages()).isEqualTo(1);
    assertThat(e.getTraffic().getRequestBytes()).isEqualTo(request("hello").getSerializedSize());
    assertThat(e.getTraffic().getResponseMessages()).isEqualTo(1);
    assertThat(e.getTraffic().getResponseBytes()).isEqualTo(r.getSerializedSize());
    assertThat(e.getHeadersMap())
        .containsExactly(java.util.Map.entry("user-agent-extra", "test-client/1.0"));
    // The hand-written JSON is the proto3 JSON mapping of the schema.
    AuditEvent.Builder parsed = AuditEvent.newBuilder();
    JsonFormat.parser().merge(json(e), parsed);
    assertThat(parsed.build()).isEqualTo(e);
  }

  @Test
  void unaryCall_permissionDenied_auditedWithIdentityAndRule() throws Exception {
    assertThatThrownBy(() -> server.blocking("denied").getPatient(request("x")))
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(t -> ((StatusRuntimeException) t).getStatus().getCode())
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getOutcome().getStatus()).isEqualTo("PERMISSION_DENIED");
    assertThat(e.getOutcome().getStatusCode()).isEqualTo(7);
    assertThat(e.getActor().getSubject()).isEqualTo("dr.house");
    assertThat(e.getAuthorization().getDecision()).isEqualTo("DENY");
    assertThat(e.getAuthorization().getRuleId()).isEqualTo("nurses-no-psych");
    assertThat(e.getResource().getPatientsList())
        .containsExactly(AccessReportTest.keyedPatientId(PATIENT_ID));
    assertThat(server.serviceInvocations.get()).isZero();
  }

  @Test
  void unaryCall_unauthenticated_auditedWithFailureCodeAndHashedAddress() throws Exception {
    assertThatThrownBy(() -> server.blocking("unauthenticated").getPatient(request("x")))
        .extracting(t -> ((StatusRuntimeException) t).getStatus().getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getOutcome().getStatus()).isEqualTo("UNAUTHENTICATED");
    assertThat(e.getActor().getAuthenticationFailure()).isEqualTo("invalid_token");
    assertThat(e.getActor().getSubject()).isEmpty();
    assertThat(e.getAuthorization().getDecision()).isEmpty();
    assertThat(e.getTarget().getAction()).isEqualTo("read"); // naming rule: Get*
  }

  @Test
  void unaryCall_patientFacingCaller_subjectIsKeyedHash() throws Exception {
    server.blocking("patient").getPatient(request("x"));
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getActor().getSubjectHashed()).isTrue();
    assertThat(e.getActor().getSubject()).startsWith(KeyedIdentifier.PREFIX).doesNotContain(CANARY);
  }

  @Test
  void unaryCall_breakGlassRefused_recordsTheAttemptWithItsReason() throws Exception {
    assertThatThrownBy(() -> server.blocking("breakglassrefused").getPatient(request("x")))
        .isInstanceOf(StatusRuntimeException.class);
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getAuthorization().getDecision()).isEqualTo("DENY");
    assertThat(e.getAuthorization().getRuleId()).isEqualTo("tenant-isolation");
    assertThat(e.getAuthorization().getBreakGlassReason()).isEqualTo("CODE_BLUE");
    assertThat(e.getOutcome().getStatus()).isEqualTo("PERMISSION_DENIED");
  }

  @Test
  void unaryCall_severalPatients_everyOneRecordedInOrder() throws Exception {
    server.blocking("threepatients").getPatient(request("x"));
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getResource().getPatientsList())
        .containsExactly(
            AccessReportTest.keyedPatientId("patient-2"),
            AccessReportTest.keyedPatientId("patient-3"),
            AccessReportTest.keyedPatientId(PATIENT_ID));
    assertThat(e.getResource().getPatientsOmitted()).isZero();
  }

  @Test
  void auditLayerTwiceOnOneCall_oneEvent() throws Exception {
    server.close();
    AuditServerInterceptor second =
        AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY).build();
    server =
        new TestServer(
            AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY).build(), second);
    server.blocking("ok").getPatient(request("x"));
    sink.await(1);
    Thread.sleep(200); // a second event would have been queued by now
    assertThat(sink.await(1)).hasSize(1);
  }

  @Test
  void slot_isAudit() {
    assertThat(AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY).build().slot())
        .isEqualTo(dev.hipaagrpc.core.SecurityLayer.Slot.AUDIT);
  }

  @Test
  void unaryCall_breakGlass_recordsReason() throws Exception {
    server.blocking("breakglass").getPatient(request("x"));
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getAuthorization().getDecision()).isEqualTo("BREAK_GLASS");
    assertThat(e.getAuthorization().getBreakGlassReason()).isEqualTo("CODE_BLUE");
  }

  @Test
  void everyEvent_canaryPhiInRequestMetadataAndStatus_neverRecorded() throws Exception {
    server.blocking("ok").getPatient(request(CANARY));
    assertThatThrownBy(() -> server.blocking("ok").getPatient(request("fail " + CANARY)))
        .isInstanceOf(StatusRuntimeException.class);
    assertThatThrownBy(() -> server.blocking("denied").getPatient(request(CANARY)))
        .isInstanceOf(StatusRuntimeException.class);
    assertThatThrownBy(() -> server.blocking("unauthenticated").getPatient(request(CANARY)))
        .isInstanceOf(StatusRuntimeException.class);
    server.blocking("patient").getPatient(request(CANARY));
    Iterator<PatientRecord> it = server.blocking("ok").listObservations(request("3"));
    it.forEachRemaining(x -> {});
    List<AuditEvent> events = sink.await(6);
    assertThat(events).hasSize(6);
    for (AuditEvent e : events) {
      String line = json(e);
      assertThat(line).doesNotContain(CANARY).doesNotContain("Bearer");
      assertThat(e.getHeadersMap()).doesNotContainKeys("authorization", "x-patient-name");
      assertThat(e.toString()).doesNotContain(CANARY);
      assertThat(FhirAuditEvents.toJson(e, "records-service")).doesNotContain(CANARY);
    }
    assertThat(events.get(1).getOutcome().getStatus()).isEqualTo("INVALID_ARGUMENT");
  }

  @Test
  void unaryCall_serviceThrows_auditedAsUnknown() throws Exception {
    assertThatThrownBy(() -> server.blocking("ok").getPatient(request("throw")))
        .extracting(t -> ((StatusRuntimeException) t).getStatus().getCode())
        .isEqualTo(Status.Code.UNKNOWN);
    List<AuditEvent> events = sink.await(1);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getType()).isEqualTo(AuditEvent.Type.CALL);
    assertThat(events.get(0).getOutcome().getStatus()).isEqualTo("UNKNOWN");
    assertThat(json(events.get(0))).doesNotContain(CANARY);
  }

  @Test
  void serverStreaming_completed_oneEventWithCounts() throws Exception {
    Iterator<PatientRecord> it = server.blocking("noaction").listObservations(request("5"));
    int n = 0;
    while (it.hasNext()) {
      it.next();
      n++;
    }
    assertThat(n).isEqualTo(5);
    List<AuditEvent> events = sink.await(1);
    assertThat(events).hasSize(1);
    AuditEvent e = events.get(0);
    assertThat(e.getTarget().getMethodType()).isEqualTo("SERVER_STREAMING");
    assertThat(e.getTarget().getAction()).isEqualTo("search"); // naming rule: List*
    assertThat(e.getTraffic().getResponseMessages()).isEqualTo(5);
    assertThat(e.getTraffic().getRequestMessages()).isEqualTo(1);
  }

  @Test
  void clientStreaming_completed_countsRequests() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<PatientRecord> up =
        server
            .async("ok")
            .uploadObservations(
                new StreamObserver<GetPatientRequest>() {
                  @Override
                  public void onNext(GetPatientRequest value) {}

                  @Override
                  public void onError(Throwable t) {
                    done.countDown();
                  }

                  @Override
                  public void onCompleted() {
                    done.countDown();
                  }
                });
    for (int i = 0; i < 4; i++) {
      up.onNext(PatientRecord.newBuilder().setName("r" + i).build());
    }
    up.onCompleted();
    done.await();
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getTraffic().getRequestMessages()).isEqualTo(4);
    assertThat(e.getTraffic().getResponseMessages()).isEqualTo(1);
  }

  @Test
  void serverStreaming_cancelledByClient_cancellationEvent() throws Exception {
    CountDownLatch firstMessage = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    ClientResponseObserver<GetPatientRequest, PatientRecord> obs =
        new ClientResponseObserver<>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<GetPatientRequest> r) {}

          @Override
          public void onNext(PatientRecord value) {
            firstMessage.countDown();
          }

          @Override
          public void onError(Throwable t) {
            closed.countDown();
          }

          @Override
          public void onCompleted() {
            closed.countDown();
          }
        };
    Context.CancellableContext cc = Context.current().withCancellation();
    cc.run(() -> server.async("ok").listObservations(request("hang"), obs));
    firstMessage.await();
    cc.cancel(null);
    closed.await();
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getType()).isEqualTo(AuditEvent.Type.CALL_CANCELLED);
    assertThat(e.getOutcome().getStatus()).isEqualTo("CANCELLED");
    assertThat(e.getTraffic().getResponseMessages()).isEqualTo(2);
    assertThat(e.getResource().getPatients(0)).startsWith(KeyedIdentifier.PREFIX);
  }

  @Test
  void clientInterceptor_outgoingCall_recordsClientCall() throws Exception {
    AuditClientInterceptor client =
        AuditClientInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY).build();
    server.blocking("ok", client).getPatient(request("x"));
    List<AuditEvent> events = sink.await(2);
    AuditEvent c =
        events.stream().filter(x -> x.getType() == AuditEvent.Type.CLIENT_CALL).findFirst().get();
    assertThat(c.getTarget().getMethod()).isEqualTo("GetPatient");
    assertThat(c.getSource().getAuthority()).isNotEmpty();
    assertThat(c.getOutcome().getStatus()).isEqualTo("OK");
    assertThat(c.getTraffic().getResponseMessages()).isEqualTo(1);
    assertThat(c.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(EventJson.toJson(c)).doesNotContain(CANARY);
  }

  @Test
  void unaryCall_auditActionMethodOption_overridesNamingRule() throws Exception {
    // The test service has no such method (UNIMPLEMENTED); the call is audited all the same.
    assertThatThrownBy(() -> server.blocking("noaction").recalculateDose(request("x")))
        .isInstanceOf(StatusRuntimeException.class);
    AuditEvent e = sink.await(1).get(0);
    assertThat(e.getTarget().getMethod()).isEqualTo("RecalculateDose");
    assertThat(e.getTarget().getAction()).isEqualTo("update");
    assertThat(e.getOutcome().getStatus()).isEqualTo("UNIMPLEMENTED");
  }

  @Test
  void recordHeaders_credentialHeader_refused() {
    AuditServerInterceptor.Builder b =
        AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY);
    for (String h : List.of("authorization", "Cookie", "x-session-id", "x-id-token", "trace-bin")) {
      assertThatThrownBy(() -> b.recordHeaders(h)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> AuditServerInterceptor.newBuilder(dispatcher, new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void action_namingRule_mapsVerbs() {
    assertThat(action("CreateObservation")).isEqualTo("create");
    assertThat(action("GetPatient")).isEqualTo("read");
    assertThat(action("SearchPatients")).isEqualTo("search");
    assertThat(action("UpdateConsent")).isEqualTo("update");
    assertThat(action("DeleteNote")).isEqualTo("delete");
    assertThat(action("Settle")).isEqualTo("execute");
    assertThat(action("Recalculate")).isEqualTo("execute");
    assertThat(action("get_patient")).isEqualTo("read");
  }

  private static String action(String method) {
    return EventFactory.action(
        null,
        io.grpc.MethodDescriptor.<Void, Void>newBuilder()
            .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("svc/" + method)
            .setRequestMarshaller(new VoidMarshaller())
            .setResponseMarshaller(new VoidMarshaller())
            .build());
  }

  static final class VoidMarshaller implements io.grpc.MethodDescriptor.Marshaller<Void> {
    @Override
    public java.io.InputStream stream(Void value) {
      return new java.io.ByteArrayInputStream(new byte[0]);
    }

    @Override
    public Void parse(java.io.InputStream stream) {
      return null;
    }
  }

  @Test
  void formatMillis_anyInstant_matchesIsoFormatter() {
    java.util.Random r = new java.util.Random(7);
    long[] fixed = {0, 1, 999, 86_399_999, 86_400_000, -1, 253_402_300_799_999L, 951_782_400_000L};
    for (long t : fixed) {
      assertThat(Timestamps.format(t)).isEqualTo(Timestamps.FORMAT.format(Instant.ofEpochMilli(t)));
    }
    for (int i = 0; i < 10_000; i++) {
      long t = (long) (r.nextDouble() * 253_402_300_799_999L);
      assertThat(Timestamps.format(t)).isEqualTo(Timestamps.FORMAT.format(Instant.ofEpochMilli(t)));
    }
  }

  @Test
  void traceIdOf_malformed_ignored() {
    assertThat(TraceParent.traceIdOf("00-" + "0".repeat(32) + "-00f067aa0ba902b7-01")).isNull();
    assertThat(TraceParent.traceIdOf("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))
        .isNull();
    assertThat(TraceParent.traceIdOf("garbage")).isNull();
  }

  @Test
  void json_hostileStrings_escapedAndParseable() throws Exception {
    AuditEvent e =
        AuditEvent.newBuilder()
            .setSchema("hipaagrpc.audit/1")
            .setCorrelationId("a\"b\\c\n\u0001\u2028\uD800x")
            .putHeaders("h", "v\"}{")
            .build();
    String line = EventJson.toJson(e);
    assertThat(line).doesNotContain("\n");
    AuditEvent.Builder parsed = AuditEvent.newBuilder();
    JsonFormat.parser().merge(line, parsed);
    assertThat(parsed.getHeadersMap()).containsEntry("h", "v\"}{");
    assertThat(parsed.getCorrelationId()).startsWith("a\"b\\c\n\u0001\u2028");
  }
}
