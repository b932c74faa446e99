package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.record;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.service;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authz.proto.CallerKind;
import dev.hipaagrpc.auth.authz.testing.AdminServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.ObservationServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.auth.authz.testing.RecordReply;
import dev.hipaagrpc.auth.authz.testing.RecordRequest;
import dev.hipaagrpc.auth.authz.testing.Subject;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.core.proto.Action;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AuthorizationServerInterceptorTest {

  static final String OBS = "hipaagrpc.auth.authz.testing.ObservationService";
  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  static final String VERSION = "v1";

  static AuthorizationPolicy policy() {
    return AuthorizationPolicy.newBuilder(VERSION)
        .rule(AuthorizationPolicy.deny("no-interns").methods(ADMIN + "/*").anyRole("intern"))
        .rule(AuthorizationPolicy.allow("admins").methods(ADMIN + "/*").anyRole("admin"))
        .rule(
            AuthorizationPolicy.allow("export-for-treatment")
                .methods(ADMIN + "/Export")
                .anyRole("clerk")
                .purposes("TREAT", "HPAYMT"))
        .rule(
            AuthorizationPolicy.allow("billing-ping")
                .methods(ADMIN + "/Ping")
                .callerKind(CallerKind.SERVICE)
                .spiffeIds("spiffe://clinic.example/ns/billing/*"))
        .rule(AuthorizationPolicy.allow("create-obs").methods(OBS + "/Create").anyRole("physician"))
        .method(
            AuthorizationPolicy.method(ADMIN + "/Export")
                .patientField("subject.id")
                .tenantField("org"))
        .breakGlass(
            List.of("physician"), List.of("bg/emergency"), List.of("EMERGENCY", "UNRESPONSIVE"))
        .build();
  }

  AuthorizationTestServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AuthorizationTestServer(
            AuthorizationServerInterceptor.newBuilder()
                .policy(policy())
                .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  // ---- helpers

  StatusRuntimeException denied(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("call should have been refused").isNotNull();
    return e;
  }

  /** Asserts a PERMISSION_DENIED with the fixed description, and the recorded decision. */
  void assertDenied(StatusRuntimeException e, String ruleId) {
    CallFacts facts = server.lastFacts.get();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("Access denied (correlation id: " + facts.correlationId() + ")");
    assertThat(e.getTrailers().keys()).doesNotContain("grpc-status-details-bin");
    assertThat(facts.decision()).isNotNull();
    assertThat(facts.decision().outcome()).isEqualTo(AccessDecision.Outcome.DENY);
    assertThat(facts.decision().ruleId()).isEqualTo(ruleId);
    assertThat(facts.decision().policyVersion()).isEqualTo(VERSION);
  }

  void assertAllowed(String ruleId) {
    AccessDecision d = server.lastFacts.get().decision();
    assertThat(d.outcome()).isEqualTo(AccessDecision.Outcome.ALLOW);
    assertThat(d.ruleId()).isEqualTo(ruleId);
    assertThat(d.policyVersion()).isEqualTo(VERSION);
  }

  static PlainRequest plain(String patient, String org) {
    return PlainRequest.newBuilder()
        .setSubject(Subject.newBuilder().setId(patient))
        .setOrg(org)
        .setNote("note")
        .build();
  }

  // ---- default deny, deny beats allow, wildcards

  @Test
  void interceptCall_noMatchingRule_permissionDeniedByDefault() {
    server.principal.set(user("u1", "nurse").build());
    StatusRuntimeException e = denied(() -> server.admin().purge(plain("", TENANT)));
    assertDenied(e, AccessDecision.DEFAULT_DENY_RULE);
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_denyAndAllowBothMatch_denyWins() {
    server.principal.set(user("u1", "admin", "intern").build());
    StatusRuntimeException e = denied(() -> server.admin().purge(plain("", TENANT)));
    assertDenied(e, "no-interns");
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_wildcardServiceRule_allowsEveryMethodOfTheService() {
    server.principal.set(user("u1", "admin").build());
    assertThat(server.admin().purge(plain("", TENANT)).getText()).isEqualTo("Purge");
    assertAllowed("admins");
    assertThat(server.admin().ping(plain("", TENANT)).getText()).isEqualTo("Ping");
    assertAllowed("admins");
  }

  @Test
  void interceptCall_wildcardServiceRule_doesNotReachOtherServices() {
    server.principal.set(user("u1", "admin").addScopes(List.of("user/*.cruds")).build());
    StatusRuntimeException e = denied(() -> server.observations().read(record("p-1")));
    assertDenied(e, AccessDecision.DEFAULT_DENY_RULE);
  }

  @Test
  void interceptCall_noPrincipal_unauthenticated() {
    server.principal.set(null);
    StatusRuntimeException e = denied(() -> server.admin().purge(plain("", TENANT)));
    CallFacts facts = server.lastFacts.get();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("Authentication required (correlation id: " + facts.correlationId() + ")");
    assertThat(facts.decision().ruleId())
        .isEqualTo(AuthorizationServerInterceptor.RULE_UNAUTHENTICATED);
  }

  @Test
  void interceptCall_methodOptionRule_allowsAndPublishesResourceAndAction() {
    server.principal.set(user("u1", "nurse").addScopes(List.of("user/Observation.rs")).build());
    assertThat(server.observations().read(record("p-9")).getText()).isEqualTo("Read");
    assertAllowed("option:" + OBS + "/Read");
    CallFacts facts = server.lastFacts.get();
    assertThat(facts.resourceType()).isEqualTo("Observation");
    assertThat(facts.action()).isEqualTo(Action.READ);
    assertThat(facts.patientIds()).containsExactly("p-9");
    assertThat(server.observations().search(record("p-9")).getText()).isEqualTo("Search");
    assertAllowed("search-obs");
    assertThat(server.lastFacts.get().action()).isEqualTo(Action.SEARCH);
  }

  // ---- SMART on FHIR scopes

  @ParameterizedTest(name = "{0} -> read={1} search={2} create={3}")
  @CsvSource({
    // v2
    "patient/Observation.rs, true, true, false",
    "patient/Observation.r, true, false, false",
    "patient/Observation.cruds, true, true, true",
    "user/*.cruds, true, true, true",
    "user/Observation.c, false, false, true",
    "system/Observation.r, true, false, false",
    "system/Patient.r, false, false, false",
    // v1
    "patient/*.read, true, true, false",
    "user/Observation.write, false, false, true",
    "user/Observation.read, true, true, false",
    "user/*.*, true, true, true",
    "patient/*.*, true, true, true",
    // malformed: grant nothing
    "user/Observation.rx, false, false, false",
    "user/Observation.sr, false, false, false",
    "user/Observation.rr, false, false, false",
    "user/observation.r, false, false, false",
    "user/Observation.rs?category=vital-signs, false, false, false",
    "user/Observation, false, false, false",
    "user/.r, false, false, false",
    "clinician/Observation.r, false, false, false",
    "Observation.read, false, false, false",
    "*.*, false, false, false",
  })
  void interceptCall_smartScope_grantsExactlyItsInteractions(
      String scope, boolean read, boolean search, boolean create) {
    server.principal.set(
        user("u1", "nurse", "physician").patient("p-1").addScopes(List.of(scope)).build());
    assertGranted(read, () -> server.observations().read(record("p-1")), "option:" + OBS + "/Read");
    assertGranted(search, () -> server.observations().search(record("p-1")), "search-obs");
    assertGranted(create, () -> server.observations().create(record("p-1")), "create-obs");
  }

  private void assertGranted(boolean granted, Runnable call, String ruleId) {
    if (granted) {
      call.run();
      assertAllowed(ruleId);
    } else {
      assertDenied(denied(call), AuthorizationServerInterceptor.RULE_SMART_SCOPE);
    }
  }

  @Test
  void interceptCall_roleButNoSmartScopes_deniedOnResourceMethods() {
    server.principal.set(user("u1", "nurse").build());
    assertDenied(
        denied(() -> server.observations().read(record("p-1"))),
        AuthorizationServerInterceptor.RULE_SMART_SCOPE);
  }

  // ---- patient scoping

  @Test
  void interceptCall_patientScopedCallerAsksForAnotherPatient_deniedWithoutDetail() {
    server.principal.set(
        user("u1", "nurse").patient("p-1").addScopes(List.of("patient/Observation.rs")).build());
    server.observations().read(record("p-1"));
    assertAllowed("option:" + OBS + "/Read");

    RefusalSummary.flush();
    StatusRuntimeException e = denied(() -> server.observations().read(record("p-2-secret")));
    assertDenied(e, AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
    assertThat(RefusalSummary.flush())
        .endsWith(
            ": PERMISSION_DENIED " + AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH + "=1")
        .doesNotContain("p-2");
    assertThat(e.getStatus().toString()).doesNotContain("p-2-secret").doesNotContain("p-1");
    assertThat(String.valueOf(e.getTrailers())).doesNotContain("p-2-secret");
    assertThat(server.serviceSaw).containsExactly("Read:p-1");
    // The attempted record is in the facts, for audit (which stores only its keyed hash).
    assertThat(server.lastFacts.get().patientIds()).containsExactly("p-2-secret");
  }

  @Test
  void interceptCall_patientScopedCallerWithEmptyPatientField_denied() {
    server.principal.set(
        user("u1", "nurse").patient("p-1").addScopes(List.of("patient/Observation.rs")).build());
    assertDenied(
        denied(() -> server.observations().read(record(""))),
        AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
  }

  @Test
  void interceptCall_patientScopesWithoutPatientContext_denied() {
    server.principal.set(user("u1", "nurse").addScopes(List.of("patient/Observation.rs")).build());
    assertDenied(
        denied(() -> server.observations().read(record("p-1"))),
        AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
  }

  @Test
  void interceptCall_patientLaunchContextWithoutScopes_restrictedToThatPatient() {
    server.principal.set(user("u1", "clerk").patient("p-1").build());
    AdminServiceGrpc.AdminServiceBlockingStub admin =
        server.admin(AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER, "TREAT");
    admin.export(plain("p-1", TENANT));
    assertAllowed("export-for-treatment");
    assertDenied(
        denied(() -> admin.export(plain("p-2", TENANT))),
        AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
    // Without a patient context the same caller is not restricted.
    server.principal.set(user("u1", "clerk").build());
    admin.export(plain("p-2", TENANT));
  }

  @Test
  void interceptCall_userScopeAlsoGrants_notRestrictedToPatientContext() {
    server.principal.set(
        user("u1", "nurse")
            .patient("p-1")
            .addScopes(List.of("patient/Observation.rs", "user/Observation.r"))
            .build());
    assertThat(server.observations().read(record("p-2")).getText()).isEqualTo("Read");
    // ... but search is granted by the patient scope alone, so it is restricted.
    assertDenied(
        denied(() -> server.observations().search(record("p-2"))),
        AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
  }

  @Test
  void interceptCall_clientStreamSecondMessageForAnotherPatient_closedBeforeServiceSeesIt()
      throws Exception {
    server.principal.set(
        user("u1", "nurse").patient("p-1").addScopes(List.of("patient/Observation.c")).build());
    CompletableFuture<RecordReply> done = new CompletableFuture<>();
    StreamObserver<RecordRequest> requests =
        server.observationsAsync().upload(observer(done, new LinkedBlockingQueue<>()));
    requests.onNext(record("p-1"));
    requests.onNext(record("p-2-secret"));
    requests.onNext(record("p-1"));
    requests.onCompleted();
    StatusRuntimeException e = failure(done);
    assertDenied(e, AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
    assertThat(e.getStatus().toString()).doesNotContain("p-2-secret");
    assertThat(server.serviceSaw).containsExactly("Upload:p-1");
  }

  @Test
  void interceptCall_clientStreamThreePatients_everyOneAttributed() throws Exception {
    server.principal.set(user("u1", "nurse").addScopes(List.of("user/Observation.c")).build());
    CompletableFuture<RecordReply> done = new CompletableFuture<>();
    StreamObserver<RecordRequest> requests =
        server.observationsAsync().upload(observer(done, new LinkedBlockingQueue<>()));
    requests.onNext(record("p-1"));
    requests.onNext(record("p-2"));
    requests.onNext(record("p-1"));
    requests.onNext(record("p-3"));
    requests.onCompleted();
    assertThat(done.get(10, TimeUnit.SECONDS).getText()).isEqualTo("uploaded 4");
    assertThat(server.lastFacts.get().patientIds()).containsExactly("p-1", "p-2", "p-3");
  }

  @Test
  void interceptCall_responseNamingSeveralPatients_everyOneAttributed() {
    server.principal.set(user("u1", "nurse").addScopes(List.of("user/Patient.s")).build());
    assertThat(server.observations().find(record("p-1")).getPatientsCount()).isEqualTo(3);
    assertThat(server.lastFacts.get().patientIds())
        .containsExactly("p-1", "p-a", "p-b", "p-c", "p-d", "p-e", "p-f", "p-g");
  }

  @Test
  void interceptCall_clientStreamAllMessagesForOwnPatient_completes() throws Exception {
    server.principal.set(
        user("u1", "nurse").patient("p-1").addScopes(List.of("patient/Observation.c")).build());
    CompletableFuture<RecordReply> done = new CompletableFuture<>();
    StreamObserver<RecordRequest> requests =
        server.observationsAsync().upload(observer(done, new LinkedBlockingQueue<>()));
    requests.onNext(record("p-1"));
    requests.onNext(record("p-1"));
    requests.onCompleted();
    assertThat(done.get(10, TimeUnit.SECONDS).getText()).isEqualTo("uploaded 2");
  }

  @Test
  void interceptCall_bidiStreamSecondMessageForAnotherPatient_closed() throws Exception {
    server.principal.set(
        user("u1", "nurse").patient("p-1").addScopes(List.of("patient/Observation.r")).build());
    CompletableFuture<RecordReply> done = new CompletableFuture<>();
    LinkedBlockingQueue<RecordReply> replies = new LinkedBlockingQueue<>();
    StreamObserver<RecordRequest> requests =
        server.observationsAsync().chat(observer(done, replies));
    requests.onNext(record("p-1"));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isNotNull();
    requests.onNext(record("p-2-secret"));
    StatusRuntimeException e = failure(done);
    assertDenied(e, AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH);
    assertThat(server.serviceSaw).containsExactly("Chat:p-1");
    assertThat(replies).isEmpty();
  }

  static StreamObserver<RecordReply> observer(
      CompletableFuture<RecordReply> done, LinkedBlockingQueue<RecordReply> replies) {
    return new StreamObserver<>() {
      RecordReply last;

      @Override
      public void onNext(RecordReply value) {
        last = value;
        replies.add(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(last);
      }
    };
  }

  static StatusRuntimeException failure(CompletableFuture<?> done) throws Exception {
    try {
      done.get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return (StatusRuntimeException) e.getCause();
    }
    throw new AssertionError("call should have failed");
  }

  // ---- tenant isolation

  @Test
  void interceptCall_requestForAnotherTenant_denied() {
    server.principal.set(user("u1", "nurse").addScopes(List.of("user/Observation.rs")).build());
    RecordRequest other = record("p-1").toBuilder().setTenant("tenant-2").build();
    StatusRuntimeException e = denied(() -> server.observations().read(other));
    assertDenied(e, AuthorizationServerInterceptor.RULE_TENANT_MISMATCH);
    assertThat(e.getStatus().toString()).doesNotContain("tenant-2");
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_callerWithoutTenantOnTenantScopedMethod_denied() {
    server.principal.set(
        user("u1", "nurse").tenant(null).addScopes(List.of("user/Observation.rs")).build());
    assertDenied(
        denied(() -> server.observations().read(record("p-1"))),
        AuthorizationServerInterceptor.RULE_TENANT_MISMATCH);
  }

  @Test
  void interceptCall_configuredNestedFields_checkTenantAndPublishPatient() {
    server.principal.set(user("u1", "clerk").build());
    AdminServiceGrpc.AdminServiceBlockingStub admin =
        server.admin(AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER, "TREAT");
    assertThat(admin.export(plain("p-7", TENANT)).getText()).isEqualTo("Export");
    assertThat(server.lastFacts.get().patientIds()).containsExactly("p-7");
    assertDenied(
        denied(() -> admin.export(plain("p-7", "tenant-2"))),
        AuthorizationServerInterceptor.RULE_TENANT_MISMATCH);
  }

  // ---- purpose of use

  @Test
  void interceptCall_ruleRequiresPurpose_onlyThosePurposesAllowed() {
    server.principal.set(user("u1", "clerk").build());
    assertDenied(
        denied(() -> server.admin().export(plain("p-7", TENANT))),
        AccessDecision.DEFAULT_DENY_RULE);
    assertDenied(
        denied(
            () ->
                server
                    .admin(AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER, "HOPERAT")
                    .export(plain("p-7", TENANT))),
        AccessDecision.DEFAULT_DENY_RULE);
    assertThat(server.lastFacts.get().purposeOfUse()).isEqualTo("HOPERAT");
    server
        .admin(AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER, "HPAYMT")
        .export(plain("p-7", TENANT));
    assertAllowed("export-for-treatment");
    assertThat(server.lastFacts.get().purposeOfUse()).isEqualTo("HPAYMT");
  }

  @Test
  void interceptCall_unknownPurposeOfUse_invalidArgumentWithFixedDescription() {
    server.principal.set(user("u1", "admin").build());
    StatusRuntimeException e =
        denied(
            () ->
                server
                    .admin(AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER, "SNOOPING-p-42")
                    .ping(plain("", TENANT)));
    CallFacts facts = server.lastFacts.get();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("Unrecognized purpose of use (correlation id: " + facts.correlationId() + ")");
    assertThat(facts.decision().ruleId())
        .isEqualTo(AuthorizationServerInterceptor.RULE_PURPOSE_OF_USE);
    assertThat(facts.purposeOfUse()).isNull();
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_repeatedPurposeOfUseHeader_refused() {
    server.principal.set(user("u1", "admin").build());
    String h = AuthorizationServerInterceptor.PURPOSE_OF_USE_HEADER;
    StatusRuntimeException e =
        denied(() -> server.admin(h, "TREAT", h, "HPAYMT").ping(plain("", TENANT)));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  // ---- SPIFFE and caller kind

  @Test
  void interceptCall_serviceCallerMatchingSpiffePrefix_allowed() {
    server.principal.set(service("spiffe://clinic.example/ns/billing/sa/worker").build());
    server.admin().ping(plain("", TENANT));
    assertAllowed("billing-ping");
  }

  @Test
  void interceptCall_serviceCallerOutsideSpiffePrefix_denied() {
    server.principal.set(service("spiffe://clinic.example/ns/billingx/sa/worker").build());
    assertDenied(
        denied(() -> server.admin().ping(plain("", TENANT))), AccessDecision.DEFAULT_DENY_RULE);
    server.principal.set(service("spiffe://clinic.example/ns/billing").build());
    assertDenied(
        denied(() -> server.admin().ping(plain("", TENANT))), AccessDecision.DEFAULT_DENY_RULE);
  }

  @Test
  void interceptCall_tokenServiceWhoseSubjectLooksLikeSpiffeId_denied() {
    // A client-credentials token (sub == client_id) from any accepted issuer could claim this
    // subject; only an identity proven by mutual TLS may match a SPIFFE rule.
    server.principal.set(
        Principal.newBuilder(
                "spiffe://clinic.example/ns/billing/sa/worker",
                Principal.Kind.SERVICE,
                Principal.AuthMethod.BEARER_TOKEN,
                "fp-token")
            .tenant(AuthorizationTestServer.TENANT)
            .build());
    assertDenied(
        denied(() -> server.admin().ping(plain("", TENANT))), AccessDecision.DEFAULT_DENY_RULE);
  }

  @Test
  void interceptCall_userRelayedByMatchingService_deniedByServiceCallerKind() {
    server.principal.set(
        user("u1").viaService("spiffe://clinic.example/ns/billing/sa/worker").build());
    assertDenied(
        denied(() -> server.admin().ping(plain("", TENANT))), AccessDecision.DEFAULT_DENY_RULE);
  }

  // ---- break-glass

  static final String BG = AuthorizationServerInterceptor.BREAK_GLASS_REASON_HEADER;

  @Test
  void interceptCall_breakGlassWithPermissionAndReason_allowedAsBreakGlass() {
    Principal p = user("doc", "physician").build(); // not a nurse, no SMART scopes
    server.principal.set(p);
    assertThat(server.observations(BG, "EMERGENCY").read(record("p-3")).getText())
        .isEqualTo("Read");
    AccessDecision d = server.lastFacts.get().decision();
    assertThat(d.outcome()).isEqualTo(AccessDecision.Outcome.BREAK_GLASS);
    assertThat(d.breakGlassReason()).isEqualTo("EMERGENCY");
    assertThat(d.ruleId()).isEqualTo("option:" + OBS + "/Read");
    assertThat(d.policyVersion()).isEqualTo(VERSION);
    assertThat(server.lastFacts.get().patientIds()).containsExactly("p-3");
  }

  @Test
  void interceptCall_breakGlassPermissionByScope_allowed() {
    server.principal.set(user("doc").addScopes(List.of("bg/emergency")).build());
    server.observations(BG, "UNRESPONSIVE").read(record("p-3"));
    assertThat(server.lastFacts.get().decision().outcome())
        .isEqualTo(AccessDecision.Outcome.BREAK_GLASS);
  }

  @Test
  void interceptCall_breakGlassPermissionWithoutReason_denied() {
    server.principal.set(user("doc", "physician").build());
    assertDenied(
        denied(() -> server.observations().read(record("p-3"))), AccessDecision.DEFAULT_DENY_RULE);
  }

  @Test
  void interceptCall_breakGlassUnknownReason_denied() {
    server.principal.set(user("doc", "physician").build());
    assertDenied(
        denied(() -> server.observations(BG, "CURIOUS").read(record("p-3"))),
        AuthorizationServerInterceptor.RULE_BREAK_GLASS_REFUSED);
    assertDenied(
        denied(() -> server.observations(BG, "EMERGENCY", BG, "EMERGENCY").read(record("p-3"))),
        AuthorizationServerInterceptor.RULE_BREAK_GLASS_REFUSED);
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_breakGlassReasonWithoutPermission_denied() {
    server.principal.set(user("u1", "clerk").build());
    assertDenied(
        denied(() -> server.observations(BG, "EMERGENCY").read(record("p-3"))),
        AuthorizationServerInterceptor.RULE_BREAK_GLASS_REFUSED);
  }

  @Test
  void interceptCall_breakGlassOnMethodThatDoesNotAllowIt_denied() {
    server.principal.set(user("doc", "physician").build());
    assertDenied(
        denied(() -> server.admin(BG, "EMERGENCY").purge(plain("", TENANT))),
        AuthorizationServerInterceptor.RULE_BREAK_GLASS_REFUSED);
  }

  @Test
  void interceptCall_breakGlassAcrossTenants_stillDenied() {
    server.principal.set(user("doc", "physician").build());
    RecordRequest other = record("p-3").toBuilder().setTenant("tenant-2").build();
    assertDenied(
        denied(() -> server.observations(BG, "EMERGENCY").read(other)),
        AuthorizationServerInterceptor.RULE_TENANT_MISMATCH);
    // The refused attempt is recorded with its reason, for audit.
    CallFacts facts = server.lastFacts.get();
    assertThat(facts.breakGlassRequest()).isEqualTo("EMERGENCY");
    assertThat(facts.decision().outcome()).isEqualTo(AccessDecision.Outcome.DENY);
    assertThat(facts.decision().ruleId())
        .isEqualTo(AuthorizationServerInterceptor.RULE_TENANT_MISMATCH);
  }

  @Test
  void interceptCall_breakGlassWithUnknownCode_recordedAsUnrecognized() {
    server.principal.set(user("doc", "physician").build());
    denied(() -> server.observations(BG, "because I want to").read(record("p-3")));
    assertThat(server.lastFacts.get().breakGlassRequest()).isEqualTo("unrecognized");
  }

  @Test
  void build_roleOutsideTheDeclaredVocabulary_refused() {
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
                    .knownRoles("nurse") // the options also name "physician"
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("physician");
    AuthorizationServerInterceptor.newBuilder()
        .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
        .knownRoles("nurse", "physician")
        .build();
  }

  @Test
  void interceptCall_breakGlassCannotOverrideDenyRule() {
    server.principal.set(user("doc", "physician", "intern").build());
    assertDenied(
        denied(() -> server.admin(BG, "EMERGENCY").purge(plain("", TENANT))), "no-interns");
  }
}
