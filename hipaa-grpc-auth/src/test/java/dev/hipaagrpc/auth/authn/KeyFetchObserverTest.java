package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.auth.authn.KeyFetchObserver.Kind;
import dev.hipaagrpc.auth.authn.KeyFetchObserver.Outcome;
import dev.hipaagrpc.core.PostureItem;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every request to the identity provider is told to the observer with its outcome, and the
 * authentication layer's posture shows the keys in use and their age; a real HTTPS JWKS server on
 * loopback.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KeyFetchObserverTest {

  private JwksTestServer idp;
  private JwtTestSupport.MutableClock clock;
  private ScheduledThreadPoolExecutor executor;
  private final BlockingQueue<String> fetches = new LinkedBlockingQueue<>();
  private final KeyFetchObserver observer = (kind, outcome) -> fetches.add(kind + " " + outcome);

  @BeforeEach
  void setUp() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks = JwtTestSupport.jwks(Map.of("ec-1", EC_256.getPublic()));
    clock = new JwtTestSupport.MutableClock(T0);
    executor = new ScheduledThreadPoolExecutor(1);
  }

  @AfterEach
  void tearDown() {
    executor.shutdownNow();
    idp.close();
  }

  private KeySource.RemoteBuilder jwks() throws Exception {
    return KeySource.fromJwksUri(idp.jwksUri())
        .clock(clock)
        .executor(executor)
        .observer(observer)
        .sslContext(MtlsTestSupport.httpsClientContext());
  }

  private String next() throws InterruptedException {
    String f = fetches.poll(30, TimeUnit.SECONDS);
    assertThat(f).as("a fetch is reported").isNotNull();
    return f;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> keysPosture(AuthenticationServerInterceptor authn) {
    PostureItem issuers =
        authn.posture().stream().filter(i -> i.key().equals("auth.issuers")).findFirst().get();
    Map<String, Object> issuer = (Map<String, Object>) ((List<?>) issuers.value()).get(0);
    return (Map<String, Object>) issuer.get("keys");
  }

  private static PostureItem.Status issuersStatus(AuthenticationServerInterceptor authn) {
    return authn.posture().stream()
        .filter(i -> i.key().equals("auth.issuers"))
        .findFirst()
        .get()
        .status();
  }

  private static AuthenticationServerInterceptor authn(KeySource keys) {
    return AuthenticationServerInterceptor.newBuilder()
        .addIssuer(IssuerConfig.newBuilder("https://idp.example", keys).audience("records").build())
        .build();
  }

  @Test
  void jwksFetched_okReported_postureShowsKeyIdsAndAge() throws Exception {
    try (KeySource keys = jwks().build()) {
      assertThat(next()).isEqualTo("JWKS OK");
      assertThat(keys.keysFetchedAt()).isEqualTo(T0);
      AuthenticationServerInterceptor authn = authn(keys);
      clock.advanceSeconds(120);
      Map<String, Object> posture = keysPosture(authn);
      assertThat(posture.get("kind")).isEqualTo("jwks");
      assertThat(posture.get("keyIds")).isEqualTo(List.of("ec-1"));
      assertThat(posture.get("keyAgeSeconds")).isEqualTo(120L);
      assertThat(posture.get("lastFetchFailed")).isEqualTo(false);
      assertThat(issuersStatus(authn)).isEqualTo(PostureItem.Status.OK);
      // No key material in the posture: only ids.
      assertThat(authn.posture().toString()).doesNotContain("\"x\"").doesNotContain("\"d\"");
    }
  }

  @Test
  void jwksServerError_errorReported_postureWarns() throws Exception {
    idp.status = 500;
    try (KeySource keys = jwks().build()) {
      assertThat(next()).isEqualTo("JWKS ERROR");
      assertThat(keys.keysFetchedAt()).isNull();
      assertThat(keysPosture(authn(keys)).get("keysFetchedAt")).isEqualTo("never");
      assertThat(issuersStatus(authn(keys))).isEqualTo(PostureItem.Status.WARN);
    }
  }

  @Test
  void jwksNotAKeySet_rejectedReported() throws Exception {
    idp.jwks = "{\"keys\":[]}";
    try (KeySource keys = jwks().build()) {
      assertThat(next()).isEqualTo("JWKS REJECTED");
    }
  }

  @Test
  void discovery_thenJwks_bothReported() throws Exception {
    idp.discoveryIssuer = idp.issuer();
    try (KeySource keys =
        KeySource.fromOidcDiscovery(idp.issuer())
            .clock(clock)
            .executor(executor)
            .observer(observer)
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build()) {
      assertThat(next()).isEqualTo("DISCOVERY OK");
      assertThat(next()).isEqualTo("JWKS OK");
      assertThat(keysPosture(authn(keys)).get("kind")).isEqualTo("oidc_discovery");
    }
  }

  @Test
  void introspection_answerReportedOk_outageReportedError() throws Exception {
    TokenIntrospection ti =
        TokenIntrospection.newBuilder(idp.introspectionUri())
            .clientSecretBasic("records-api", "client-secret-do-not-print")
            .sslContext(MtlsTestSupport.httpsClientContext())
            .observer(observer)
            .clock(clock)
            .build();
    assertThatThrownBy(() -> ti.introspect("opaque-1")).isInstanceOf(CredentialFailure.class);
    assertThat(next()).isEqualTo("INTROSPECTION OK");
    idp.status = 503;
    assertThatThrownBy(() -> ti.introspect("opaque-2")).isInstanceOf(CredentialFailure.class);
    assertThat(next()).isEqualTo("INTROSPECTION ERROR");
    AuthenticationServerInterceptor authn =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(
                IssuerConfig.newBuilder("https://idp.example", ti).audience("records").build())
            .build();
    assertThat(authn.posture().toString())
        .contains("introspection")
        .doesNotContain("client-secret-do-not-print");
  }

  @Test
  void kindAndOutcomeTags_lowerCase() {
    assertThat(Kind.JWKS.tag()).isEqualTo("jwks");
    assertThat(Outcome.REJECTED.tag()).isEqualTo("rejected");
  }
}
