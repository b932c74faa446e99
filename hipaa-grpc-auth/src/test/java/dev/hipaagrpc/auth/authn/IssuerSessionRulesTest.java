package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.core.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Per-issuer session rules (maximum token lifetime, required jti) and the authentication context
 * (acr, amr, auth_time) that step-up requirements read.
 */
class IssuerSessionRulesTest {

  private static final String ISS = "https://idp.hospital.example";
  private static final long NOW = T0.getEpochSecond();

  private static IssuerConfig.Builder issuer() {
    return IssuerConfig.newBuilder(ISS, KeySource.ofPublicKey(EC_256.getPublic())).audience("api");
  }

  private static Map<String, Object> claims(long lifetimeSeconds) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("iss", ISS);
    c.put("aud", "api");
    c.put("sub", "u1");
    c.put("jti", "t-1");
    c.put("iat", NOW);
    c.put("exp", NOW + lifetimeSeconds);
    return c;
  }

  @Test
  void maxTokenLifetime_longerTokenRefused_shorterAccepted() throws Exception {
    IssuerConfig.Builder b = issuer().maxTokenLifetime(Duration.ofMinutes(15));
    assertThat(IdpPresetsTest.verify(b, claims(900)).subject()).isEqualTo("u1");
    assertThatThrownBy(() -> IdpPresetsTest.verify(b, claims(901)))
        .isInstanceOf(CredentialFailure.class)
        .hasMessage("token_lifetime_too_long");
    assertThat(IdpPresetsTest.verify(issuer(), claims(86_400)).subject())
        .as("unbounded by default")
        .isEqualTo("u1");
  }

  @Test
  void requireTokenId_tokenWithoutJtiRefused() throws Exception {
    Map<String, Object> noJti = claims(60);
    noJti.remove("jti");
    assertThat(IdpPresetsTest.verify(issuer(), noJti).tokenId()).isNull();
    assertThatThrownBy(() -> IdpPresetsTest.verify(issuer().requireTokenId(), noJti))
        .isInstanceOf(CredentialFailure.class)
        .hasMessage("missing_jti");
  }

  @Test
  void authenticationContext_acrAmrAuthTimeMapped_malformedIgnored() throws Exception {
    Map<String, Object> c = claims(60);
    c.put("acr", "phr");
    c.put("amr", List.of("pwd", "mfa", "", 7));
    c.put("auth_time", NOW - 120);
    Principal p = IdpPresetsTest.verify(issuer(), c);
    assertThat(p.acr()).isEqualTo("phr");
    assertThat(p.amr()).containsExactly("pwd", "mfa");
    assertThat(p.authTime()).isEqualTo(T0.minusSeconds(120));

    c.put("amr", "mfa"); // RFC 8176: an array; a string names no method
    c.put("auth_time", "yesterday");
    c.put("acr", 2);
    Principal q = IdpPresetsTest.verify(issuer(), c);
    assertThat(q.amr()).isEmpty();
    assertThat(q.authTime()).isNull();
    assertThat(q.acr()).isNull();
  }

  @Test
  void maxTokenLifetime_notPositive_refusedAtConfiguration() {
    assertThatThrownBy(() -> issuer().maxTokenLifetime(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
