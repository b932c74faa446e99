package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.auth.authz.testing.AdminServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.GranularServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.ObservationServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.auth.authz.testing.RecordReply;
import dev.hipaagrpc.auth.authz.testing.RecordRequest;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real in-process gRPC server running the test services behind: a facts-capturing interceptor
 * (outermost), a test-only interceptor that installs the {@link Principal} the test chose (standing
 * in for authentication), and the interceptors under test. Public for the rate-limit tests.
 */
public final class AuthorizationTestServer implements AutoCloseable {

  public static final String TENANT = "tenant-1";

  public final AtomicReference<Principal> principal = new AtomicReference<>();
  public final AtomicReference<CallFacts> lastFacts = new AtomicReference<>();

  /** What the services saw: "Method:patientId" per request message. */
  public final List<String> serviceSaw = new CopyOnWriteArrayList<>();

  private final Server server;
  final ManagedChannel channel;

  public AuthorizationTestServer(ServerInterceptor... underTest) throws IOException {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor installPrincipal =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            Principal p = principal.get();
            Context ctx = CallFacts.inContext(Context.current());
            if (p != null) {
              CallFacts.of(ctx).principal(p);
            }
            return Contexts.interceptCall(ctx, call, headers, next);
          }
        };
    ServerInterceptor captureFacts =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            Context ctx = CallFacts.inContext(Context.current());
            lastFacts.set(CallFacts.of(ctx));
            return Contexts.interceptCall(ctx, call, headers, next);
          }
        };
    // ServerInterceptors.intercept: the last interceptor is the outermost.
    ServerInterceptor[] chain = new ServerInterceptor[underTest.length + 2];
    for (int i = 0; i < underTest.length; i++) {
      chain[i] = underTest[underTest.length - 1 - i];
    }
    chain[underTest.length] = installPrincipal;
    chain[underTest.length + 1] = captureFacts;
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new Observations(), chain))
            .addService(ServerInterceptors.intercept(new Admin(), chain))
            .addService(ServerInterceptors.intercept(new Granular(), chain))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  public static Principal.Builder user(String subject, String... roles) {
    return Principal.newBuilder(
            subject, Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-" + subject)
        .issuer("https://idp.example")
        .tenant(TENANT)
        .addRoles(List.of(roles));
  }

  static Principal.Builder service(String spiffeId) {
    return Principal.newBuilder(
            spiffeId, Principal.Kind.SERVICE, Principal.AuthMethod.MUTUAL_TLS, "fp-svc")
        .tenant(TENANT);
  }

  static RecordRequest record(String patient) {
    return RecordRequest.newBuilder().setPatientId(patient).setTenant(TENANT).setNote("n").build();
  }

  ObservationServiceGrpc.ObservationServiceBlockingStub observations(String... headers) {
    return ObservationServiceGrpc.newBlockingStub(channel).withInterceptors(attach(headers));
  }

  ObservationServiceGrpc.ObservationServiceStub observationsAsync(String... headers) {
    return ObservationServiceGrpc.newStub(channel).withInterceptors(attach(headers));
  }

  GranularServiceGrpc.GranularServiceBlockingStub granular() {
    return GranularServiceGrpc.newBlockingStub(channel);
  }

  private final class Granular extends GranularServiceGrpc.GranularServiceImplBase {
    @Override
    public void searchObservations(
        dev.hipaagrpc.auth.authz.testing.ObservationSearch req, StreamObserver<RecordReply> out) {
      serviceSaw.add("SearchObservations:" + String.join(",", req.getCategoryList()));
      out.onNext(RecordReply.newBuilder().setText("ok").build());
      out.onCompleted();
    }
  }

  public AdminServiceGrpc.AdminServiceBlockingStub admin(String... headers) {
    return AdminServiceGrpc.newBlockingStub(channel).withInterceptors(attach(headers));
  }

  /** Headers as name, value pairs. */
  static ClientInterceptor attach(String... headers) {
    Metadata md = new Metadata();
    for (int i = 0; i < headers.length; i += 2) {
      md.put(Metadata.Key.of(headers[i], Metadata.ASCII_STRING_MARSHALLER), headers[i + 1]);
    }
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<RespT> listener, Metadata h) {
            h.merge(md);
            super.start(listener, h);
          }
        };
      }
    };
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  private final class Observations extends ObservationServiceGrpc.ObservationServiceImplBase {
    private void unary(String method, RecordRequest req, StreamObserver<RecordReply> out) {
      serviceSaw.add(method + ":" + req.getPatientId());
      out.onNext(RecordReply.newBuilder().setText(method).build());
      out.onCompleted();
    }

    @Override
    public void read(RecordRequest req, StreamObserver<RecordReply> out) {
      unary("Read", req, out);
    }

    @Override
    public void search(RecordRequest req, StreamObserver<RecordReply> out) {
      unary("Search", req, out);
    }

    @Override
    public void create(RecordRequest req, StreamObserver<RecordReply> out) {
      unary("Create", req, out);
    }

    @Override
    public void find(
        RecordRequest req, StreamObserver<dev.hipaagrpc.auth.authz.testing.PatientList> out) {
      serviceSaw.add("Find:" + req.getPatientId());
      dev.hipaagrpc.auth.authz.testing.PatientList.Builder list =
          dev.hipaagrpc.auth.authz.testing.PatientList.newBuilder();
      for (String id : List.of("p-a", "p-b", "p-c")) {
        list.addPatients(
            dev.hipaagrpc.auth.authz.testing.PatientRef.newBuilder()
                .setPatientId(id)
                .setDisplay("x"));
      }
      dev.hipaagrpc.auth.authz.testing.PatientRef deep =
          dev.hipaagrpc.auth.authz.testing.PatientRef.newBuilder().setPatientId("p-f").build();
      list.setPrimary(
          dev.hipaagrpc.auth.authz.testing.PatientRef.newBuilder()
              .setPatientId("p-d")
              .addRelated(
                  dev.hipaagrpc.auth.authz.testing.PatientRef.newBuilder()
                      .setPatientId("p-e")
                      .addRelated(deep))
              .putByRole(
                  "guardian",
                  dev.hipaagrpc.auth.authz.testing.PatientRef.newBuilder()
                      .setPatientId("p-g")
                      .build()));
      out.onNext(list.build());
      out.onCompleted();
    }

    @Override
    public StreamObserver<RecordRequest> upload(StreamObserver<RecordReply> out) {
      return new StreamObserver<>() {
        int count;

        @Override
        public void onNext(RecordRequest req) {
          serviceSaw.add("Upload:" + req.getPatientId());
          count++;
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onNext(RecordReply.newBuilder().setText("uploaded " + count).build());
          out.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<RecordRequest> chat(StreamObserver<RecordReply> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(RecordRequest req) {
          serviceSaw.add("Chat:" + req.getPatientId());
          out.onNext(RecordReply.newBuilder().setText("echo").build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  private final class Admin extends AdminServiceGrpc.AdminServiceImplBase {
    private void unary(String method, PlainRequest req, StreamObserver<RecordReply> out) {
      serviceSaw.add(method + ":" + req.getSubject().getId());
      out.onNext(RecordReply.newBuilder().setText(method).build());
      out.onCompleted();
    }

    @Override
    public void purge(PlainRequest req, StreamObserver<RecordReply> out) {
      unary("Purge", req, out);
    }

    @Override
    public void export(PlainRequest req, StreamObserver<RecordReply> out) {
      unary("Export", req, out);
    }

    @Override
    public void ping(PlainRequest req, StreamObserver<RecordReply> out) {
      unary("Ping", req, out);
    }
  }
}
