package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.AUDIENCE;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.testing.Echo;
import io.grpc.Metadata;
import io.grpc.Status;
import java.security.KeyPair;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DPoP (RFC 9449) over a real in-process call: a token bound with {@code cnf.jkt} is accepted only
 * with the DPoP scheme and a fresh, matching proof; each way a proof can be wrong is refused with
 * its own code and the {@code invalid_dpop_proof} challenge.
 */
class DpopTest {

  private static final String ISSUER = "https://idp.example";
  private static final KeyPair CLIENT = JwtTestSupport.generateEc("secp256r1");
  private static final KeyPair OTHER = JwtTestSupport.generateEc("secp256r1");
  private static final String HTU = "https://localhost/" + Echo.ECHO.getFullMethodName();
  private static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);

  private final JwtTestSupport.MutableClock clock = new JwtTestSupport.MutableClock(T0);
  private final DpopCallCredentials client =
      DpopCallCredentials.create(() -> boundToken(), CLIENT, clock);
  private AuthenticationTestHarness harness;

  private String boundToken() {
    return JwtTestSupport.token(ISSUER, "ec-1", EC_256.getPrivate(), T0)
        .claim("cnf", Map.of("jkt", client.jwkThumbprint()))
        .compact();
  }

  @BeforeEach
  void start() throws Exception {
    harness =
        new AuthenticationTestHarness(
            AuthenticationServerInterceptor.newBuilder()
                .addIssuer(
                    IssuerConfig.newBuilder(
                            ISSUER, KeySource.ofPublicKeys(Map.of("ec-1", EC_256.getPublic())))
                        .audience(AUDIENCE)
                        .build())
                .clock(clock)
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  private AuthenticationTestHarness.Result call(String authorization, String proof) {
    Metadata h = new Metadata();
    h.put(AuthenticationServerInterceptor.AUTHORIZATION, authorization);
    if (proof != null) {
      h.put(AuthenticationServerInterceptor.DPOP, proof);
    }
    return harness.call(h, null);
  }

  private static void assertRefused(AuthenticationTestHarness.Result r, String code) {
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo(code);
    assertThat(r.trailers().get(WWW_AUTHENTICATE)).startsWith("DPoP error=\"invalid_dpop_proof\"");
  }

  @Test
  void dpopCallCredentials_freshProofEachCall_acceptedAndBound() {
    for (int i = 0; i < 3; i++) { // the second and third hit the token cache: proofs still checked
      AuthenticationTestHarness.Result r = harness.call(new Metadata(), client);
      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.principal().authMethod()).isEqualTo(Principal.AuthMethod.DPOP_BOUND_TOKEN);
    }
  }

  @Test
  void proof_replayed_refused() {
    String token = boundToken();
    String proof = client.proof(HTU, token);
    assertThat(call("DPoP " + token, proof).status()).isEqualTo(Status.OK);
    assertRefused(call("DPoP " + token, proof), "dpop_replay");
  }

  @Test
  void proof_forAnotherMethod_refused() {
    String token = boundToken();
    assertRefused(
        call("DPoP " + token, client.proof("https://localhost/hipaagrpc.test.Echo/Other", token)),
        "dpop_wrong_htu");
    assertRefused(
        call(
            "DPoP " + token,
            client.proof("https://evil.example/" + Echo.ECHO.getFullMethodName(), token)),
        "dpop_wrong_htu");
  }

  @Test
  void proof_forAnotherToken_refused() {
    String token = boundToken();
    assertRefused(call("DPoP " + token, client.proof(HTU, token + "x")), "dpop_wrong_ath");
  }

  @Test
  void proof_staleOrFromTheFuture_refused() {
    String token = boundToken();
    JwtTestSupport.MutableClock past = new JwtTestSupport.MutableClock(T0.minusSeconds(61));
    DpopCallCredentials late = DpopCallCredentials.create(() -> token, CLIENT, past);
    assertRefused(call("DPoP " + token, late.proof(HTU, token)), "dpop_stale");
    DpopCallCredentials early =
        DpopCallCredentials.create(
            () -> token, CLIENT, Clock.fixed(T0.plusSeconds(61), ZoneOffset.UTC));
    assertRefused(call("DPoP " + token, early.proof(HTU, token)), "dpop_stale");
  }

  @Test
  void proof_signedWithAKeyOtherThanTheBoundOne_refused() {
    String token = boundToken();
    DpopCallCredentials thief = DpopCallCredentials.create(() -> token, OTHER, clock);
    assertRefused(call("DPoP " + token, thief.proof(HTU, token)), "dpop_key_mismatch");
  }

  @Test
  void proof_missingOrGarbage_refused() {
    String token = boundToken();
    assertRefused(call("DPoP " + token, null), "dpop_proof_missing");
    assertRefused(call("DPoP " + token, "not.a.proof"), "dpop_malformed");
  }

  @Test
  void boundToken_asBearer_orUnboundTokenAsDpop_refused() {
    String token = boundToken();
    AuthenticationTestHarness.Result r = call("Bearer " + token, client.proof(HTU, token));
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo("dpop_scheme_mismatch");
    String unbound = JwtTestSupport.token(ISSUER, "ec-1", EC_256.getPrivate(), T0).compact();
    assertThat(call("DPoP " + unbound, client.proof(HTU, unbound)).failure())
        .isEqualTo("dpop_scheme_mismatch");
  }
}
