package dev.hipaagrpc.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authn.AccessTokenSource;
import dev.hipaagrpc.auth.authn.BearerCallCredentials;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example server over real Netty with mutual TLS and real tokens: every way a call can end
 * leaves exactly one audit event, on disk, with the status the caller saw.
 */
@Timeout(120)
class CallPathTest {

  @TempDir static Path dir;

  private static DemoEnvironment env;
  private static DemoIdentityProvider idp;
  private static PatientRecordsServer server;
  private static ManagedChannel portal;
  private static String nurse;
  private static final AtomicInteger ids = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    env = DemoEnvironment.createOrLoad(dir);
    idp = DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
    server = PatientRecordsServer.start(env, 0, idp.issuer(), idp.jwksUri(), env.trustingDevRoot());
    portal =
        Grpc.newChannelBuilderForAddress(
                "localhost",
                server.port(),
                MtlsChannelCredentials.newBuilder()
                    .trust(TrustMaterial.fromPemFiles(env.caPem))
                    .identity(IdentityMaterial.fromPemFiles(env.portalPem, env.portalKey))
                    .build())
            .maxInboundMessageSize(16 * 1024 * 1024)
            .build();
    nurse =
        idp.mint(
            "nurse.olsen",
            List.of("nurse"),
            List.of("user/Patient.rs", "user/Observation.rs"),
            PatientRecordsService.TENANT,
            null,
            Duration.ofMinutes(5));
  }

  @AfterAll
  static void stop() throws Exception {
    portal.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    idp.close();
  }

  private static final MethodDescriptor<byte[], byte[]> RAW_GET =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(PatientRecordsGrpc.getGetPatientMethod().getFullMethodName())
          .setRequestMarshaller(Bytes.INSTANCE)
          .setResponseMarshaller(Bytes.INSTANCE)
          .build();

  /** Sends raw messages with a chosen correlation id; returns the status the caller saw. */
  private static Status raw(
      MethodDescriptor<byte[], byte[]> method,
      String correlationId,
      @Nullable String token,
      byte[]... messages)
      throws Exception {
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    if (token != null) {
      options =
          options.withCallCredentials(
              BearerCallCredentials.create(AccessTokenSource.ofStatic(token)));
    }
    ClientCall<byte[], byte[]> call = portal.newCall(method, options);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER), correlationId);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        headers);
    call.request(10);
    for (byte[] m : messages) {
      call.sendMessage(m);
    }
    call.halfClose();
    return closed.get(30, TimeUnit.SECONDS);
  }

  private static String newId() {
    return "callpath-" + ids.incrementAndGet();
  }

  /** The audit log's lines that name {@code correlationId}; the log is durable before response. */
  private static List<String> events(String correlationId) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(env.auditDir)) {
      for (Path f : files.sorted().toList()) {
        if (!Files.isRegularFile(f)) {
          continue;
        }
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          if (line.contains("\"correlationId\":\"" + correlationId + "\"")) {
            out.add(line);
          }
        }
      }
    }
    return out;
  }

  private static void assertOneEvent(String correlationId, Status.Code seen) throws Exception {
    // Durable before response for calls that reached audit's close; refusals recorded on the
    // writer thread may trail by a few milliseconds.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> found = events(correlationId);
    while (found.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
      found = events(correlationId);
    }
    assertThat(found).as("events of " + correlationId).hasSize(1);
    assertThat(found.get(0)).contains("\"status\":\"" + seen.name() + "\"");
  }

  private static byte[] validGet() {
    return GetPatientRequest.newBuilder()
        .setTenantId(PatientRecordsService.TENANT)
        .setPatientId("MRN-100234")
        .build()
        .toByteArray();
  }

  @Test
  void allowedCall_okAndOneEvent() throws Exception {
    String id = newId();
    Status s = raw(RAW_GET, id, nurse, validGet());
    assertThat(s.getCode()).isEqualTo(Status.Code.OK);
    assertOneEvent(id, Status.Code.OK);
  }

  @Test
  void garbageRequest_invalidArgumentWithCorrelationIdAndOneEvent() throws Exception {
    String id = newId();
    Status s = raw(RAW_GET, id, nurse, new byte[] {0x12, 0x7f, 0x01});
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).isEqualTo("Malformed request (correlation id: " + id + ")");
    assertOneEvent(id, Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void invalidUtf8InStringField_invalidArgumentAndOneEvent() throws Exception {
    String id = newId();
    Status s = raw(RAW_GET, id, nurse, new byte[] {0x0a, 0x02, (byte) 0xff, (byte) 0xfe});
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertOneEvent(id, Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void requestOverTheStackLimit_resourceExhaustedAndOneEvent() throws Exception {
    String id = newId();
    byte[] big =
        GetPatientRequest.newBuilder()
            .setTenantId(PatientRecordsService.TENANT)
            .setPatientId("x".repeat(5 * 1024 * 1024))
            .build()
            .toByteArray();
    Status s = raw(RAW_GET, id, nurse, big);
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertOneEvent(id, Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void twoMessagesOnAUnaryMethod_oneEventWithTheCallersStatus() throws Exception {
    String id = newId();
    Status s = raw(RAW_GET, id, nurse, validGet(), validGet());
    assertThat(s.getCode()).isNotEqualTo(Status.Code.OK);
    assertOneEvent(id, s.getCode());
  }

  @Test
  void unknownMethod_unimplementedAfterAuthenticationAndOneEvent() throws Exception {
    String id = newId();
    MethodDescriptor<byte[], byte[]> hidden =
        RAW_GET.toBuilder().setFullMethodName("hipaagrpc.examples.Admin/DumpEverything").build();
    Status s = raw(hidden, id, nurse, new byte[0]);
    assertThat(s.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
    assertOneEvent(id, Status.Code.UNIMPLEMENTED);
    assertThat(events(id).get(0)).contains("nurse.olsen");
  }

  @Test
  void unknownMethodWithoutToken_unauthenticatedAndOneEvent() throws Exception {
    String id = newId();
    MethodDescriptor<byte[], byte[]> hidden =
        RAW_GET.toBuilder().setFullMethodName("hipaagrpc.examples.Admin/DumpEverything").build();
    Status s = raw(hidden, id, null, new byte[0]);
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertOneEvent(id, Status.Code.UNAUTHENTICATED);
  }

  @Test
  void healthCheckWithoutToken_servedAndAudited() throws Exception {
    String id = newId();
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER), id);
    var health =
        HealthGrpc.newBlockingStub(portal)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h));
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus().name())
        .isEqualTo("SERVING");
    assertOneEvent(id, Status.Code.OK);
  }

  @Test
  void reflection_refusedByDefaultDeny() throws Exception {
    String id = newId();
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER), id);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    var stub =
        ServerReflectionGrpc.newStub(portal)
            .withCallCredentials(BearerCallCredentials.create(AccessTokenSource.ofStatic(nurse)))
            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h));
    var requests =
        stub.serverReflectionInfo(
            new io.grpc.stub.StreamObserver<>() {
              @Override
              public void onNext(io.grpc.reflection.v1.ServerReflectionResponse value) {
                closed.complete(Status.OK.withDescription("answered"));
              }

              @Override
              public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                closed.complete(Status.OK);
              }
            });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    Status s = closed.get(20, TimeUnit.SECONDS);
    assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertOneEvent(id, Status.Code.PERMISSION_DENIED);
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
