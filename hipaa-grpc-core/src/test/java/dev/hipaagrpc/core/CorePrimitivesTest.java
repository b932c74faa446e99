package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.Principal.AuthMethod;
import dev.hipaagrpc.core.Principal.Kind;
import io.grpc.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CorePrimitivesTest {

  private static Principal patientApp() {
    return Principal.newBuilder("patient-7781", Kind.USER, AuthMethod.BEARER_TOKEN, "fp-1a2b")
        .addRoles(List.of("patient"))
        .addScopes(List.of("patient/Observation.rs", "openid"))
        .tenant("st-mary-hospital")
        .patient("MRN-0042")
        .fhirUser("Patient/MRN-0042")
        .tokenId("jti-secret-ish")
        .issuer("https://idp.example")
        .build();
  }

  @Test
  void principal_toString_printsNoIdentifierOrCredential() {
    String printed = patientApp().toString();

    assertThat(printed)
        .contains("USER", "BEARER_TOKEN", "patient", "scopes=2")
        .doesNotContain(
            "patient-7781", "MRN-0042", "st-mary", "fp-1a2b", "jti-secret", "idp.example");
  }

  @Test
  void principal_collections_areImmutableCopies() {
    List<String> roles = new ArrayList<>(List.of("nurse"));
    Principal p =
        Principal.newBuilder("u", Kind.USER, AuthMethod.BEARER_TOKEN, "fp").addRoles(roles).build();
    roles.add("admin");

    assertThat(p.roles()).containsExactly("nurse");
    assertThatThrownBy(() -> p.roles().add("admin"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(p.hasRole("nurse")).isTrue();
    assertThat(p.hasRole("admin")).isFalse();
  }

  @Test
  void principal_blankSubjectOrRole_isRefused() {
    assertThatThrownBy(
            () -> Principal.newBuilder(" ", Kind.USER, AuthMethod.BEARER_TOKEN, "fp").build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                Principal.newBuilder("u", Kind.USER, AuthMethod.BEARER_TOKEN, "fp")
                    .addRoles(Set.of("")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void principal_toBuilder_copiesEverything() {
    Principal p = patientApp();
    Principal copy = p.toBuilder().viaService("spiffe://td/svc").build();

    assertThat(copy.patient()).isEqualTo("MRN-0042");
    assertThat(copy.scopes()).isEqualTo(p.scopes());
    assertThat(copy.viaService()).isEqualTo("spiffe://td/svc");
    assertThat(p.viaService()).isNull();
  }

  @Test
  void callFacts_toString_printsNoPatientId() {
    CallFacts facts = CallFacts.create("cid-1");
    facts.principal(patientApp());
    facts.addPatient("MRN-0042");
    facts.decision(AccessDecision.breakGlass("rule-7", "v3", "EMERGENCY"));
    facts.addMaskedFields(3);

    assertThat(facts.toString())
        .contains("cid-1", "BREAK_GLASS", "rule-7", "maskedFields=3")
        .doesNotContain("MRN-0042", "patient-7781");
  }

  @Test
  void callFacts_decision_onlyMovesTowardsRefusal() {
    CallFacts facts = CallFacts.create("cid-1");
    facts.decision(AccessDecision.allow("r1", "v1"));
    facts.decision(AccessDecision.deny("r2", "v1"));
    facts.decision(AccessDecision.allow("r3", "v1"));
    facts.decision(AccessDecision.breakGlass("r4", "v1", "CODE_BLUE"));

    assertThat(facts.decision().ruleId()).isEqualTo("r2");
    assertThat(facts.decision().permitted()).isFalse();
  }

  @Test
  void callFacts_principal_oneWritePath_refusesASecondPrincipal() {
    CallFacts facts = CallFacts.create("cid-1");
    Principal p = patientApp();
    facts.principal(p);
    facts.principal(p); // the same one again is harmless

    assertThatThrownBy(() -> facts.principal(p.toBuilder().viaService("spiffe://td/x").build()))
        .isInstanceOf(IllegalStateException.class);
    assertThat(facts.principal()).isSameAs(p);
  }

  @Test
  void callFacts_patients_distinctInOrderAndBounded() {
    CallFacts facts = CallFacts.create("cid-1");
    facts.addPatient("p1");
    facts.addPatient("p2");
    facts.addPatient("p1");
    for (int i = 0; i < CallFacts.MAX_PATIENTS + 5; i++) {
      facts.addPatient("q" + i);
    }

    assertThat(facts.patientIds()).hasSize(CallFacts.MAX_PATIENTS).startsWith("p1", "p2");
    assertThat(facts.patientsOmitted()).isEqualTo(7);
  }

  @Test
  void callFacts_claimAudit_onlyOnce() {
    CallFacts facts = CallFacts.create("cid-1");
    assertThat(facts.claimAudit()).isTrue();
    assertThat(facts.claimAudit()).isFalse();
  }

  @Test
  void callFacts_failureCode_mustBeAConstantShape() {
    CallFacts facts = CallFacts.create("cid-1");
    facts.authenticationFailure("expired_token");
    assertThat(facts.authenticationFailure()).isEqualTo("expired_token");

    assertThatThrownBy(() -> facts.authenticationFailure("token eyJhbGciOi was bad"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CallFacts.create("bad id"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void securityContext_withCallFacts_createsOnceAndReuses() {
    Context first = CallFacts.inContext(Context.ROOT);
    Context second = CallFacts.inContext(first);

    assertThat(second).isSameAs(first);
    assertThat(CallFacts.of(first).correlationId()).matches("[0-9a-f]{32}");
    assertThatThrownBy(() -> CallFacts.of(Context.ROOT)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void accessDecision_permittedOnlyForAllowAndBreakGlass() {
    assertThat(AccessDecision.allow("r", "v").permitted()).isTrue();
    assertThat(AccessDecision.breakGlass("r", "v", "CODE").permitted()).isTrue();
    assertThat(AccessDecision.deny(AccessDecision.DEFAULT_DENY_RULE, "v").permitted()).isFalse();
  }

  @Test
  void spiffeIdOf_acceptsExactlyOneWellFormedId() {
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://prod.example/ns/default/sa/api")))
        .isEqualTo("spiffe://prod.example/ns/default/sa/api");
    assertThat(PeerIdentity.spiffeIdOf(List.of("https://x", "spiffe://td")))
        .isEqualTo("spiffe://td");

    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://a/x", "spiffe://b/y"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://UPPER/x"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://td/a/../b"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://td/a?q=1"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://td:443/a"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://user@td/a"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("spiffe://td/a//b"))).isNull();
    assertThat(PeerIdentity.spiffeIdOf(List.of("https://td/a"))).isNull();
  }

  @Test
  void correlationId_generate_isUniqueAndAcceptable() {
    String a = CorrelationId.generate();
    String b = CorrelationId.generate();
    assertThat(a).isNotEqualTo(b);
    assertThat(CorrelationId.isAcceptable(a)).isTrue();
    assertThat(CorrelationId.isAcceptable(null)).isFalse();
  }
}
