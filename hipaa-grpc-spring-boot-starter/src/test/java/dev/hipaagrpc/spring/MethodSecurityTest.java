package dev.hipaagrpc.spring;

import static dev.hipaagrpc.spring.StarterFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.spring.testing.NoteReply;
import dev.hipaagrpc.spring.testing.NoteRequest;
import dev.hipaagrpc.spring.testing.NotesGrpc;
import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
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
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.security.config.annotation.method.configuration.EnableMethodSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Spring Security's method security on a gRPC service behind the stack, over real mutual TLS with
 * real tokens: {@code @PreAuthorize} sees the caller the stack authenticated, and its denial is a
 * {@code PERMISSION_DENIED} the audit log records.
 */
@SpringBootTest(
    classes = MethodSecurityTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.NONE)
@Timeout(60)
class MethodSecurityTest {
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

  @Autowired GrpcServerLifecycle lifecycle;
  private ManagedChannel channel;

  @AfterEach
  void closeChannel() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private NotesGrpc.NotesBlockingStub notesAs(String subject) {
    channel =
        Grpc.newChannelBuilderForAddress(
                "localhost", lifecycle.getPort(), fixture.clientCredentials())
            .build();
    return NotesGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .withCallCredentials(bearer(fixture.token(subject, "nurse")));
  }

  @Test
  void preAuthorizeSeesTheStacksCaller() {
    NoteReply reply =
        notesAs("dr-jones").read(NoteRequest.newBuilder().setPatientId("p-1").build());
    assertThat(reply.getCaller()).isEqualTo("dr-jones"); // from SecurityContextHolder
    assertThat(reply.getText()).isEqualTo("note for p-1");
  }

  @Test
  void aMethodSecurityDenialIsPermissionDenied_andAudited() throws IOException {
    // The stack's policy lets every nurse read; the service's own rule refuses this one.
    StatusRuntimeException e =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                notesAs("nurse-on-leave")
                    .read(NoteRequest.newBuilder().setPatientId("p-2").build()));
    assertThat(e).isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);

    String log;
    try (Stream<Path> files = Files.list(dir.resolve("audit"))) {
      StringBuilder sb = new StringBuilder();
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).toList()) {
        sb.append(Files.readString(p, StandardCharsets.UTF_8));
      }
      log = sb.toString();
    }
    assertThat(log.lines().filter(l -> l.contains("nurse-on-leave")).toList())
        .singleElement()
        .asString()
        .contains("PERMISSION_DENIED");
  }

  /** The starter's application with method security on its service. */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  @EnableMethodSecurity
  static class App {
    @Bean
    BindableService notes() {
      return new GuardedNotes();
    }
  }

  /** Nurses on leave may not read, whatever the stack's policy says. */
  static class GuardedNotes extends NotesGrpc.NotesImplBase {
    @Override
    @PreAuthorize("hasRole('nurse') and authentication.name != 'nurse-on-leave'")
    public void read(NoteRequest request, StreamObserver<NoteReply> out) {
      Authentication a = SecurityContextHolder.getContext().getAuthentication();
      out.onNext(
          NoteReply.newBuilder()
              .setText("note for " + request.getPatientId())
              .setCaller(a == null ? "" : a.getName())
              .build());
      out.onCompleted();
    }
  }
}
