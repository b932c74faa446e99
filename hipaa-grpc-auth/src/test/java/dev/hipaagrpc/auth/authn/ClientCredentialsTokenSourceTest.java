package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.auth.authn.JwtTestSupport.MutableClock;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OAuth 2.0 client-credentials grant against a real HTTPS token endpoint on loopback. */
class ClientCredentialsTokenSourceTest {

  private JwksTestServer endpoint;
  private MutableClock clock;
  private final AtomicInteger issued = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    endpoint = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    endpoint.tokenResponse =
        () ->
            "{\"access_token\":\"tok-"
                + issued.incrementAndGet()
                + "\",\"token_type\":\"bearer\",\"expires_in\":300}";
    // Not JwtTestSupport.T0: that would generate its RSA keys, which this test does not need.
    clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  }

  @AfterEach
  void tearDown() {
    endpoint.close();
  }

  private ClientCredentialsTokenSource source() throws Exception {
    return ClientCredentialsTokenSource.newBuilder(endpoint.tokenUri(), "my client", "p@ss:word")
        .scopes("a", "b")
        .audience("patient-api")
        .clock(clock)
        .sslContext(MtlsTestSupport.httpsClientContext())
        .build();
  }

  @Test
  void token_cachedUntilShortlyBeforeExpiry() throws Exception {
    ClientCredentialsTokenSource s = source();

    assertThat(s.token()).isEqualTo("tok-1");
    assertThat(s.token()).isEqualTo("tok-1");
    clock.advanceSeconds(239);
    assertThat(s.token()).isEqualTo("tok-1");
    clock.advanceSeconds(1); // 60 s before expiry
    assertThat(s.token()).isEqualTo("tok-2");
    assertThat(endpoint.tokenRequests.get()).isEqualTo(2);
  }

  @Test
  void token_sendsBasicAuthAndForm() throws Exception {
    source().token();

    String expected =
        "Basic "
            + Base64.getEncoder()
                .encodeToString("my+client:p%40ss%3Aword".getBytes(StandardCharsets.UTF_8));
    assertThat(endpoint.lastTokenAuthorization).isEqualTo(expected);
    assertThat(endpoint.lastTokenForm)
        .isEqualTo("grant_type=client_credentials&scope=a+b&audience=patient-api");
  }

  @Test
  void token_rfc8707Resources_sentOneParameterEach() throws Exception {
    ClientCredentialsTokenSource.newBuilder(endpoint.tokenUri(), "c", "s")
        .resource(
            java.net.URI.create("https://records.hospital.example/"),
            java.net.URI.create("https://labs.hospital.example/fhir"))
        .clock(clock)
        .sslContext(MtlsTestSupport.httpsClientContext())
        .build()
        .token();
    assertThat(endpoint.lastTokenForm)
        .isEqualTo(
            "grant_type=client_credentials"
                + "&resource=https%3A%2F%2Frecords.hospital.example%2F"
                + "&resource=https%3A%2F%2Flabs.hospital.example%2Ffhir");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ClientCredentialsTokenSource.newBuilder(endpoint.tokenUri(), "c", "s")
                    .resource(java.net.URI.create("https://x.example/#frag")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void invalidateIssuedBefore_dropsOnlyATokenFetchedEarlier() throws Exception {
    ClientCredentialsTokenSource s = source();
    assertThat(s.token()).isEqualTo("tok-1");
    s.invalidateIssuedBefore(clock.instant().minusSeconds(1));
    assertThat(s.token()).as("fetched after that instant: kept").isEqualTo("tok-1");
    clock.advanceSeconds(5);
    s.invalidateIssuedBefore(clock.instant());
    assertThat(s.token()).isEqualTo("tok-2");
    assertThat(endpoint.tokenRequests.get()).isEqualTo(2);
  }

  @Test
  void token_manyConcurrentCallers_oneRequest() throws Exception {
    ClientCredentialsTokenSource s = source();
    endpoint.tokenGate = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        results.add(pool.submit(s::token));
      }
      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (endpoint.tokenRequests.get() == 0 && System.nanoTime() < giveUp) {
        Thread.sleep(5);
      }
      assertThat(endpoint.tokenRequests.get()).as("a token request within 30 s").isPositive();
      endpoint.tokenGate.countDown();
      for (Future<String> f : results) {
        assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo("tok-1");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(endpoint.tokenRequests.get()).isEqualTo(1);
  }

  @Test
  void token_endpointFailsWhileCachedTokenValid_returnsCachedToken() throws Exception {
    ClientCredentialsTokenSource s = source();
    assertThat(s.token()).isEqualTo("tok-1");
    endpoint.status = 500;
    clock.advanceSeconds(250);

    assertThat(s.token()).isEqualTo("tok-1");

    clock.advanceSeconds(60);
    assertThatThrownBy(s::token)
        .isInstanceOf(IOException.class)
        .hasMessageNotContaining("secret-detail");
  }

  @Test
  void token_responseWithoutBearerToken_refused() throws Exception {
    endpoint.tokenResponse = () -> "{\"access_token\":\"x\",\"token_type\":\"mac\"}";
    assertThatThrownBy(source()::token).isInstanceOf(IOException.class);
    endpoint.tokenResponse = () -> "{\"access_token\":\"a\\r\\nb\",\"token_type\":\"Bearer\"}";
    assertThatThrownBy(source()::token).isInstanceOf(IOException.class);
    endpoint.tokenResponse = () -> "not json";
    assertThatThrownBy(source()::token).isInstanceOf(IOException.class);
  }

  @Test
  void build_plainHttpEndpoint_refusedUnlessLoopbackOptIn() {
    assertThatThrownBy(
            () ->
                ClientCredentialsTokenSource.newBuilder(
                        URI.create("http://idp.example/token"), "c", "s")
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(
            ClientCredentialsTokenSource.newBuilder(
                    URI.create("http://127.0.0.1:9/token"), "c", "s")
                .INSECURE_allowPlainHttpForLoopbackTesting()
                .build()
                .toString())
        .doesNotContain("s\"");
  }
}
