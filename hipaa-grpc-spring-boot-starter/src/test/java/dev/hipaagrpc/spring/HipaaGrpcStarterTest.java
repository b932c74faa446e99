package dev.hipaagrpc.spring;

import static dev.hipaagrpc.spring.StarterFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.spring.testing.NoteReply;
import dev.hipaagrpc.spring.testing.NoteRequest;
import dev.hipaagrpc.spring.testing.NotesGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.grpc.server.GrpcServerFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter in a real Spring Boot application: Spring's gRPC server on a real Netty port with
 * real mutual TLS from PEM files, a real signed token, the whole stack and the audit log on disk.
 */
@SpringBootTest(
    classes = StarterFixture.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.NONE)
@Timeout(60)
class HipaaGrpcStarterTest {
  @TempDir static Path dir;
  static StarterFixture fixture;

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    try {
      fixture = new StarterFixture(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    fixture.properties().forEach((k, v) -> registry.add(k, () -> v));
  }

  @Autowired ApplicationContext context;
  @Autowired GrpcServerLifecycle lifecycle;

  private ManagedChannel channel;

  private NotesGrpc.NotesBlockingStub notes(ChannelCredentials credentials, String token) {
    channel =
        Grpc.newChannelBuilderForAddress("localhost", lifecycle.getPort(), credentials).build();
    NotesGrpc.NotesBlockingStub stub =
        NotesGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    return token == null ? stub : stub.withCallCredentials(bearer(token));
  }

  @AfterEach
  void closeChannel() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theStackServesSpringsServiceOverMutualTls() {
    NoteReply reply =
        notes(fixture.clientCredentials(), fixture.token("dr-jones", "nurse"))
            .read(NoteRequest.newBuilder().setPatientId("p-42").build());

    assertThat(reply.getCaller()).isEqualTo("dr-jones");
    assertThat(StarterFixture.App.SEEN_BY_SPRING_INTERCEPTOR).contains("dr-jones");
    assertThat(reply.getText()).isEqualTo("note for p-42"); // revealed to nurses
    assertThat(context.getBean(GrpcServerFactory.class)).isInstanceOf(HipaaGrpcServerFactory.class);
    assertThat(context.getBean(SecurityStack.class).summary()).contains("audit");
  }

  @Test
  void defaultDenyAndMissingTokensAreRefused() {
    NotesGrpc.NotesBlockingStub nurse =
        notes(fixture.clientCredentials(), fixture.token("dr-jones", "nurse"));
    assertThat(code(() -> nurse.purge(NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);

    NotesGrpc.NotesBlockingStub clerk =
        NotesGrpc.newBlockingStub(channel)
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .withCallCredentials(bearer(fixture.token("c-1", "clerk")));
    assertThat(code(() -> clerk.read(NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);

    NotesGrpc.NotesBlockingStub anonymous =
        NotesGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    assertThat(code(() -> anonymous.read(NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void unknownMethodsAreAuthenticatedBeforeTheyAreAnsweredUnimplemented() {
    notes(fixture.clientCredentials(), null);
    io.grpc.MethodDescriptor<NoteRequest, NoteReply> unknown =
        NotesGrpc.getReadMethod().toBuilder()
            .setFullMethodName("hipaagrpc.spring.testing.Notes/Unknown")
            .build();
    assertThat(
            code(
                () ->
                    io.grpc.stub.ClientCalls.blockingUnaryCall(
                        channel,
                        unknown,
                        io.grpc.CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
                        NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(
            code(
                () ->
                    io.grpc.stub.ClientCalls.blockingUnaryCall(
                        channel,
                        unknown,
                        io.grpc.CallOptions.DEFAULT
                            .withDeadlineAfter(20, TimeUnit.SECONDS)
                            .withCallCredentials(bearer(fixture.token("dr-jones", "nurse"))),
                        NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNIMPLEMENTED);
  }

  @Test
  void springsHealthServiceIsServedWithoutATokenButOnlyOverMutualTls() throws IOException {
    notes(fixture.clientCredentials(), null);
    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void clientsWithoutACertificateOrWithoutTlsAreNotServed() throws IOException {
    NotesGrpc.NotesBlockingStub noCertificate =
        notes(fixture.credentialsWithoutCertificate(), fixture.token("dr-jones", "nurse"));
    assertThat(code(() -> noCertificate.read(NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAVAILABLE);
    channel.shutdownNow();

    NotesGrpc.NotesBlockingStub plaintext = notes(InsecureChannelCredentials.create(), null);
    assertThat(code(() -> plaintext.read(NoteRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void everyCallIsAuditedAndTheLogHoldsNoPatientId() throws IOException {
    notes(fixture.clientCredentials(), fixture.token("dr-audit", "nurse"))
        .read(NoteRequest.newBuilder().setPatientId("p-secret-77").build());

    String log;
    try (Stream<Path> files = Files.list(dir.resolve("audit"))) {
      StringBuilder all = new StringBuilder();
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        all.append(Files.readString(f, StandardCharsets.UTF_8));
      }
      log = all.toString();
    }
    // Durable before the response: the event is on disk once the call returned.
    assertThat(log).contains("hipaagrpc.spring.testing.Notes/Read").contains("dr-audit");
    assertThat(log).doesNotContain("p-secret-77");
  }

  private static Status.Code code(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("call should have failed").isNotNull();
    return e.getStatus().getCode();
  }
}
