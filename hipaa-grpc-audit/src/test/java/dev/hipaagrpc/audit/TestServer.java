package dev.hipaagrpc.audit;

import dev.hipaagrpc.audit.testing.GetPatientRequest;
import dev.hipaagrpc.audit.testing.PatientRecord;
import dev.hipaagrpc.audit.testing.PatientServiceGrpc;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationIdServerInterceptor;
import dev.hipaagrpc.core.Principal;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A real in-process server: correlation -> audit -> fake security -> patient service. */
final class TestServer implements AutoCloseable {

  static final String CANARY = "CANARY-PHI-7f3a9";
  static final String PATIENT_ID = "patient-" + CANARY;
  static final byte[] IDENTIFIER_KEY = new byte[32];

  static {
    for (int i = 0; i < 32; i++) {
      IDENTIFIER_KEY[i] = (byte) (i + 1);
    }
  }

  static final Metadata.Key<String> MODE =
      Metadata.Key.of("x-test-mode", Metadata.ASCII_STRING_MARSHALLER);

  final AtomicInteger serviceInvocations = new AtomicInteger();
  final Server server;
  final ManagedChannel channel;
  final String name = InProcessServerBuilder.generateName();

  TestServer(ServerInterceptor audit, ServerInterceptor... innerAudits) throws IOException {
    this(null, audit, innerAudits);
  }

  /** A server whose calls run on {@code executor} (default: grpc-java's cached pool). */
  TestServer(
      java.util.concurrent.@org.jspecify.annotations.Nullable Executor executor,
      ServerInterceptor audit,
      ServerInterceptor... innerAudits)
      throws IOException {
    List<ServerInterceptor> innermostFirst = new java.util.ArrayList<>();
    innermostFirst.add(new FakeSecurity());
    innermostFirst.addAll(List.of(innerAudits));
    innermostFirst.add(audit);
    innermostFirst.add(CorrelationIdServerInterceptor.create());
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
    if (executor != null) {
      builder.executor(executor);
    }
    server =
        builder
            .addService(ServerInterceptors.intercept(new Service(), innermostFirst))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  PatientServiceGrpc.PatientServiceBlockingStub blocking(String mode, ClientInterceptor... more) {
    Metadata h = new Metadata();
    h.put(MODE, mode);
    h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + CANARY);
    h.put(Metadata.Key.of("x-patient-name", Metadata.ASCII_STRING_MARSHALLER), CANARY);
    h.put(Metadata.Key.of("user-agent-extra", Metadata.ASCII_STRING_MARSHALLER), "test-client/1.0");
    h.put(TraceParent.HEADER, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    return PatientServiceGrpc.newBlockingStub(ClientInterceptors.intercept(channel, List.of(more)))
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  PatientServiceGrpc.PatientServiceStub async(String mode) {
    Metadata h = new Metadata();
    h.put(MODE, mode);
    return PatientServiceGrpc.newStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  static GetPatientRequest request(String note) {
    return GetPatientRequest.newBuilder().setPatientId(PATIENT_ID).setNote(note).build();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  static Principal clinician() {
    return Principal.newBuilder(
            "dr.house", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-123")
        .addRoles(List.of("clinician"))
        .issuer("https://idp.example")
        .build();
  }

  static Principal patientApp() {
    return Principal.newBuilder(
            "user-" + CANARY, Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-456")
        .patient(PATIENT_ID)
        .fhirUser("Patient/" + CANARY)
        .build();
  }

  /** Stands in for authentication and authorization: publishes facts, or refuses. */
  static final class FakeSecurity implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Context ctx = CallFacts.inContext(Context.current());
      CallFacts facts = CallFacts.of(ctx);
      String mode = headers.get(MODE);
      if ("unauthenticated".equals(mode)) {
        facts.authenticationFailure("invalid_token");
        call.close(
            Status.UNAUTHENTICATED.withDescription("token " + CANARY + " rejected"),
            new Metadata());
        return new ServerCall.Listener<ReqT>() {};
      }
      Principal p = "patient".equals(mode) ? patientApp() : clinician();
      facts.principal(p);
      facts.resourceType("Patient");
      facts.purposeOfUse("TREAT");
      if ("breakglassrefused".equals(mode)) {
        facts.breakGlassRequest("CODE_BLUE");
        facts.decision(AccessDecision.deny("tenant-isolation", "policy-v7"));
        call.close(Status.PERMISSION_DENIED.withDescription("denied"), new Metadata());
        return new ServerCall.Listener<ReqT>() {};
      }
      if ("threepatients".equals(mode)) {
        facts.addPatient("patient-2");
        facts.addPatient("patient-3");
      }
      if ("denied".equals(mode)) {
        facts.decision(AccessDecision.deny("nurses-no-psych", "policy-v7"));
        facts.addPatient(PATIENT_ID);
        call.close(
            Status.PERMISSION_DENIED.withDescription("denied for " + CANARY), new Metadata());
        return new ServerCall.Listener<ReqT>() {};
      }
      if ("breakglass".equals(mode)) {
        facts.decision(AccessDecision.breakGlass("emergency", "policy-v7", "CODE_BLUE"));
      } else {
        facts.decision(AccessDecision.allow("clinician-read", "policy-v7"));
      }
      if (!"noaction".equals(mode)) {
        facts.action(dev.hipaagrpc.core.proto.Action.READ);
      }
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }

  final class Service extends PatientServiceGrpc.PatientServiceImplBase {
    @Override
    public void getPatient(GetPatientRequest req, StreamObserver<PatientRecord> out) {
      serviceInvocations.incrementAndGet();
      CallFacts facts = CallFacts.current();
      facts.addPatient(req.getPatientId());
      facts.addMaskedFields(2);
      if (req.getNote().equals("throw")) {
        throw new IllegalStateException("service bug near " + CANARY);
      }
      if (req.getNote().startsWith("fail")) {
        out.onError(
            Status.INVALID_ARGUMENT.withDescription("bad " + req.getNote()).asRuntimeException());
        return;
      }
      out.onNext(
          PatientRecord.newBuilder().setPatientId(req.getPatientId()).setName(CANARY).build());
      out.onCompleted();
    }

    @Override
    public void listObservations(GetPatientRequest req, StreamObserver<PatientRecord> out) {
      serviceInvocations.incrementAndGet();
      CallFacts.current().addPatient(req.getPatientId());
      int n = req.getNote().equals("hang") ? 2 : Integer.parseInt(req.getNote());
      for (int i = 0; i < n; i++) {
        out.onNext(PatientRecord.newBuilder().setName(CANARY + i).build());
      }
      if (!req.getNote().equals("hang")) {
        out.onCompleted();
      }
    }

    @Override
    public StreamObserver<PatientRecord> uploadObservations(StreamObserver<GetPatientRequest> out) {
      serviceInvocations.incrementAndGet();
      return new StreamObserver<>() {
        int n;

        @Override
        public void onNext(PatientRecord value) {
          n++;
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onNext(GetPatientRequest.newBuilder().setNote("got " + n).build());
          out.onCompleted();
        }
      };
    }
  }
}
