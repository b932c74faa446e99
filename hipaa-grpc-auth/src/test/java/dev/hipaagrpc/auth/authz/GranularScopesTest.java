package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authz.testing.AdminServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.GranularServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.ObservationSearch;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.proto.Action;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SMART App Launch 2.x granular scopes ({@code patient/Observation.rs?category=...}) over real
 * calls: granted only when every category (and code) the request asks for matches the scope.
 */
class GranularScopesTest {
  private static final String LAB =
      "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
  private static final String VITALS =
      "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";
  private static final String PING = "hipaagrpc.auth.authz.testing.AdminService/Ping";
  private static final String SDOH = "http://hl7.org/fhir/us/core/CodeSystem/us-core-tags|sdoh";

  private AuthorizationTestServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AuthorizationTestServer(
            AuthorizationServerInterceptor.newBuilder()
                .methodOptionsFrom(GranularServiceGrpc.getServiceDescriptor())
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private void caller(String... scopes) {
    server.principal.set(user("u1", "nurse").patient("p-1").addScopes(List.of(scopes)).build());
  }

  private static ObservationSearch search(String patient, String code, String... categories) {
    return ObservationSearch.newBuilder()
        .setPatientId(patient)
        .setCode(code)
        .addAllCategory(List.of(categories))
        .build();
  }

  private boolean allowed(ObservationSearch request) {
    try {
      server.granular().searchObservations(request);
      return true;
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).doesNotContain("laboratory").doesNotContain("p-");
      return false;
    }
  }

  private String lastRule() {
    AccessDecision d = server.lastFacts.get().decision();
    return d == null ? null : d.ruleId();
  }

  @Test
  void categoryScope_grantsOnlyRequestsForThatCategory() {
    caller("patient/Observation.rs?category=" + LAB);

    assertThat(allowed(search("p-1", "", LAB))).isTrue();
    assertThat(allowed(search("p-1", "", VITALS))).isFalse();
    assertThat(lastRule()).isEqualTo(AuthorizationServerInterceptor.RULE_SMART_SCOPE);
    // Every category asked for must be granted, and asking for none asks for all.
    assertThat(allowed(search("p-1", "", LAB, VITALS))).isFalse();
    assertThat(allowed(search("p-1", ""))).isFalse();
    // A bare code with no system cannot prove it is the scope's system.
    assertThat(allowed(search("p-1", "", "laboratory"))).isFalse();
    assertThat(server.serviceSaw).containsExactly("SearchObservations:" + LAB);
  }

  @Test
  void requestValuesThatABackendWouldReadAsSeveral_matchNothing() {
    caller("patient/Observation.rs?category=laboratory");
    assertThat(allowed(search("p-1", "", "vital-signs,x|laboratory"))).isFalse();
    assertThat(allowed(search("p-1", "", "a|b|laboratory"))).isFalse();
    assertThat(allowed(search("p-1", "", "laboratory,vital-signs"))).isFalse();
    assertThat(allowed(search("p-1", "", "x|laboratory"))).isTrue();
  }

  @Test
  void breakGlass_stillGrantsWhatAGranularScopeDoesNotCover() throws Exception {
    server.close();
    server =
        new AuthorizationTestServer(
            AuthorizationServerInterceptor.newBuilder()
                .policy(
                    AuthorizationPolicy.newBuilder("v-glass")
                        .rule(
                            AuthorizationPolicy.allow("nurses-search")
                                .methods(
                                    "hipaagrpc.auth.authz.testing.GranularService/SearchObservations")
                                .anyRole("nurse")
                                .allowBreakGlass())
                        .breakGlass(List.of("nurse"), List.of(), List.of("PATIENT_EMERGENCY"))
                        .build())
                .methodOptionsFrom(GranularServiceGrpc.getServiceDescriptor())
                .build());
    caller("patient/Observation.rs?category=" + LAB);

    GranularServiceGrpc.GranularServiceBlockingStub glass =
        server
            .granular()
            .withInterceptors(
                AuthorizationTestServer.attach(
                    AuthorizationServerInterceptor.BREAK_GLASS_REASON_HEADER, "PATIENT_EMERGENCY"));
    assertThat(glass.searchObservations(search("p-1", "", VITALS))).isNotNull();
    assertThat(server.lastFacts.get().decision().outcome())
        .isEqualTo(AccessDecision.Outcome.BREAK_GLASS);
    // Within the scope, the scope grants it: no emergency access is recorded.
    assertThat(glass.searchObservations(search("p-1", "", LAB))).isNotNull();
    assertThat(server.lastFacts.get().decision().outcome()).isEqualTo(AccessDecision.Outcome.ALLOW);
    // Without a reason, outside the scope: refused.
    assertThat(allowed(search("p-1", "", VITALS))).isFalse();
  }

  @Test
  void codeWithoutSystemInTheScope_matchesThatCodeInAnySystem() {
    caller("patient/Observation.rs?category=laboratory");
    assertThat(allowed(search("p-1", "", LAB))).isTrue();
    assertThat(allowed(search("p-1", "", "laboratory"))).isTrue();
    assertThat(allowed(search("p-1", "", VITALS))).isFalse();
  }

  @Test
  void commaSeparatedValuesInTheScope_areAlternatives() {
    caller("patient/Observation.rs?category=" + LAB + "," + VITALS);
    assertThat(allowed(search("p-1", "", LAB, VITALS))).isTrue();
    assertThat(allowed(search("p-1", "", SDOH))).isFalse();
  }

  @Test
  void severalParameters_mustAllMatch() {
    caller("patient/Observation.rs?category=" + LAB + "&code=http://loinc.org|2345-7");
    assertThat(allowed(search("p-1", "http://loinc.org|2345-7", LAB))).isTrue();
    assertThat(allowed(search("p-1", "http://loinc.org|718-7", LAB))).isFalse();
    assertThat(allowed(search("p-1", "", LAB))).isFalse();
  }

  @Test
  void plainScope_stillGrantsEveryCategory_andPatientScopingStillApplies() {
    caller("patient/Observation.rs");
    assertThat(allowed(search("p-1", "", SDOH))).isTrue();
    assertThat(allowed(search("p-1", ""))).isTrue();

    caller("patient/Observation.rs?category=" + LAB);
    assertThat(allowed(search("p-2", "", LAB))).isFalse();
    assertThat(lastRule()).isEqualTo(AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
  }

  @Test
  void userScopeWithQuery_isNotRestrictedToThePatientContext() {
    server.principal.set(
        user("u1", "nurse").addScopes(List.of("user/Observation.rs?category=" + LAB)).build());
    assertThat(allowed(search("p-9", "", LAB))).isTrue();
    assertThat(allowed(search("p-9", "", VITALS))).isFalse();
  }

  @Test
  void userScopeWithQuery_alsoHeldWithPatientScopesButNoLaunchPatient_grants() {
    server.principal.set(
        user("u1", "nurse")
            .addScopes(List.of("user/Observation.rs?category=" + LAB, "patient/Patient.r"))
            .build());
    assertThat(allowed(search("p-9", "", LAB))).isTrue();
    // Outside the user/ scope only patient/ scopes remain, and there is no launch patient.
    server.principal.set(
        user("u1", "nurse")
            .addScopes(
                List.of(
                    "user/Observation.rs?category=" + LAB,
                    "patient/Observation.rs?category=" + VITALS))
            .build());
    assertThat(allowed(search("p-9", "", VITALS))).isFalse();
    assertThat(lastRule()).isEqualTo(AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
  }

  @Test
  void wrongPermissionOrResource_grantsNothingWhateverTheQuery() {
    caller("patient/Observation.r?category=" + LAB, "patient/Condition.rs?category=" + LAB);
    assertThat(allowed(search("p-1", "", LAB))).isFalse();
    assertThat(lastRule()).isEqualTo(AuthorizationServerInterceptor.RULE_SMART_SCOPE);
  }

  @Test
  void malformedQueries_grantNothing() {
    for (String scope :
        List.of(
            "patient/Observation.rs?category=",
            "patient/Observation.rs?=" + LAB,
            "patient/Observation.rs?category:not=" + LAB,
            "patient/Observation.rs?category=" + LAB + "&category=" + VITALS,
            "patient/Observation.rs?Category=" + LAB,
            "patient/Observation.read?category=" + LAB,
            "patient/Observation.rs?category=http://x|")) {
      caller(scope);
      assertThat(allowed(search("p-1", "", LAB))).as(scope).isFalse();
    }
  }

  /** Restarts the server with nurses allowed on AdminService/Ping, declared as {@code ping}. */
  private void restartWithPing(AuthorizationPolicy.MethodBuilder ping) throws Exception {
    server.close();
    server =
        new AuthorizationTestServer(
            AuthorizationServerInterceptor.newBuilder()
                .policy(
                    AuthorizationPolicy.newBuilder("v1")
                        .rule(AuthorizationPolicy.allow("nurses").methods(PING).anyRole("nurse"))
                        .method(ping)
                        .build())
                .methodOptionsFrom(AdminServiceGrpc.getServiceDescriptor())
                .build());
  }

  @Test
  void methodWithoutDeclaredParameters_isNotGrantedByGranularScopes() throws Exception {
    restartWithPing(AuthorizationPolicy.method(PING).fhir("Condition", Action.READ));
    server.principal.set(
        user("u1", "nurse").addScopes(List.of("user/Condition.r?category=problem")).build());
    StatusRuntimeException e =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> server.admin().ping(PlainRequest.newBuilder().setNote("problem").build()));
    assertThat(e).isNotNull();
    assertThat(lastRule()).isEqualTo(AuthorizationServerInterceptor.RULE_SMART_SCOPE);
  }

  @Test
  void policyBuilderDeclaresParameterFields() throws Exception {
    restartWithPing(
        AuthorizationPolicy.method(PING)
            .fhir("Condition", Action.READ)
            .searchParamField("category", "note"));
    server.principal.set(
        user("u1", "nurse").addScopes(List.of("user/Condition.r?category=problem")).build());
    assertThat(server.admin().ping(PlainRequest.newBuilder().setNote("problem").build()))
        .isNotNull();
    assertThat(
            catchThrowableOfType(
                StatusRuntimeException.class,
                () -> server.admin().ping(PlainRequest.newBuilder().setNote("sdoh").build())))
        .isNotNull();
  }

  @Test
  void declarationMistakes_failAtConfiguration() {
    String ping = PING;
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        AuthorizationPolicy.newBuilder("v1")
                            .method(
                                AuthorizationPolicy.method(ping)
                                    .fhir("Condition", Action.READ)
                                    .searchParamField("category", "subject"))
                            .build())
                    .methodOptionsFrom(AdminServiceGrpc.getServiceDescriptor())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is not a string field");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.newBuilder("v1")
                    .method(AuthorizationPolicy.method(ping).searchParamField("category", "note"))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("fhir_resource");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.newBuilder("v1")
                    .method(
                        AuthorizationPolicy.method(ping)
                            .fhir("Condition", Action.READ)
                            .searchParamField("Category!", "note"))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not a FHIR search parameter name");
  }
}
