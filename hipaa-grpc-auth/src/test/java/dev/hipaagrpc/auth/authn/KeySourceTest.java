package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authn.JwtTestSupport.MutableClock;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Remote key caching against a real HTTPS JWKS server: Cache-Control bounds, caller executor. */
class KeySourceTest {

  private JwksTestServer idp;
  private MutableClock clock;
  private ScheduledThreadPoolExecutor executor;

  @BeforeEach
  void setUp() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks = JwtTestSupport.jwks(Map.of("ec-1", EC_256.getPublic()));
    clock = new MutableClock(T0);
    executor = new ScheduledThreadPoolExecutor(1);
  }

  @AfterEach
  void tearDown() {
    executor.shutdownNow();
    idp.close();
  }

  private KeySource build() throws Exception {
    return KeySource.fromJwksUri(idp.jwksUri())
        .clock(clock)
        .executor(executor)
        .sslContext(MtlsTestSupport.httpsClientContext())
        .build();
  }

  /** Waits for a fetch count; the 30 s bound only keeps a broken build from hanging. */
  private void awaitFetches(int n) throws InterruptedException {
    long giveUp = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (idp.jwksFetches.get() < n && System.nanoTime() < giveUp) {
      Thread.sleep(5);
    }
    assertThat(idp.jwksFetches.get()).isGreaterThanOrEqualTo(n);
  }

  /** Waits until the executor completed {@code n} tasks; bounded like {@link #awaitFetches}. */
  private void awaitTasks(long n) throws InterruptedException {
    long giveUp = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (executor.getCompletedTaskCount() < n && System.nanoTime() < giveUp) {
      Thread.sleep(5);
    }
    assertThat(executor.getCompletedTaskCount()).isGreaterThanOrEqualTo(n);
  }

  @Test
  void resolve_withinMaxAge_noFetch_afterMaxAge_backgroundRefreshOnCallerExecutor()
      throws Exception {
    idp.cacheControl = "public, max-age=3600";
    try (KeySource ks = build()) {
      // Let the start-up refresh finish first: a lookup racing it fetches a second time, and
      // under load one of the two racing fetches can fail, which would blur the counts below.
      awaitFetches(1);
      awaitTasks(1);
      assertThat(ks.resolve("ec-1", "ES256")).isEqualTo(EC_256.getPublic());
      int afterFirst = idp.jwksFetches.get();

      clock.advanceSeconds(3000);
      assertThat(ks.resolve("ec-1", "ES256")).isEqualTo(EC_256.getPublic());
      assertThat(idp.jwksFetches.get()).isEqualTo(afterFirst);

      clock.advanceSeconds(700);
      assertThat(ks.resolve("ec-1", "ES256")).isEqualTo(EC_256.getPublic());
      awaitFetches(afterFirst + 1);
      // The provider counts the fetch before the refresh task returns: wait for the task too.
      long giveUp = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (executor.getCompletedTaskCount() < 2 && System.nanoTime() < giveUp) {
        Thread.sleep(5);
      }
      assertThat(executor.getCompletedTaskCount()).isGreaterThanOrEqualTo(2);
    }
    assertThat(executor.isShutdown()).as("the caller's executor is the caller's").isFalse();
  }

  @Test
  void fetch_providerStallsMidBody_failsAtTheDeadlineInsteadOfHanging() throws Exception {
    idp.bodyStall = new java.util.concurrent.CountDownLatch(1);
    try {
      HttpsJsonFetcher fetcher =
          new HttpsJsonFetcher(
              MtlsTestSupport.httpsClientContext(), java.time.Duration.ofMillis(300), 256 * 1024);
      // Without a deadline on the body the fetch would wait for the server's 10 s stall and then
      // succeed.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> fetcher.get(idp.jwksUri()))
          .isInstanceOf(java.io.IOException.class)
          .hasMessage("timed out");
    } finally {
      idp.bodyStall.countDown();
    }
  }

  @Test
  void fetch_bodyLargerThanCap_refused() throws Exception {
    HttpsJsonFetcher fetcher =
        new HttpsJsonFetcher(
            MtlsTestSupport.httpsClientContext(), java.time.Duration.ofSeconds(5), 16);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> fetcher.get(idp.jwksUri()))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("larger than 16 bytes");
  }

  @Test
  void resolve_maxAgeAboveBound_clampedToMaxCacheDuration() throws Exception {
    idp.cacheControl = "max-age=31536000";
    try (KeySource ks =
        KeySource.fromJwksUri(idp.jwksUri())
            .clock(clock)
            .executor(executor)
            .maxCacheDuration(java.time.Duration.ofHours(1))
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build()) {
      awaitFetches(1);
      awaitTasks(1); // the start-up refresh, before any lookup (see above)
      ks.resolve("ec-1", "ES256");
      int before = idp.jwksFetches.get();
      clock.advanceSeconds(3601);
      ks.resolve("ec-1", "ES256");
      awaitFetches(before + 1);
    }
  }

  @Test
  void resolve_jwkPinnedAlgorithm_otherAlgorithmRefused() throws Exception {
    idp.jwks =
        "{\"keys\":["
            + io.jsonwebtoken.security.Jwks.json(
                io.jsonwebtoken.security.Jwks.builder()
                    .key(EC_256.getPublic())
                    .id("ec-1")
                    .algorithm("ES256")
                    .build())
            + "]}";
    try (KeySource ks = build()) {
      assertThat(ks.resolve("ec-1", "ES256")).isEqualTo(EC_256.getPublic());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> ks.resolve("ec-1", "ES384"))
          .isInstanceOf(CredentialFailure.class)
          .extracting(f -> ((CredentialFailure) f).code())
          .isEqualTo("algorithm_mismatch");
    }
  }
}
