package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Claim paths of the common identity providers. */
class ClaimMappingTest {

  @Test
  void roles_keycloakCognitoGroupsAndUrlClaims_mapped() {
    Map<String, Object> claims =
        Map.of(
            "realm_access", Map.of("roles", List.of("nurse", "auditor")),
            "cognito:groups", List.of("billing"),
            "groups", "ops",
            "https://example.org/roles", List.of("admin", 42, ""));
    ClaimMapping m =
        ClaimMapping.newBuilder()
            .rolesFrom(
                "realm_access.roles", "cognito:groups", "groups", "https://example.org/roles")
            .build();

    assertThat(m.roles(claims)).containsExactly("nurse", "auditor", "billing", "ops", "admin");
  }

  @Test
  void roles_defaultPathOnly_ignoresGroups() {
    assertThat(
            ClaimMapping.defaults()
                .roles(Map.of("roles", List.of("clinician"), "groups", List.of("admin"))))
        .containsExactly("clinician");
  }

  @Test
  void scopes_scopeStringAndScpArray_merged() {
    assertThat(
            ClaimMapping.defaults()
                .scopes(
                    Map.of("scope", "openid  patient/*.read", "scp", List.of("launch/patient"))))
        .containsExactly("openid", "patient/*.read", "launch/patient");
    assertThat(ClaimMapping.defaults().scopes(Map.of("scp", "a b"))).containsExactly("a", "b");
  }

  @Test
  void tenantAndSubject_configuredClaims() {
    ClaimMapping m = ClaimMapping.newBuilder().subjectClaim("oid").tenantFrom("org.id").build();
    Map<String, Object> claims = Map.of("oid", "u-7", "sub", "x", "org", Map.of("id", "hosp-1"));

    assertThat(m.subject(claims)).isEqualTo("u-7");
    assertThat(m.tenant(claims)).isEqualTo("hosp-1");
    assertThat(ClaimMapping.defaults().tenant(claims)).isNull();
    assertThat(m.subject(Map.of("oid", 5))).isNull();
  }
}
