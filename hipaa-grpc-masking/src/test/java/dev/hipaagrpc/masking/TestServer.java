package dev.hipaagrpc.masking;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A real in-process server with our interceptors and a test authenticator in front. */
final class TestServer implements AutoCloseable {

  static final Metadata.Key<String> ROLES =
      Metadata.Key.of("x-test-roles", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> PATIENT =
      Metadata.Key.of("x-test-patient", Metadata.ASCII_STRING_MARSHALLER);

  final Server server;
  final ManagedChannel channel;

  /** The CallFacts of every call, as the (outer) audit layer would see them. */
  final List<CallFacts> facts = new CopyOnWriteArrayList<>();

  TestServer(BindableService service, ServerInterceptor... inner) throws Exception {
    String name = InProcessServerBuilder.generateName();
    List<ServerInterceptor> chain = new ArrayList<>(Arrays.asList(inner));
    chain.add(new FakeAuthentication());
    chain.add(new FactsRecorder());
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(service, chain))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  /** Outermost: attaches the holder, as audit/correlation would. */
  private final class FactsRecorder implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Context ctx = CallFacts.inContext(Context.current());
      facts.add(CallFacts.of(ctx));
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }

  /** Stands in for hipaa-grpc-auth: roles from a header become the call's Principal. */
  private static final class FakeAuthentication implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      String roles = headers.get(ROLES);
      if (roles == null) {
        return next.startCall(call, headers);
      }
      String patient = headers.get(PATIENT);
      Principal p =
          patient == null
              ? Fixtures.principal(roles.split(","))
              : Fixtures.patientPrincipal(patient, roles.split(","));
      Context ctx = CallFacts.inContext(Context.current());
      CallFacts.of(ctx).principal(p);
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }

  static Metadata roles(String roles) {
    Metadata m = new Metadata();
    m.put(ROLES, roles);
    return m;
  }

  /** A patient-facing caller: roles plus the SMART patient context. */
  static Metadata patient(String patientId, String roles) {
    Metadata m = roles(roles);
    m.put(PATIENT, patientId);
    return m;
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
