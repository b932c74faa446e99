package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.service;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.auth.authz.testing.Subject;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Step-up authentication (RFC 9470) per method: Purge needs an MFA'd user with acr "phr" who
 * authenticated in the last five minutes; Ping needs nothing.
 */
class StepUpTest {

  private static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
  private static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);

  private AuthorizationTestServer server;

  @BeforeEach
  void start() throws Exception {
    AuthorizationPolicy policy =
        AuthorizationPolicy.newBuilder("v-stepup")
            .rule(AuthorizationPolicy.allow("admins").methods(ADMIN + "/*").anyRole("admin"))
            .rule(
                AuthorizationPolicy.allow("purgers")
                    .methods(ADMIN + "/Purge")
                    .callerKind(dev.hipaagrpc.auth.authz.proto.CallerKind.SERVICE))
            .method(
                AuthorizationPolicy.method(ADMIN + "/Purge")
                    .requireAcr("phr", "phrh")
                    .requireAmr("mfa")
                    .maxAuthenticationAge(Duration.ofMinutes(5)))
            .build();
    server =
        new AuthorizationTestServer(
            AuthorizationServerInterceptor.newBuilder()
                .policy(policy)
                .clock(Clock.fixed(NOW, ZoneOffset.UTC))
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static PlainRequest plain() {
    return PlainRequest.newBuilder()
        .setSubject(Subject.newBuilder().setId(""))
        .setOrg(TENANT)
        .setNote("n")
        .build();
  }

  private StatusRuntimeException refused() {
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> server.admin().purge(plain()));
    assertThat(e).as("call should have been refused").isNotNull();
    return e;
  }

  private void assertStepUpChallenge(StatusRuntimeException e) {
    CallFacts facts = server.lastFacts.get();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            "A different authentication level is required (correlation id: "
                + facts.correlationId()
                + ")");
    assertThat(e.getTrailers().get(WWW_AUTHENTICATE))
        .isEqualTo(
            "Bearer error=\"insufficient_user_authentication\","
                + " error_description=\"A different authentication level is required\","
                + " acr_values=\"phr phrh\", max_age=\"300\"");
    assertThat(facts.decision().outcome()).isEqualTo(AccessDecision.Outcome.DENY);
    assertThat(facts.decision().ruleId()).isEqualTo(AuthorizationServerInterceptor.RULE_STEP_UP);
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void stepUp_mfaAcrAndRecentAuthentication_allowed() {
    server.principal.set(
        user("u1", "admin")
            .acr("phr")
            .addAmr(List.of("pwd", "mfa", "otp"))
            .authTime(NOW.minusSeconds(299))
            .build());
    assertThat(server.admin().purge(plain()).getText()).isEqualTo("Purge");
  }

  @Test
  void stepUp_noMfa_refusedWithChallenge() {
    server.principal.set(
        user("u1", "admin").acr("phr").addAmr(List.of("pwd")).authTime(NOW).build());
    assertStepUpChallenge(refused());
  }

  @Test
  void stepUp_wrongAcr_refusedWithChallenge() {
    server.principal.set(user("u1", "admin").acr("1").addAmr(List.of("mfa")).authTime(NOW).build());
    assertStepUpChallenge(refused());
  }

  @Test
  void stepUp_authenticationTooOldOrUnknown_refused() {
    server.principal.set(
        user("u1", "admin")
            .acr("phr")
            .addAmr(List.of("mfa"))
            .authTime(NOW.minusSeconds(301))
            .build());
    assertStepUpChallenge(refused());
    server.principal.set(user("u1", "admin").acr("phr").addAmr(List.of("mfa")).build());
    assertStepUpChallenge(refused());
  }

  @Test
  void stepUp_onlyOnItsMethod_otherMethodsUnaffected() {
    server.principal.set(user("u1", "admin").build());
    assertThat(server.admin().ping(plain()).getText()).isEqualTo("Ping");
  }

  @Test
  void stepUp_callerDeniedAnyway_getsPermissionDeniedNotAChallenge() {
    server.principal.set(user("u1", "nurse").build());
    StatusRuntimeException e = refused();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getTrailers().get(WWW_AUTHENTICATE)).isNull();
  }

  @Test
  void stepUp_servicesAreNotAskedToStepUp() {
    server.principal.set(service("spiffe://hipaa-grpc.test/ns/ops/sa/janitor").build());
    assertThat(server.admin().purge(plain()).getText()).isEqualTo("Purge");
  }

  @Test
  void stepUp_policyFileAndConflicts() {
    AuthorizationPolicy parsed =
        AuthorizationPolicy.parseTextFormat(
            "version: 'f1'\n"
                + "methods { method: '"
                + ADMIN
                + "/Export' step_up { amr: 'hwk' max_auth_age_seconds: 60 } }\n");
    assertThat(parsed.toProto().getMethods(0).getStepUp().getAmrList()).containsExactly("hwk");

    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        AuthorizationPolicy.newBuilder("v")
                            .method(AuthorizationPolicy.method(ADMIN + "/Purge").requireAmr("mfa"))
                            .method(AuthorizationPolicy.method(ADMIN + "/Purge").requireAmr("hwk"))
                            .build())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("step-up");
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        AuthorizationPolicy.newBuilder("v")
                            .method(
                                AuthorizationPolicy.method(ADMIN + "/Purge")
                                    .requireAcr("bad \"value\""))
                            .build())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("acr value");
  }
}
