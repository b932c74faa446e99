package dev.hipaagrpc.spring.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;

/** The bridge sets the stack's caller for every callback and restores the thread's context. */
@Timeout(30)
class SecurityContextBridgeTest {

  @AfterEach
  void clear() {
    SecurityContextHolder.clearContext();
  }

  private static Principal nurse() {
    return Principal.newBuilder(
            "dr-jones", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp")
        .addRoles(List.of("nurse"))
        .addScopes(List.of("patient/Observation.rs"))
        .build();
  }

  private static final MethodDescriptor.Marshaller<String> STRINGS =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(String value) {
          return new java.io.ByteArrayInputStream(
              value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public String parse(java.io.InputStream stream) {
          try {
            return new String(stream.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  private static final MethodDescriptor<String, String> METHOD =
      MethodDescriptor.newBuilder(STRINGS, STRINGS)
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Notes/Read")
          .build();

  /** A call the bridge only passes on. */
  private static final class NoCall extends ServerCall<String, String> {
    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return METHOD;
    }
  }

  /** What the service saw in Spring Security's holder, per callback. */
  private static final class Recorder extends ServerCall.Listener<String> {
    final List<String> seen = new ArrayList<>();

    private void record(String callback) {
      Authentication a = SecurityContextHolder.getContext().getAuthentication();
      seen.add(callback + "=" + (a == null ? "none" : a.getName()));
    }

    @Override
    public void onMessage(String message) {
      record("message");
    }

    @Override
    public void onHalfClose() {
      record("halfClose");
    }

    @Override
    public void onComplete() {
      record("complete");
    }
  }

  private static ServerCall.Listener<String> start(
      SecurityContextBridge bridge, Context context, Recorder recorder, List<String> atStart) {
    Context previous = context.attach();
    try {
      return bridge.interceptCall(
          new NoCall(),
          new Metadata(),
          (call, headers) -> {
            Authentication a = SecurityContextHolder.getContext().getAuthentication();
            atStart.add(a == null ? "none" : a.getName());
            return recorder;
          });
    } finally {
      context.detach(previous);
    }
  }

  @Test
  void everyCallbackSeesTheCaller_andTheThreadsContextIsRestored() {
    CallFacts facts = CallFacts.create("c-1");
    facts.principal(nurse());
    Context ctx = Context.ROOT.withValue(CallFacts.CONTEXT_KEY, facts);
    Authentication other =
        new HipaaGrpcAuthentication(
            Principal.newBuilder(
                    "someone-else", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp2")
                .build());
    SecurityContextHolder.getContext().setAuthentication(other);

    Recorder recorder = new Recorder();
    List<String> atStart = new ArrayList<>();
    ServerCall.Listener<String> listener =
        start(new SecurityContextBridge(), ctx, recorder, atStart);
    assertThat(SecurityContextHolder.getContext().getAuthentication()).isSameAs(other);

    listener.onMessage("request");
    assertThat(SecurityContextHolder.getContext().getAuthentication()).isSameAs(other);
    listener.onHalfClose();
    listener.onComplete();

    assertThat(atStart).containsExactly("dr-jones");
    assertThat(recorder.seen)
        .containsExactly("message=dr-jones", "halfClose=dr-jones", "complete=dr-jones");
    assertThat(SecurityContextHolder.getContext().getAuthentication()).isSameAs(other);
  }

  @Test
  void aCallWithoutPrincipal_runsWithAnEmptyContext() {
    SecurityContextHolder.getContext().setAuthentication(new HipaaGrpcAuthentication(nurse()));
    Recorder recorder = new Recorder();
    List<String> atStart = new ArrayList<>();
    Context ctx = Context.ROOT.withValue(CallFacts.CONTEXT_KEY, CallFacts.create("c-2"));
    ServerCall.Listener<String> listener =
        start(new SecurityContextBridge(), ctx, recorder, atStart);
    listener.onHalfClose();
    assertThat(atStart).containsExactly("none");
    assertThat(recorder.seen).containsExactly("halfClose=none");
  }

  @Test
  void authentication_rolesAndScopesAsAuthorities_noCredentials_cannotBeReGranted() {
    HipaaGrpcAuthentication a = new HipaaGrpcAuthentication(nurse());
    assertThat(a.getAuthorities())
        .extracting(GrantedAuthority::getAuthority)
        .containsExactly("ROLE_nurse", "SCOPE_patient/Observation.rs");
    assertThat(a.isAuthenticated()).isTrue();
    assertThat(a.getName()).isEqualTo("dr-jones");
    assertThat(a.getPrincipal().subject()).isEqualTo("dr-jones");
    assertThat(a.getCredentials()).isEqualTo("");
    assertThatThrownBy(() -> a.setAuthenticated(true)).isInstanceOf(IllegalArgumentException.class);
    a.setAuthenticated(false);
    assertThat(a.isAuthenticated()).isFalse();
  }
}
