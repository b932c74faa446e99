package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.core.AccessDecision;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorizationPolicyFileTest {

  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  static final PlainRequest REQ = PlainRequest.newBuilder().setOrg(TENANT).build();

  @TempDir Path dir;

  static String policy(String version, String role) {
    return "version: \""
        + version
        + "\"\n"
        + "rules { id: \"ping\" methods: \""
        + ADMIN
        + "/Ping\" roles: \""
        + role
        + "\" }\n";
  }

  /** Replaces the file the way editors and config management do: write aside, then rename. */
  static void replace(Path file, String content) throws Exception {
    Path tmp = Files.createTempFile(file.getParent(), "policy", ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void watchPolicyFile_changedToValidThenBroken_appliesValidKeepsItOnBroken() throws Exception {
    Path file = dir.resolve("policy.textproto");
    replace(file, policy("v1", "nurse"));
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder().policyFile(file).build();
    assertThat(authz.policyVersion()).isEqualTo("v1");
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try (AuthorizationTestServer server = new AuthorizationTestServer(authz);
        Closeable watch = authz.watchPolicyFile(executor, Duration.ofMillis(10))) {
      server.principal.set(user("u1", "nurse").build());
      server.admin().ping(REQ);
      assertThat(server.lastFacts.get().decision().policyVersion()).isEqualTo("v1");

      // A valid new policy: nurses lose access, clerks gain it.
      replace(file, policy("v2", "clerk"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!authz.policyVersion().equals("v2") && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(authz.policyVersion()).isEqualTo("v2");
      StatusRuntimeException e =
          catchThrowableOfType(StatusRuntimeException.class, () -> server.admin().ping(REQ));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(server.lastFacts.get().decision().policyVersion()).isEqualTo("v2");
      assertThat(server.lastFacts.get().decision().ruleId())
          .isEqualTo(AccessDecision.DEFAULT_DENY_RULE);
      server.principal.set(user("u2", "clerk").build());
      server.admin().ping(REQ);

      // Stop the watcher so the reloads below are deterministic.
      watch.close();

      // Broken: does not parse.
      replace(file, "version: \"v3\"\nrules { id: \"ping\" methods: ");
      assertThat(authz.reloadPolicyFile()).isFalse();
      // Broken: parses but is invalid (unknown purpose code).
      replace(
          file,
          policy("v4", "clerk") + "rules { id: \"x\" methods: \"a.B/*\" purposes: \"NOPE\" }");
      assertThat(authz.reloadPolicyFile()).isFalse();
      // Gone.
      Files.delete(file);
      assertThat(authz.reloadPolicyFile()).isFalse();

      assertThat(authz.policyVersion()).isEqualTo("v2");
      server.admin().ping(REQ);
      assertThat(server.lastFacts.get().decision().policyVersion()).isEqualTo("v2");

      // Fixed again.
      replace(file, policy("v5", "nurse"));
      assertThat(authz.reloadPolicyFile()).isTrue();
      assertThat(authz.policyVersion()).isEqualTo("v5");
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void reloadPolicyFile_unchangedContent_noReload() throws Exception {
    Path file = dir.resolve("policy.textproto");
    replace(file, policy("v1", "nurse"));
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder().policyFile(file).build();
    assertThat(authz.reloadPolicyFile()).isFalse();
  }

  @Test
  void build_jsonPolicyFile_parsed() throws Exception {
    Path file = dir.resolve("policy.json");
    Files.writeString(
        file,
        "{\"version\": \"j1\", \"rules\": [{\"id\": \"ping\", \"methods\": [\""
            + ADMIN
            + "/Ping\"], \"roles\": [\"nurse\"]}], \"breakGlass\": {\"roles\": [\"physician\"],"
            + " \"reasons\": [\"EMERGENCY\"]}}");
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder().policyFile(file).build();
    assertThat(authz.policyVersion()).isEqualTo("j1");
    try (AuthorizationTestServer server = new AuthorizationTestServer(authz)) {
      server.principal.set(user("u1", "nurse").build());
      server.admin().ping(REQ);
    }
  }

  @Test
  void build_jsonWithUnknownField_refused() throws Exception {
    Path file = dir.resolve("policy.json");
    Files.writeString(file, "{\"version\": \"j1\", \"rulez\": []}");
    assertThatThrownBy(() -> AuthorizationServerInterceptor.newBuilder().policyFile(file).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("invalid authorization policy");
  }

  @Test
  void build_brokenOrMissingInitialFile_refused() throws Exception {
    Path file = dir.resolve("policy.textproto");
    assertThatThrownBy(() -> AuthorizationServerInterceptor.newBuilder().policyFile(file).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot read policy file");
    Files.writeString(file, "rules { id: \"a\" methods: \"" + ADMIN + "/Ping\" }");
    assertThatThrownBy(() -> AuthorizationServerInterceptor.newBuilder().policyFile(file).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version");
  }

  @Test
  void watchPolicyFile_withoutPolicyFile_refused() {
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.create(
            AuthorizationPolicy.newBuilder("v1")
                .rule(AuthorizationPolicy.allow("a").methods(ADMIN + "/Ping"))
                .build());
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      assertThatThrownBy(() -> authz.watchPolicyFile(executor, Duration.ofSeconds(1)))
          .isInstanceOf(IllegalStateException.class);
    } finally {
      executor.shutdownNow();
    }
  }
}
