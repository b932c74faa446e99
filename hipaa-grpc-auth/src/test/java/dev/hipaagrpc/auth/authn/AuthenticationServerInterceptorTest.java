package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.ATTACKER_EC;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.ATTACKER_RSA;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.AUDIENCE;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.ED_25519;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_2;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.b64;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.jwks;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.token;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.unb64;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.withSignature;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authn.AuthenticationTestHarness.Result;
import dev.hipaagrpc.auth.authn.JwtTestSupport.MutableClock;
import dev.hipaagrpc.core.Principal;
import io.grpc.Metadata;
import io.grpc.Status;
import io.jsonwebtoken.Jwts;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bearer-token authentication through a real in-process server and a real JWKS server. */
@SuppressWarnings("JavaUtilDate")
class AuthenticationServerInterceptorTest {

  private JwksTestServer idp;
  private MutableClock clock;
  private KeySource keys;
  private JtiDenyList denyList;
  private AuthenticationServerInterceptor interceptor;
  private AuthenticationTestHarness harness;
  private String issuer;

  @BeforeEach
  void setUp() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks =
        jwks(
            new LinkedHashMap<>(
                Map.of(
                    "rsa-1", RSA_1.getPublic(),
                    "ec-1", EC_256.getPublic(),
                    "ed-1", ED_25519.getPublic())));
    issuer = idp.issuer();
    clock = new MutableClock(T0);
    keys =
        KeySource.fromJwksUri(idp.jwksUri())
            .clock(clock)
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build();
    denyList = JtiDenyList.create(clock, 1000);
    interceptor =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build())
            .revocationList(denyList)
            .clock(clock)
            .build();
    harness = new AuthenticationTestHarness(interceptor);
  }

  @AfterEach
  void tearDown() throws Exception {
    harness.close();
    keys.close();
    idp.close();
  }

  private String valid() {
    return token(issuer, "rsa-1", RSA_1.getPrivate(), T0).compact();
  }

  /** Every refusal: UNAUTHENTICATED, fixed text, no echo, and the server still serves. */
  private Result assertRefused(String token, String expectedCode) {
    Result r = harness.callWithToken(token);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo(expectedCode);
    assertThat(r.status().getDescription())
        .isEqualTo("Authentication required (correlation id: " + r.facts().correlationId() + ")");
    assertThat(r.trailers().get(AuthenticationTestHarness.WWW_AUTHENTICATE))
        .isEqualTo("Bearer error=\"invalid_token\"");
    assertThat(r.principal()).isNull();
    assertStillServing();
    return r;
  }

  private void assertStillServing() {
    Result ok = harness.callWithToken(valid());
    assertThat(ok.status().getCode()).isEqualTo(Status.Code.OK);
  }

  @Test
  void interceptCall_validRs256Token_publishesPrincipal() {
    Result r = harness.callWithToken(valid());

    assertThat(r.status().isOk()).isTrue();
    assertThat(r.response()).isEqualTo("user-1");
    Principal p = r.principal();
    assertThat(p.subject()).isEqualTo("user-1");
    assertThat(p.issuer()).isEqualTo(issuer);
    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.authMethod()).isEqualTo(Principal.AuthMethod.BEARER_TOKEN);
    assertThat(p.roles()).containsExactly("clinician");
    assertThat(p.scopes()).containsExactly("patient/Observation.read", "openid");
    assertThat(p.credentialFingerprint()).hasSize(32);
    assertThat(r.facts().principal()).isSameAs(p);
  }

  @Test
  void interceptCall_validEs256AndEdDsaTokens_authenticate() {
    assertThat(
            harness
                .callWithToken(token(issuer, "ec-1", EC_256.getPrivate(), T0).compact())
                .status())
        .isEqualTo(Status.OK);
    assertThat(
            harness
                .callWithToken(token(issuer, "ed-1", ED_25519.getPrivate(), T0).compact())
                .status())
        .isEqualTo(Status.OK);
  }

  @Test
  void interceptCall_noAuthorizationHeader_unauthenticatedWithBareChallenge() {
    Result r = harness.callWithToken(null);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("missing_credentials");
    assertThat(r.trailers().get(AuthenticationTestHarness.WWW_AUTHENTICATE)).isEqualTo("Bearer");
  }

  @Test
  void interceptCall_basicScheme_invalidRequest() {
    Metadata h = new Metadata();
    h.put(AuthenticationTestHarness.AUTHORIZATION, "Basic dXNlcjpwYXNz");
    Result r = harness.call(h, null);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.trailers().get(AuthenticationTestHarness.WWW_AUTHENTICATE))
        .isEqualTo("Bearer error=\"invalid_request\"");
  }

  @Test
  void interceptCall_algNone_refused() {
    String payload = valid().split("\\.", -1)[1];
    String none = b64("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "." + payload + ".";
    assertRefused(none, "malformed_token");
    String noneWithSig = b64("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "." + payload + ".AAAA";
    assertRefused(noneWithSig, "algorithm_not_allowed");
  }

  @Test
  void interceptCall_hs256SignedWithRsaPublicKey_refused() {
    PublicKey pub = RSA_1.getPublic();
    // The classic confusion attack: the public key's bytes used as an HMAC secret.
    String forged =
        Jwts.builder()
            .header()
            .keyId("rsa-1")
            .and()
            .issuer(issuer)
            .audience()
            .add(AUDIENCE)
            .and()
            .subject("admin")
            .expiration(Date.from(T0.plusSeconds(600)))
            .signWith(new SecretKeySpec(pub.getEncoded(), "HmacSHA256"), Jwts.SIG.HS256)
            .compact();
    assertRefused(forged, "algorithm_not_allowed");
  }

  @Test
  void interceptCall_signedByKeyNotInJwks_refused() {
    // Same kid as a published key, signed by the attacker's key.
    assertRefused(token(issuer, "rsa-1", ATTACKER_RSA.getPrivate(), T0).compact(), "invalid_token");
    // A kid the provider never published.
    assertRefused(
        token(issuer, "attacker", ATTACKER_RSA.getPrivate(), T0).compact(), "unknown_key");
  }

  @Test
  void interceptCall_allZeroEcdsaSignature_refused() {
    String t = token(issuer, "ec-1", EC_256.getPrivate(), T0).compact();
    assertRefused(withSignature(t, new byte[64]), "bad_signature");
    byte[] halfZero = unb64(t.substring(t.lastIndexOf('.') + 1));
    Arrays.fill(halfZero, 32, 64, (byte) 0);
    assertRefused(withSignature(t, halfZero), "bad_signature");
  }

  @Test
  void interceptCall_derOrTruncatedEcdsaSignature_refused() throws Exception {
    String t = token(issuer, "ec-1", EC_256.getPrivate(), T0).compact();
    String signingInput = t.substring(0, t.lastIndexOf('.'));
    Signature der = Signature.getInstance("SHA256withECDSA");
    der.initSign(EC_256.getPrivate());
    der.update(signingInput.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    // A valid signature, but DER-encoded rather than the fixed 64-byte R||S form.
    assertRefused(withSignature(t, der.sign()), "bad_signature");
    byte[] sig = unb64(t.substring(t.lastIndexOf('.') + 1));
    assertRefused(withSignature(t, Arrays.copyOf(sig, 63)), "bad_signature");
    assertRefused(withSignature(t, Arrays.copyOf(sig, 65)), "bad_signature");
    String ed = token(issuer, "ed-1", ED_25519.getPrivate(), T0).compact();
    byte[] edSig = unb64(ed.substring(ed.lastIndexOf('.') + 1));
    assertRefused(withSignature(ed, Arrays.copyOf(edSig, 63)), "bad_signature");
    String rsa = valid();
    byte[] rsaSig = unb64(rsa.substring(rsa.lastIndexOf('.') + 1));
    assertRefused(withSignature(rsa, Arrays.copyOf(rsaSig, rsaSig.length - 1)), "bad_signature");
  }

  @Test
  void interceptCall_expired_refusedAsExpired() {
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), T0.minusSeconds(3600)).compact();
    assertRefused(t, "expired_token");
  }

  @Test
  void interceptCall_notYetValid_refused() {
    String t =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .notBefore(Date.from(T0.plusSeconds(300)))
            .compact();
    assertRefused(t, "invalid_token");
    String future = token(issuer, "rsa-1", RSA_1.getPrivate(), T0.plusSeconds(300)).compact();
    assertRefused(future, "issued_in_future");
  }

  @Test
  void interceptCall_withinClockSkew_accepted() {
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), T0.minusSeconds(630)).compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
  }

  @Test
  void interceptCall_wrongIssuer_refused() {
    assertRefused(
        token("https://evil.example", "rsa-1", RSA_1.getPrivate(), T0).compact(), "wrong_issuer");
    assertRefused(token(issuer + "/", "rsa-1", RSA_1.getPrivate(), T0).compact(), "wrong_issuer");
  }

  @Test
  void interceptCall_wrongAudience_refused() {
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), T0).claim("aud", "another-api").compact();
    assertRefused(t, "wrong_audience");
  }

  @Test
  void interceptCall_audienceListContainingOurs_accepted() {
    String t =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .audience()
            .add("another-api")
            .and()
            .compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
  }

  @Test
  void interceptCall_noExp_refused() {
    String t =
        Jwts.builder()
            .header()
            .keyId("rsa-1")
            .and()
            .issuer(issuer)
            .audience()
            .add(AUDIENCE)
            .and()
            .subject("user-1")
            .signWith(RSA_1.getPrivate())
            .compact();
    assertRefused(t, "missing_expiry");
  }

  @Test
  void interceptCall_noSubject_refused() {
    String t =
        Jwts.builder()
            .header()
            .keyId("rsa-1")
            .and()
            .issuer(issuer)
            .audience()
            .add(AUDIENCE)
            .and()
            .expiration(Date.from(T0.plusSeconds(60)))
            .signWith(RSA_1.getPrivate())
            .compact();
    assertRefused(t, "missing_subject");
  }

  @Test
  void interceptCall_jkuPointingElsewhere_refusedAndNeverFetched() throws Exception {
    try (JwksTestServer attacker = new JwksTestServer()) {
      attacker.jwks = jwks(Map.of("evil", ATTACKER_RSA.getPublic()));
      String t =
          token(issuer, "evil", ATTACKER_RSA.getPrivate(), T0)
              .header()
              .add("jku", attacker.jwksUri().toString())
              .and()
              .compact();
      assertRefused(t, "unknown_key");
      assertThat(attacker.jwksFetches.get()).isZero();
    }
  }

  @Test
  void interceptCall_embeddedJwkHeader_notTrusted() {
    String t =
        token(issuer, "rsa-1", ATTACKER_EC.getPrivate(), T0)
            .header()
            .add(
                "jwk", io.jsonwebtoken.security.Jwks.builder().key(ATTACKER_EC.getPublic()).build())
            .and()
            .compact();
    assertRefused(t, "invalid_token");
  }

  @Test
  void interceptCall_unknownCrit_refused() {
    String t =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .header()
            .add("exp-ext", "x")
            .critical()
            .add("exp-ext")
            .and()
            .and()
            .compact();
    assertRefused(t, "unsupported_header");
  }

  @Test
  void interceptCall_oneMebibyteToken_refusedBeforeParsing() {
    String huge = "a".repeat(1024 * 1024);
    assertRefused(huge, "token_too_large");
    assertThat(idp.jwksFetches.get()).isLessThanOrEqualTo(2);
  }

  @Test
  void interceptCall_brokenBase64OrJson_refused() {
    String t = valid();
    String[] parts = t.split("\\.", -1);
    assertRefused("%%%." + parts[1] + "." + parts[2], "malformed_token");
    assertRefused("abc$." + parts[1] + "." + parts[2], "malformed_token");
    assertRefused(b64("{\"alg\":\"RS256\",") + "." + parts[1] + "." + parts[2], "malformed_token");
    assertRefused(b64("[1,2]") + "." + parts[1] + "." + parts[2], "malformed_token");
    // The payload is parsed (strictly) before the signature is checked, whatever the issuer count.
    assertRefused(parts[0] + "." + b64("{\"sub\":") + "." + parts[2], "malformed_token");
    assertRefused("a.b", "malformed_token");
    assertRefused("a.b.c.d", "malformed_token");
    assertRefused(parts[0] + ".." + parts[2], "malformed_token");
    // A duplicate member is refused as such, whichever value comes last (JoseStrictnessTest has
    // validly signed variants).
    assertRefused(
        b64("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa-1\"}")
            + "."
            + parts[1]
            + "."
            + parts[2],
        "malformed_token");
    assertRefused(
        b64("{\"alg\":\"RS256\",\"alg\":\"none\"}") + "." + parts[1] + "." + parts[2],
        "malformed_token");
  }

  @Test
  void interceptCall_thousandRandomKids_jwksFetchedAtMostAHandfulOfTimes() {
    assertStillServing();
    int before = idp.jwksFetches.get();
    for (int i = 0; i < 1000; i++) {
      String t =
          token(issuer, UUID.randomUUID().toString(), ATTACKER_EC.getPrivate(), T0).compact();
      Result r = harness.callWithToken(t);
      assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      if (i % 100 == 0) {
        clock.advanceSeconds(1);
      }
    }
    assertThat(idp.jwksFetches.get() - before).isLessThanOrEqualTo(3);
    assertStillServing();
  }

  @Test
  void interceptCall_repeatedToken_servedFromCacheButExpiryStillEnforced() {
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), T0).compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    assertThat(interceptor.cachedTokens()).isEqualTo(1);
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    assertThat(interceptor.cachedTokens()).isEqualTo(1);
    assertThat(interceptor.cachedSpellings()).isEqualTo(1);

    clock.advanceSeconds(600 + 61);
    Result r = harness.callWithToken(t);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("expired_token");
  }

  @Test
  void interceptCall_revokedJti_refusedEvenWhenCached() {
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), T0).id("jti-42").compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    assertThat(interceptor.cachedSpellings()).isEqualTo(1); // the next call is an exact hit

    denyList.revoke(issuer, "jti-42", T0.plusSeconds(600));

    assertRefused(t, "revoked_token");
  }

  @Test
  void interceptCall_keyRotatedAtProvider_newKeyAcceptedOldKeyDropped() {
    String old = token(issuer, "rsa-1", RSA_1.getPrivate(), T0).compact();
    assertThat(harness.callWithToken(old).status().isOk()).isTrue();
    assertThat(interceptor.cachedSpellings()).isEqualTo(1); // the old token is an exact hit next

    idp.jwks = jwks(Map.of("rsa-2", RSA_2.getPublic()));
    clock.advanceSeconds(31);
    String rotated = token(issuer, "rsa-2", RSA_2.getPrivate(), T0.plusSeconds(31)).compact();

    assertThat(harness.callWithToken(rotated).status().isOk()).isTrue();
    // The old token was cached, but its key is no longer published: verified again, refused.
    Result r = harness.callWithToken(old);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("unknown_key");
  }

  @Test
  void interceptCall_providerDownBeforeFirstFetch_unavailableNotUnauthenticated() throws Exception {
    try (JwksTestServer down = new JwksTestServer();
        KeySource ks =
            KeySource.fromJwksUri(down.jwksUri())
                .clock(clock)
                .INSECURE_allowPlainHttpForLoopbackTesting()
                .build()) {
      down.status = 503;
      AuthenticationServerInterceptor a =
          AuthenticationServerInterceptor.newBuilder()
              .addIssuer(IssuerConfig.newBuilder(down.issuer(), ks).audience(AUDIENCE).build())
              .clock(clock)
              .build();
      try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
        Result r = h.callWithToken(token(down.issuer(), "rsa-1", RSA_1.getPrivate(), T0).compact());
        assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(r.failure()).isEqualTo("keys_unavailable");
        assertThat(r.status().getDescription())
            .isEqualTo(
                "Authentication is temporarily unavailable (correlation id: "
                    + r.facts().correlationId()
                    + ")");
      }
    }
  }

  @Test
  void interceptCall_providerDownAfterGoodFetch_lastGoodKeysUsedForBoundedTime() {
    assertStillServing();
    idp.status = 500;
    clock.advanceSeconds(3600); // past the 300 s cache lifetime, within 6 h of staleness
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), clock.instant()).compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();

    clock.advanceSeconds(7 * 3600);
    String later = token(issuer, "rsa-1", RSA_1.getPrivate(), clock.instant()).compact();
    Result r = harness.callWithToken(later);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(r.failure()).isEqualTo("keys_unavailable");

    idp.status = 200;
    clock.advanceSeconds(31); // past the failure retry interval
    assertThat(harness.callWithToken(later).status().isOk()).isTrue();
  }

  @Test
  void interceptCall_unknownKidWhileProviderDown_unavailable() {
    assertStillServing();
    idp.status = 500;
    clock.advanceSeconds(31);
    Result r = harness.callWithToken(token(issuer, "rsa-new", RSA_2.getPrivate(), T0).compact());
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    idp.status = 200;
  }

  @Test
  void interceptCall_refusal_neverEchoesToken() {
    String t = token(issuer, "rsa-1", ATTACKER_RSA.getPrivate(), T0).compact();
    Result r = harness.callWithToken(t);
    assertThat(r.status().getDescription()).doesNotContain(t.substring(0, 20));
    assertThat(r.trailers().toString()).doesNotContain(t.substring(0, 20));
    assertThat(r.status().getCause()).isNull();
  }

  @Test
  void interceptCall_certificateBoundTokenWithoutClientCertificate_refused() {
    String t =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .claim("cnf", Map.of("x5t#S256", b64(new byte[32])))
            .compact();
    assertRefused(t, "token_binding_mismatch");
    String unsupported =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .claim("cnf", Map.of("kid", "a-key-we-cannot-check"))
            .compact();
    assertRefused(unsupported, "unsupported_confirmation");
    String both =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
            .claim("cnf", Map.of("x5t#S256", b64(new byte[32]), "jkt", "x"))
            .compact();
    assertRefused(both, "unsupported_confirmation");
    // DPoP-bound (RFC 9449) but presented as a bearer token: refused (see DpopTest).
    String dpopBound =
        token(issuer, "rsa-1", RSA_1.getPrivate(), T0).claim("cnf", Map.of("jkt", "x")).compact();
    assertRefused(dpopBound, "dpop_scheme_mismatch");
  }

  @Test
  void interceptCall_typRequired_onlyAtJwtAccepted() throws Exception {
    AuthenticationServerInterceptor a =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(
                IssuerConfig.newBuilder(issuer, keys)
                    .audience(AUDIENCE)
                    .requireType("at+jwt")
                    .requireClaims("client_id")
                    .build())
            .clock(clock)
            .build();
    try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
      String plain =
          token(issuer, "rsa-1", RSA_1.getPrivate(), T0).claim("client_id", "c").compact();
      assertThat(h.callWithToken(plain).failure()).isEqualTo("wrong_type");
      String typed =
          token(issuer, "rsa-1", RSA_1.getPrivate(), T0)
              .header()
              .type("application/at+jwt")
              .and()
              .claim("client_id", "c")
              .compact();
      assertThat(h.callWithToken(typed).status().isOk()).isTrue();
      String noClientId =
          token(issuer, "rsa-1", RSA_1.getPrivate(), T0).header().type("at+jwt").and().compact();
      assertThat(h.callWithToken(noClientId).failure()).isEqualTo("missing_claim");
    }
  }

  @Test
  void interceptCall_twoIssuers_eachWithItsOwnKeys() throws Exception {
    try (KeySource other = KeySource.ofPublicKeys(Map.of("b-1", RSA_2.getPublic()))) {
      AuthenticationServerInterceptor a =
          AuthenticationServerInterceptor.newBuilder()
              .addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build())
              .addIssuer(
                  IssuerConfig.newBuilder("https://b.example", other)
                      .audience(AUDIENCE)
                      .algorithms("RS256")
                      .claimMapping(
                          ClaimMapping.newBuilder().rolesFrom("realm_access.roles").build())
                      .build())
              .clock(clock)
              .build();
      try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
        Result a1 = h.callWithToken(valid());
        assertThat(a1.status().isOk()).isTrue();
        String b =
            token("https://b.example", "b-1", RSA_2.getPrivate(), T0)
                .claim("realm_access", Map.of("roles", List.of("nurse")))
                .compact();
        Result b1 = h.callWithToken(b);
        assertThat(b1.status().isOk()).isTrue();
        assertThat(b1.principal().roles()).containsExactly("nurse");
        assertThat(b1.principal().issuer()).isEqualTo("https://b.example");
        // Issuer B's claim, issuer A's key: refused.
        String crossed = token("https://b.example", "rsa-1", RSA_1.getPrivate(), T0).compact();
        assertThat(h.callWithToken(crossed).failure()).isEqualTo("unknown_key");
        String unknown = token("https://c.example", "rsa-1", RSA_1.getPrivate(), T0).compact();
        assertThat(h.callWithToken(unknown).failure()).isEqualTo("unknown_issuer");
      }
    }
  }

  private KeySource discoveredKeys() throws Exception {
    return KeySource.fromOidcDiscovery(issuer)
        .clock(clock)
        .sslContext(MtlsTestSupport.httpsClientContext())
        .build();
  }

  private AuthenticationServerInterceptor interceptorFor(KeySource keys) {
    return AuthenticationServerInterceptor.newBuilder()
        .addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build())
        .clock(clock)
        .build();
  }

  @Test
  void interceptCall_oidcDiscovery_findsKeys() throws Exception {
    try (KeySource discovered = discoveredKeys()) {
      try (AuthenticationTestHarness h =
          new AuthenticationTestHarness(interceptorFor(discovered))) {
        assertThat(h.callWithToken(valid()).status().isOk()).isTrue();
        assertThat(idp.discoveryFetches.get()).isGreaterThanOrEqualTo(1);
      }
    }
  }

  @Test
  void interceptCall_discoveryNamesAnotherIssuer_unavailable() throws Exception {
    idp.discoveryIssuer = "https://impostor.example";
    try (KeySource discovered = discoveredKeys()) {
      try (AuthenticationTestHarness h =
          new AuthenticationTestHarness(interceptorFor(discovered))) {
        assertThat(h.callWithToken(valid()).status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      }
    }
  }

  @Test
  void interceptCall_oversizedJwksResponse_keysUnavailable() throws Exception {
    try (JwksTestServer big = new JwksTestServer();
        KeySource ks =
            KeySource.fromJwksUri(big.jwksUri())
                .clock(clock)
                .maxResponseBytes(4096)
                .INSECURE_allowPlainHttpForLoopbackTesting()
                .build()) {
      big.jwks = "{\"keys\":[],\"pad\":\"" + "x".repeat(8192) + "\"}";
      AuthenticationServerInterceptor a =
          AuthenticationServerInterceptor.newBuilder()
              .addIssuer(IssuerConfig.newBuilder(big.issuer(), ks).audience(AUDIENCE).build())
              .clock(clock)
              .build();
      try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
        Result r = h.callWithToken(token(big.issuer(), "rsa-1", RSA_1.getPrivate(), T0).compact());
        assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      }
    }
  }

  @Test
  void interceptCall_hmacIssuer_acceptsOnlyItsSecret() throws Exception {
    byte[] secret = new byte[32];
    new java.security.SecureRandom().nextBytes(secret);
    SecretKeySpec key = new SecretKeySpec(secret, "HmacSHA256");
    AuthenticationServerInterceptor a =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(
                IssuerConfig.newBuilder("https://hs.example", KeySource.ofHmacSecret(key))
                    .audience(AUDIENCE)
                    .build())
            .clock(clock)
            .build();
    try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
      String good = token("https://hs.example", "k", key, T0).compact();
      assertThat(h.callWithToken(good).status().isOk()).isTrue();
      String rsa = token("https://hs.example", "k", RSA_1.getPrivate(), T0).compact();
      assertThat(h.callWithToken(rsa).failure()).isEqualTo("algorithm_not_allowed");
    }
  }

  @Test
  void interceptCall_tokenCacheDisabled_stillVerifies() throws Exception {
    AuthenticationServerInterceptor a =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build())
            .tokenCacheSize(0)
            .clock(clock)
            .build();
    try (AuthenticationTestHarness h = new AuthenticationTestHarness(a)) {
      assertThat(h.callWithToken(valid()).status().isOk()).isTrue();
      assertThat(a.cachedTokens()).isZero();
    }
  }

  @Test
  void interceptCall_instantOfExpiryPlusSkew_boundaryHolds() {
    Instant issued = T0.minusSeconds(600 + 60);
    String t = token(issuer, "rsa-1", RSA_1.getPrivate(), issued).compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    clock.advanceSeconds(1);
    assertThat(harness.callWithToken(t).failure()).isEqualTo("expired_token");
  }
}
