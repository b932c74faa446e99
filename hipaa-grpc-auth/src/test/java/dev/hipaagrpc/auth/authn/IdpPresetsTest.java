package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.Principal;
import io.jsonwebtoken.Jwts;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each preset against a token shaped as its vendor documents it (claim names, nesting, value types,
 * header {@code typ}), signed with a real key and verified end to end: what the principal becomes,
 * and whether a client-credentials token of that vendor is a service.
 */
class IdpPresetsTest {

  private static final long NOW = T0.getEpochSecond();

  static Principal verify(
      String issuer, String audience, ClaimMapping mapping, Map<String, Object> claims)
      throws CredentialFailure {
    return verify(
        IssuerConfig.newBuilder(issuer, KeySource.ofPublicKey(EC_256.getPublic()))
            .audience(audience)
            .claimMapping(mapping),
        claims);
  }

  static Principal verify(IssuerConfig.Builder config, Map<String, Object> claims)
      throws CredentialFailure {
    Map<String, Object> all = new LinkedHashMap<>(claims);
    all.putIfAbsent("iat", NOW);
    all.putIfAbsent("exp", NOW + 300);
    String token =
        Jwts.builder()
            .header()
            .type("JWT")
            .and()
            .claims(all)
            .signWith(EC_256.getPrivate())
            .compact();
    JwtVerifier v = new JwtVerifier(List.of(config.build()), Clock.fixed(T0, ZoneOffset.UTC), null);
    return v.verify(token).principal;
  }

  // --- Keycloak -------------------------------------------------------------------------------

  private static final String KEYCLOAK = "https://sso.hospital.example/realms/clinical";

  @Test
  void keycloak_userToken_realmAndClientRolesAndScopes() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("jti", "0f6a3c1e-1d7b-4a55-9b7e-2a5f0c6c1d11");
    claims.put("iss", KEYCLOAK);
    claims.put("aud", List.of("patient-records", "account"));
    claims.put("sub", "7c2e9a40-5b1f-4d3e-8f60-3f1a2b4c5d6e");
    claims.put("typ", "Bearer");
    claims.put("azp", "clinician-portal");
    claims.put("acr", "1");
    claims.put(
        "realm_access", Map.of("roles", List.of("nurse", "offline_access", "uma_authorization")));
    claims.put(
        "resource_access",
        Map.of(
            "patient-records", Map.of("roles", List.of("chart-reader")),
            "account", Map.of("roles", List.of("manage-account"))));
    claims.put("scope", "openid profile email");
    claims.put("preferred_username", "nurse.olsen");

    Principal p =
        verify(
            KEYCLOAK, "patient-records", ClaimMapping.keycloak("patient-records").build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.subject()).isEqualTo("7c2e9a40-5b1f-4d3e-8f60-3f1a2b4c5d6e");
    assertThat(p.roles())
        .containsExactly("nurse", "offline_access", "uma_authorization", "chart-reader")
        .doesNotContain("manage-account");
    assertThat(p.scopes()).containsExactly("openid", "profile", "email");
  }

  @Test
  void keycloak_serviceAccountToken_isService() throws Exception {
    // Client credentials: sub is the service account user's id, not the client id.
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", KEYCLOAK);
    claims.put("aud", "patient-records");
    claims.put("sub", "a1d3c0de-0000-4000-8000-00000000feed");
    claims.put("azp", "lab-feed");
    claims.put("client_id", "lab-feed");
    claims.put("preferred_username", "service-account-lab-feed");
    claims.put("realm_access", Map.of("roles", List.of("lab-writer")));
    claims.put("scope", "profile email");

    Principal p =
        verify(
            KEYCLOAK, "patient-records", ClaimMapping.keycloak("patient-records").build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
    assertThat(p.roles()).containsExactly("lab-writer");
    // The old fixed rule (sub == client_id) took this for a user.
    assertThat(verify(KEYCLOAK, "patient-records", ClaimMapping.defaults(), claims).kind())
        .isEqualTo(Principal.Kind.USER);

    // A user who picked such a username is still a user: no client_id claim.
    claims.remove("client_id");
    claims.put("preferred_username", "service-account-admin");
    assertThat(
            verify(
                    KEYCLOAK,
                    "patient-records",
                    ClaimMapping.keycloak("patient-records").build(),
                    claims)
                .kind())
        .isEqualTo(Principal.Kind.USER);
  }

  @Test
  void keycloak_clientIdWithDots_refusedAtConfiguration() {
    assertThatThrownBy(() -> ClaimMapping.keycloak("records.api"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dots");
  }

  // --- Auth0 ----------------------------------------------------------------------------------

  private static final String AUTH0 = "https://hospital.us.auth0.com/";
  private static final String AUTH0_ROLES = "https://hospital.example/roles";

  @Test
  void auth0_userToken_namespacedRolesAndPermissionsAsScopes() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", AUTH0);
    claims.put("sub", "auth0|64f1c2d3e4b5a69788796a5b");
    claims.put("aud", List.of("patient-records", "https://hospital.us.auth0.com/userinfo"));
    claims.put("azp", "kJ3t9Portal");
    claims.put("scope", "openid profile");
    claims.put("permissions", List.of("read:patients", "read:observations"));
    claims.put(AUTH0_ROLES, List.of("nurse"));

    Principal p = verify(AUTH0, "patient-records", ClaimMapping.auth0(AUTH0_ROLES).build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.roles()).containsExactly("nurse");
    assertThat(p.scopes())
        .containsExactly("openid", "profile", "read:patients", "read:observations");
  }

  @Test
  void auth0_machineToMachineToken_isService() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", AUTH0);
    claims.put("sub", "kJ3t9LabFeed@clients");
    claims.put("aud", "patient-records");
    claims.put("azp", "kJ3t9LabFeed");
    claims.put("scope", "write:observations");
    claims.put("gty", "client-credentials");
    claims.put("permissions", List.of("write:observations"));

    Principal p = verify(AUTH0, "patient-records", ClaimMapping.auth0(AUTH0_ROLES).build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
    assertThat(p.scopes()).containsExactly("write:observations");
    assertThat(verify(AUTH0, "patient-records", ClaimMapping.defaults(), claims).kind())
        .isEqualTo(Principal.Kind.USER);
  }

  // --- Okta -----------------------------------------------------------------------------------

  private static final String OKTA = "https://hospital.okta.com/oauth2/aus1smart";

  @Test
  void okta_smartUserToken_scpArrayGroupsAndLaunchResponsePatient() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("ver", 1);
    claims.put("jti", "AT.x1y2z3");
    claims.put("iss", OKTA);
    claims.put("aud", "api://patient-records");
    claims.put("cid", "0oa1portal");
    claims.put("uid", "00u1nurse");
    claims.put("scp", List.of("openid", "launch/patient", "patient/Observation.rs"));
    claims.put("sub", "nurse.olsen@hospital.example");
    claims.put("groups", List.of("nurse"));
    claims.put("launch_response_patient", "Patient/123");

    Principal p = verify(OKTA, "api://patient-records", ClaimMapping.okta().build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.roles()).containsExactly("nurse");
    assertThat(p.scopes()).containsExactly("openid", "launch/patient", "patient/Observation.rs");
    assertThat(p.patient()).isEqualTo("Patient/123");
    assertThat(verify(OKTA, "api://patient-records", ClaimMapping.defaults(), claims).patient())
        .as("the fixed claim name missed Okta's SMART patient")
        .isNull();
  }

  @Test
  void okta_clientCredentialsToken_isService() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", OKTA);
    claims.put("aud", "api://patient-records");
    claims.put("cid", "0oa1labfeed");
    claims.put("sub", "0oa1labfeed");
    claims.put("scp", List.of("observations.write"));

    assertThat(verify(OKTA, "api://patient-records", ClaimMapping.okta().build(), claims).kind())
        .isEqualTo(Principal.Kind.SERVICE);
    assertThat(verify(OKTA, "api://patient-records", ClaimMapping.defaults(), claims).kind())
        .isEqualTo(Principal.Kind.USER);
  }

  // --- Microsoft Entra ID ---------------------------------------------------------------------

  private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  private static final String ENTRA = "https://login.microsoftonline.com/" + TENANT + "/v2.0";
  private static final String ENTRA_AUD = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

  @Test
  void entraId_delegatedToken_oidSubjectTenantAppRolesAndScp() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("aud", ENTRA_AUD);
    claims.put("iss", ENTRA);
    claims.put("nbf", NOW);
    claims.put("azp", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c");
    claims.put("azpacr", "0");
    claims.put("name", "Nurse Olsen");
    claims.put("oid", "690222be-ff1a-4d56-abd1-7e4f7d38e474");
    claims.put("preferred_username", "nurse.olsen@hospital.example");
    claims.put("roles", List.of("Clinician"));
    claims.put("scp", "Patient.Read Observation.Read");
    claims.put("sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ");
    claims.put("tid", TENANT);
    claims.put("ver", "2.0");

    Principal p = verify(ENTRA, ENTRA_AUD, ClaimMapping.entraId().build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.subject()).isEqualTo("690222be-ff1a-4d56-abd1-7e4f7d38e474");
    assertThat(p.tenant()).isEqualTo(TENANT);
    assertThat(p.roles()).containsExactly("Clinician");
    assertThat(p.scopes()).containsExactly("Patient.Read", "Observation.Read");
  }

  @Test
  void entraId_appOnlyToken_isServiceWithApplicationPermissionsAsRoles() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("aud", ENTRA_AUD);
    claims.put("iss", ENTRA);
    claims.put("azp", "2f1a9c3d-1111-4e2b-9a77-abcdefabcdef");
    claims.put("azpacr", "1");
    claims.put("idtyp", "app");
    claims.put("oid", "b2c4d6e8-2222-4f6a-8c9e-0123456789ab");
    claims.put("roles", List.of("Patient.Read.All"));
    claims.put("sub", "b2c4d6e8-2222-4f6a-8c9e-0123456789ab");
    claims.put("tid", TENANT);

    Principal p = verify(ENTRA, ENTRA_AUD, ClaimMapping.entraId().build(), claims);
    assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
    assertThat(p.roles()).containsExactly("Patient.Read.All");
    assertThat(p.scopes()).isEmpty();

    // Without the optional idtyp claim: an application's sub is its oid.
    claims.remove("idtyp");
    assertThat(verify(ENTRA, ENTRA_AUD, ClaimMapping.entraId().build(), claims).kind())
        .isEqualTo(Principal.Kind.SERVICE);
    assertThat(verify(ENTRA, ENTRA_AUD, ClaimMapping.defaults(), claims).kind())
        .isEqualTo(Principal.Kind.USER);
  }

  // --- Amazon Cognito -------------------------------------------------------------------------

  private static final String COGNITO =
      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123";

  private static Map<String, Object> cognitoAccessToken(String sub, String clientId) {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("sub", sub);
    claims.put("cognito:groups", List.of("billing"));
    claims.put("iss", COGNITO);
    claims.put("version", 2);
    claims.put("client_id", clientId);
    claims.put("token_use", "access");
    claims.put("scope", "openid patient-records/read");
    claims.put("jti", "5d3a7c1b-9e8f-4a2b-8c6d-1e2f3a4b5c6d");
    claims.put("username", "billing.clerk");
    return claims; // no aud: Cognito access tokens have none
  }

  @Test
  void cognito_accessTokenWithoutAud_audienceCheckedInClientId() throws Exception {
    IssuerConfig.Builder config =
        IssuerConfig.newBuilder(COGNITO, KeySource.ofPublicKey(EC_256.getPublic()))
            .audience("4p8portalclient")
            .audienceClaim("client_id")
            .claimMapping(ClaimMapping.cognito().build());

    Principal p =
        verify(
            config, cognitoAccessToken("9b1c2d3e-4f50-6a7b-8c9d-0e1f2a3b4c5d", "4p8portalclient"));
    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.roles()).containsExactly("billing");
    assertThat(p.scopes()).containsExactly("openid", "patient-records/read");

    assertThatThrownBy(() -> verify(config, cognitoAccessToken("9b1c2d3e-4f50", "someotherclient")))
        .isInstanceOf(CredentialFailure.class)
        .hasMessageContaining("wrong_audience");
  }

  @Test
  void cognito_clientCredentialsToken_isService() throws Exception {
    IssuerConfig.Builder config =
        IssuerConfig.newBuilder(COGNITO, KeySource.ofPublicKey(EC_256.getPublic()))
            .audience("4p8labfeed")
            .audienceClaim("client_id")
            .claimMapping(ClaimMapping.cognito().build());
    Map<String, Object> claims = cognitoAccessToken("4p8labfeed", "4p8labfeed");
    claims.remove("username");
    claims.remove("cognito:groups");
    assertThat(verify(config, claims).kind()).isEqualTo(Principal.Kind.SERVICE);
  }

  // --- SMART on FHIR --------------------------------------------------------------------------

  @Test
  void smartOnFhir_launchToken_patientFhirUserAndScopes() throws Exception {
    String iss = "https://auth.fhir.hospital.example";
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", iss);
    claims.put("sub", "practitioner-9");
    claims.put("aud", "https://fhir.hospital.example/r4");
    claims.put("client_id", "growth-chart-app");
    claims.put("scope", "launch/patient openid fhirUser patient/Observation.rs");
    claims.put("patient", "123");
    claims.put("fhirUser", "Practitioner/9");
    claims.put("jti", "smart-1");

    Principal p =
        verify(iss, "https://fhir.hospital.example/r4", ClaimMapping.smartOnFhir().build(), claims);

    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.patient()).isEqualTo("123");
    assertThat(p.fhirUser()).isEqualTo("Practitioner/9");
    assertThat(p.scopes()).contains("patient/Observation.rs", "launch/patient");
  }

  @Test
  void serviceWhen_none_everyTokenIsUser() throws Exception {
    Map<String, Object> claims =
        Map.of("iss", "https://a.example", "aud", "x", "sub", "c", "client_id", "c");
    assertThat(
            verify(
                    "https://a.example",
                    "x",
                    ClaimMapping.newBuilder().serviceWhen().build(),
                    claims)
                .kind())
        .isEqualTo(Principal.Kind.USER);
    assertThat(verify("https://a.example", "x", ClaimMapping.defaults(), claims).kind())
        .isEqualTo(Principal.Kind.SERVICE);
    assertThat(ClaimMapping.ServiceRule.claimEquals("gty", "client-credentials"))
        .hasToString("gty == \"client-credentials\"");
  }
}
