package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.jwks;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.auth.authn.JwtTestSupport.MutableClock;
import io.grpc.Status;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Opaque access tokens checked by RFC 7662 introspection at a real HTTPS endpoint on loopback:
 * active, inactive, outage, the cache bound, and the claim rules applied to the answer.
 */
class IntrospectionTest {
  private static final String AUDIENCE = "https://records.example";
  private static final String OPAQUE = "2YotnFZFEjr1zCsicMWpAA";
  private static final String SECRET = "s3cr3t&with=chars";

  private JwksTestServer idp;
  private MutableClock clock;
  private KeySource keys;
  private AuthenticationTestHarness harness;

  @BeforeEach
  void setUp() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks = jwks(Map.of("rsa-1", RSA_1.getPublic()));
    clock = new MutableClock(T0);
    keys =
        KeySource.fromJwksUri(idp.jwksUri())
            .clock(clock)
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build();
    harness = new AuthenticationTestHarness(interceptor(introspection().build(), true));
  }

  @AfterEach
  void tearDown() throws Exception {
    harness.close();
    keys.close();
    idp.close();
  }

  private TokenIntrospection.Builder introspection() throws Exception {
    return TokenIntrospection.newBuilder(idp.introspectionUri())
        .clientSecretBasic("records-api", SECRET)
        .sslContext(MtlsTestSupport.httpsClientContext())
        .clock(clock);
  }

  private AuthenticationServerInterceptor interceptor(TokenIntrospection ti, boolean withKeys) {
    IssuerConfig.Builder issuer =
        withKeys
            ? IssuerConfig.newBuilder(idp.issuer(), keys).introspection(ti)
            : IssuerConfig.newBuilder(idp.issuer(), ti);
    return AuthenticationServerInterceptor.newBuilder()
        .addIssuer(issuer.audience(AUDIENCE).build())
        .clock(clock)
        .build();
  }

  /** An active answer for a token valid for {@code seconds} from now, plus {@code extra}. */
  private String active(long seconds, String extra) {
    long now = clock.millis() / 1000;
    return "{\"active\":true,\"sub\":\"dr-house\",\"scope\":\"patient/*.read openid\","
        + "\"aud\":\""
        + AUDIENCE
        + "\",\"iss\":\""
        + idp.issuer()
        + "\",\"iat\":"
        + now
        + ",\"exp\":"
        + (now + seconds)
        + extra
        + "}";
  }

  private void answer(String json) {
    idp.introspectionAnswer = t -> OPAQUE.equals(t) ? json : "{\"active\":false}";
  }

  @Test
  void activeOpaqueTokenIsAcceptedAndMappedWithAuthenticatedRequest() {
    answer(active(300, ",\"client_id\":\"portal\",\"jti\":\"t-1\""));

    AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(r.response()).isEqualTo("dr-house");
    assertThat(r.principal().scopes()).contains("patient/*.read");
    assertThat(r.principal().issuer()).isEqualTo(idp.issuer());
    assertThat(r.principal().tokenId()).isEqualTo("t-1");
    // client_secret_basic: id and secret form-urlencoded, then base64 (RFC 6749 section 2.3.1).
    String basic = idp.lastIntrospectionAuthorization;
    assertThat(basic).startsWith("Basic ");
    assertThat(new String(Base64.getDecoder().decode(basic.substring(6)), StandardCharsets.UTF_8))
        .isEqualTo("records-api:s3cr3t%26with%3Dchars");
    assertThat(idp.lastIntrospectionForm)
        .isEqualTo("token=" + OPAQUE + "&token_type_hint=access_token");
  }

  @Test
  void activeAnswerIsCachedNoLongerThanTheBoundThenAskedAgain() {
    answer(active(3600, ""));
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
    assertThat(idp.introspectionRequests.get()).isEqualTo(1);

    clock.advanceSeconds(61); // past the default 60 s bound, well before exp
    idp.introspectionAnswer = t -> "{\"active\":false}"; // revoked at the issuer meanwhile

    AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);
    assertThat(idp.introspectionRequests.get()).isEqualTo(2);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("inactive_token");
  }

  @Test
  void activeAnswerIsNeverUsedPastTheTokensExp() {
    answer(active(10, ""));
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();

    clock.advanceSeconds(10 + 61); // exp plus the clock skew: expired, whatever the cache bound

    AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("expired_token");
  }

  @Test
  void zeroCacheTimeAsksOnEveryCall() throws Exception {
    harness.close();
    harness =
        new AuthenticationTestHarness(
            interceptor(introspection().maxCacheTime(Duration.ZERO).build(), true));
    answer(active(300, ""));
    for (int i = 0; i < 3; i++) {
      assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
    }
    assertThat(idp.introspectionRequests.get()).isEqualTo(3);
  }

  @Test
  void inactiveIsRefusedWithTheBearerChallengeAndNeverCachedAsValid() {
    idp.introspectionAnswer = t -> "{\"active\":false}";

    AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("inactive_token");
    assertThat(r.trailers().get(AuthenticationTestHarness.WWW_AUTHENTICATE))
        .contains("error=\"invalid_token\"");
    assertThat(r.status().getDescription()).doesNotContain(OPAQUE);

    // Remembered as inactive for a short while: a retrying client does not load the endpoint.
    assertThat(harness.callWithToken(OPAQUE).failure()).isEqualTo("inactive_token");
    assertThat(idp.introspectionRequests.get()).isEqualTo(1);

    // Activated at the issuer: accepted once the inactive memory lapses, never before.
    answer(active(300, ""));
    assertThat(harness.callWithToken(OPAQUE).failure()).isEqualTo("inactive_token");
    clock.advanceSeconds(11);
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
  }

  @Test
  void outageIsUnavailableLikeAJwksOutageAndNotRemembered() {
    idp.status = 503;

    AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(r.failure()).isEqualTo("introspection_unavailable");
    assertThat(r.status().getDescription()).doesNotContain("secret-detail").doesNotContain(OPAQUE);

    idp.status = 200;
    answer(active(300, ""));
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
  }

  @Test
  void answersThatAreNotRfc7662AreAnOutage() {
    for (String body :
        List.of("not json", "[]", "{\"active\":\"true\",\"sub\":\"x\"}", "{\"sub\":\"x\"}")) {
      idp.introspectionAnswer = t -> body;
      AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE);
      assertThat(r.status().getCode()).as(body).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(r.failure()).as(body).isEqualTo("introspection_unavailable");
    }
  }

  @Test
  void claimRulesApplyToTheAnswer() {
    long now = clock.millis() / 1000;
    String base = ",\"sub\":\"dr-house\",\"iat\":" + now + ",\"exp\":" + (now + 300);
    Map<String, String> cases =
        Map.of(
            "{\"active\":true,\"aud\":\"https://other.example\"" + base + "}",
            "wrong_audience",
            "{\"active\":true,\"aud\":\""
                + AUDIENCE
                + "\",\"iss\":\"https://evil.example\""
                + base
                + "}",
            "wrong_issuer",
            "{\"active\":true,\"aud\":\""
                + AUDIENCE
                + "\",\"token_type\":\"refresh_token\""
                + base
                + "}",
            "wrong_type",
            "{\"active\":true,\"aud\":\"" + AUDIENCE + "\",\"sub\":\"dr-house\"}",
            "missing_expiry",
            "{\"active\":true,\"aud\":\"" + AUDIENCE + "\",\"exp\":" + (now + 300) + "}",
            "missing_subject",
            "{\"active\":true,\"aud\":\"" + AUDIENCE + "\",\"exp\":\"soon\",\"sub\":\"a\"}",
            "wrong_claim_type",
            "{\"active\":true,\"aud\":\""
                + AUDIENCE
                + "\",\"cnf\":{\"x5t#S256\":\"abc\"}"
                + base
                + "}",
            "token_binding_mismatch",
            "{\"active\":true,\"aud\":\"" + AUDIENCE + "\",\"token_type\":\"DPoP\"" + base + "}",
            "wrong_type");
    int n = 0;
    for (Map.Entry<String, String> c : cases.entrySet()) {
      idp.introspectionAnswer = t -> c.getKey();
      // A token per case: an answer that verified (the bound one) is cached for its token.
      AuthenticationTestHarness.Result r = harness.callWithToken(OPAQUE + n++);
      assertThat(r.status().getCode()).as(c.getKey()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(r.failure()).as(c.getKey()).isEqualTo(c.getValue());
    }
  }

  @Test
  void jwtsAreStillVerifiedLocallyAndNeverSentToTheEndpoint() {
    String jwt =
        token(idp.issuer(), "rsa-1", RSA_1.getPrivate(), T0)
            .subject("dr-jwt")
            .audience()
            .add(AUDIENCE)
            .and()
            .compact();
    AuthenticationTestHarness.Result r = harness.callWithToken(jwt);
    assertThat(r.response()).isEqualTo("dr-jwt");

    // Three segments are a JWT whatever their spelling: a broken one is malformed, not asked about.
    assertThat(harness.callWithToken("abc.d!f.ghi").failure()).isEqualTo("malformed_token");
    assertThat(harness.callWithToken("a b").failure()).isNotNull();
    assertThat(idp.introspectionRequests.get()).isZero();
  }

  @Test
  void opaqueOnlyIssuerRefusesJwtsAndNonTokenCharacters() throws Exception {
    harness.close();
    harness = new AuthenticationTestHarness(interceptor(introspection().build(), false));
    answer(active(300, ""));
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();

    String jwt =
        token(idp.issuer(), "rsa-1", RSA_1.getPrivate(), T0)
            .subject("dr-jwt")
            .audience()
            .add(AUDIENCE)
            .and()
            .compact();
    assertThat(harness.callWithToken(jwt).failure()).isEqualTo("unknown_key");
    assertThat(harness.callWithToken("tok\"en").failure()).isEqualTo("malformed_token");
    assertThat(idp.introspectionRequests.get()).isEqualTo(1);
  }

  @Test
  void concurrentChecksOfOneNewTokenShareOneRequest() throws Exception {
    TokenIntrospection ti = introspection().build();
    answer(active(300, ""));
    idp.tokenGate = new CountDownLatch(1); // hold the endpoint until every caller waits
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Map<String, Object>>> checks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        checks.add(pool.submit(() -> ti.introspect(OPAQUE)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (idp.introspectionRequests.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      Thread.sleep(300); // let the other callers reach the shared request
      idp.tokenGate.countDown();
      for (Future<Map<String, Object>> f : checks) {
        assertThat(f.get(20, TimeUnit.SECONDS)).containsEntry("sub", "dr-house");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(idp.introspectionRequests.get()).isEqualTo(1);
  }

  @Test
  void aFloodOfMadeUpTokensDoesNotHoldUpReChecksOfTokensSeenActive() throws Exception {
    TokenIntrospection ti = introspection().maxConcurrentRequests(1).build();
    CountDownLatch hold = new CountDownLatch(1);
    String good = active(300, "");
    idp.introspectionAnswer =
        t -> {
          if (t.startsWith("flood")) {
            try {
              hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return good;
        };
    assertThat(ti.introspect(OPAQUE)).containsEntry("sub", "dr-house"); // now seen active
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Map<String, Object>> flood = pool.submit(() -> ti.introspect("flood-1"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (idp.introspectionRequests.get() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      // The one request for unknown tokens is taken: another unknown token is refused at once...
      assertThatThrownBy(() -> ti.introspect("flood-2"))
          .isInstanceOf(CredentialFailure.class)
          .hasMessage("introspection_unavailable");
      // ...while the session already in use is re-checked from its own pool.
      assertThat(ti.introspect(OPAQUE)).containsEntry("sub", "dr-house");
      hold.countDown();
      assertThat(flood.get(20, TimeUnit.SECONDS)).containsEntry("sub", "dr-house");
    } finally {
      hold.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void tlsClientAuthenticationSendsTheClientIdAndNoSecret() throws Exception {
    harness.close();
    harness =
        new AuthenticationTestHarness(
            interceptor(
                TokenIntrospection.newBuilder(idp.introspectionUri())
                    .tlsClientAuthentication("records-api")
                    .sslContext(MtlsTestSupport.httpsClientContext())
                    .clock(clock)
                    .build(),
                true));
    answer(active(300, ""));
    assertThat(harness.callWithToken(OPAQUE).status().isOk()).isTrue();
    assertThat(idp.lastIntrospectionAuthorization).isNull();
    assertThat(URLDecoder.decode(idp.lastIntrospectionForm, StandardCharsets.UTF_8))
        .endsWith("&client_id=records-api");
  }

  @Test
  void configurationMistakesFailAtBuildTime() throws Exception {
    assertThatThrownBy(
            () ->
                TokenIntrospection.newBuilder(URI.create("http://idp.example/introspect"))
                    .clientSecretBasic("a", "b")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https");
    assertThatThrownBy(() -> TokenIntrospection.newBuilder(idp.introspectionUri()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("client authentication");
    assertThatThrownBy(
            () ->
                TokenIntrospection.newBuilder(idp.introspectionUri())
                    .tlsClientAuthentication("a")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sslContext");
    TokenIntrospection ti = introspection().build();
    assertThat(ti.toString()).doesNotContain(SECRET);
    assertThatThrownBy(
            () ->
                AuthenticationServerInterceptor.newBuilder()
                    .addIssuer(IssuerConfig.newBuilder("https://a", ti).audience("x").build())
                    .addIssuer(IssuerConfig.newBuilder("https://b", ti).audience("x").build())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at most one issuer");
  }
}
