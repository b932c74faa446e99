package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration refusals: unsafe or contradictory settings fail at build time. */
class IssuerConfigTest {

  private static final KeySource RSA_KEYS = KeySource.ofPublicKeys(Map.of("k", RSA_1.getPublic()));
  private static final KeySource HMAC_KEYS =
      KeySource.ofHmacSecret(new SecretKeySpec(new byte[32], "HmacSHA256"));

  @TempDir Path dir;

  @Test
  void build_noAudience_refused() {
    assertThatThrownBy(() -> IssuerConfig.newBuilder("https://i", RSA_KEYS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("audience");
  }

  @Test
  void algorithms_none_refused() {
    assertThatThrownBy(() -> IssuerConfig.newBuilder("https://i", RSA_KEYS).algorithms("none"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void build_hmacWithPublicKeysOrAsymmetricWithSecret_refused() {
    assertThatThrownBy(
            () ->
                IssuerConfig.newBuilder("https://i", RSA_KEYS)
                    .audience("a")
                    .algorithms("RS256", "HS256")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("HS");
    assertThatThrownBy(
            () ->
                IssuerConfig.newBuilder("https://i", HMAC_KEYS)
                    .audience("a")
                    .algorithms("RS256")
                    .build())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void build_defaults_asymmetricOnlyForPublicKeys() {
    IssuerConfig c = IssuerConfig.newBuilder("https://i", RSA_KEYS).audience("a").build();
    assertThat(c.algorithms()).doesNotContain("HS256", "none").contains("RS256", "ES256", "EdDSA");
    assertThat(c.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    IssuerConfig h = IssuerConfig.newBuilder("https://i", HMAC_KEYS).audience("a").build();
    assertThat(h.algorithms()).containsExactlyInAnyOrder("HS256", "HS384", "HS512");
  }

  @Test
  void clockSkew_outOfRange_refused() {
    assertThatThrownBy(
            () -> IssuerConfig.newBuilder("https://i", RSA_KEYS).clockSkew(Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ofHmacSecret_shortSecret_refused() {
    assertThatThrownBy(() -> KeySource.ofHmacSecret(new SecretKeySpec(new byte[16], "HmacSHA256")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void interceptorBuild_contradictions_refused() {
    IssuerConfig c = IssuerConfig.newBuilder("https://i", RSA_KEYS).audience("a").build();
    assertThatThrownBy(() -> AuthenticationServerInterceptor.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("addIssuer");
    assertThatThrownBy(
            () ->
                AuthenticationServerInterceptor.newBuilder()
                    .mode(AuthenticationServerInterceptor.Mode.TOKEN_AND_CERTIFICATE)
                    .addIssuer(c)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("peerPrincipalMapper");
    assertThatThrownBy(
            () -> AuthenticationServerInterceptor.newBuilder().addIssuer(c).addIssuer(c).build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> AuthenticationServerInterceptor.newBuilder().realm("a\"b"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ofJwkSetFile_realFile_loadsKeys_andRefusesGarbage() throws Exception {
    Path good =
        Files.writeString(
            dir.resolve("jwks.json"), JwtTestSupport.jwks(Map.of("k", RSA_1.getPublic())));
    try (KeySource ks = KeySource.ofJwkSetFile(good)) {
      assertThat(ks.resolve("k", "RS256")).isEqualTo(RSA_1.getPublic());
    }
    Path bad = Files.writeString(dir.resolve("bad.json"), "{\"keys\":[{\"kty\":\"RSA\"}]}");
    assertThatThrownBy(() -> KeySource.ofJwkSetFile(bad)).isInstanceOf(IOException.class);
    Path empty = Files.writeString(dir.resolve("empty.json"), "{\"keys\":[]}");
    assertThatThrownBy(() -> KeySource.ofJwkSetFile(empty)).isInstanceOf(IOException.class);
  }

  @Test
  void maxAge_cacheControlDirectives_parsed() {
    assertThat(HttpsJsonFetcher.maxAge(List.of("public, max-age=600")))
        .isEqualTo(Duration.ofMinutes(10));
    assertThat(HttpsJsonFetcher.maxAge(List.of("no-store"))).isEqualTo(Duration.ZERO);
    assertThat(HttpsJsonFetcher.maxAge(List.of("max-age=abc"))).isNull();
    assertThat(HttpsJsonFetcher.maxAge(List.of())).isNull();
  }

  @Test
  void jtiDenyList_boundedAndPurgesExpired() {
    JwtTestSupport.MutableClock clock = new JwtTestSupport.MutableClock(JwtTestSupport.T0);
    JtiDenyList list = JtiDenyList.create(clock, 2);
    list.revoke("i", "a", JwtTestSupport.T0.plusSeconds(10));
    list.revoke("i", "b", JwtTestSupport.T0.plusSeconds(100));
    assertThat(list.isRevoked("i", "a")).isTrue();
    assertThat(list.isRevoked("other", "a")).isFalse();
    assertThatThrownBy(() -> list.revoke("i", "c", JwtTestSupport.T0.plusSeconds(100)))
        .isInstanceOf(IllegalStateException.class);
    clock.advanceSeconds(11);
    list.revoke("i", "c", JwtTestSupport.T0.plusSeconds(100));
    assertThat(list.isRevoked("i", "a")).isFalse();
    assertThat(list.isRevoked("i", "c")).isTrue();
  }

  @Test
  void tokenCache_full_staysBounded() {
    VerifiedTokenCache cache = new VerifiedTokenCache(64);
    IssuerConfig c = IssuerConfig.newBuilder("https://i", RSA_KEYS).audience("a").build();
    for (int i = 0; i < 1000; i++) {
      VerifiedTokenCache.Key k = VerifiedTokenCache.keyOf("t" + i, ("t" + i).length());
      cache.put(
          k,
          new JwtVerified(
              c,
              RSA_1.getPublic(),
              "RS256",
              new byte[256],
              Long.MAX_VALUE / 2,
              0,
              Long.MAX_VALUE,
              null,
              null,
              null,
              dev.hipaagrpc.core.Principal.newBuilder(
                      "s",
                      dev.hipaagrpc.core.Principal.Kind.USER,
                      dev.hipaagrpc.core.Principal.AuthMethod.BEARER_TOKEN,
                      "f")
                  .build()),
          0);
      assertThat(cache.size()).isLessThanOrEqualTo(64);
    }
  }
}
