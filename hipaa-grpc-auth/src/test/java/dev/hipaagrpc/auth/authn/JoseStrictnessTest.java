package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.AUDIENCE;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.b64;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.jwks;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.token;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.unb64;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.withSignature;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authn.AuthenticationTestHarness.Result;
import dev.hipaagrpc.auth.authn.JwtTestSupport.MutableClock;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tokens signed with the identity provider's real key that RFC 7515/7519 (and our docs) still
 * refuse: lenient JSON, invalid UTF-8, duplicate members, non-canonical base64url; malleable
 * re-encodings keep one fingerprint and one cache entry; the bearer syntax of RFC 6750; distinct
 * failure codes for wrong issuer, audience and types.
 */
class JoseStrictnessTest {

  private static final String RSA_HEADER = "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}";

  private JwksTestServer idp;
  private MutableClock clock;
  private KeySource keys;
  private AuthenticationServerInterceptor interceptor;
  private AuthenticationTestHarness harness;
  private String issuer;

  @BeforeEach
  void setUp() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks =
        jwks(new LinkedHashMap<>(Map.of("rsa-1", RSA_1.getPublic(), "ec-1", EC_256.getPublic())));
    issuer = idp.issuer();
    clock = new MutableClock(T0);
    keys =
        KeySource.fromJwksUri(idp.jwksUri())
            .clock(clock)
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build();
    interceptor =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build())
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

  /** Claims that verify, as JSON text, with {@code extra} members inserted after the first. */
  private String claims(String extra) {
    long iat = T0.getEpochSecond();
    return "{\"iss\":\""
        + issuer
        + "\","
        + extra
        + "\"aud\":\""
        + AUDIENCE
        + "\",\"sub\":\"user-1\",\"iat\":"
        + iat
        + ",\"exp\":"
        + (iat + 600)
        + "}";
  }

  private static String rs256(String header, String payload) {
    return rs256(header.getBytes(StandardCharsets.UTF_8), payload.getBytes(StandardCharsets.UTF_8));
  }

  /** A compact JWS over exactly these header and payload bytes, signed with the real RSA key. */
  private static String rs256(byte[] header, byte[] payload) {
    String input = b64(header) + "." + b64(payload);
    return input + "." + b64(sign("SHA256withRSA", RSA_1.getPrivate(), input));
  }

  private static byte[] sign(String alg, PrivateKey key, String input) {
    try {
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return s.sign();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private Result assertRefused(String token, String code) {
    Result r = harness.callWithToken(token);
    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.failure()).isEqualTo(code);
    assertThat(r.principal()).isNull();
    assertThat(r.status().getDescription()).doesNotContain(token);
    assertThat(harness.callWithToken(rs256(RSA_HEADER, claims(""))).status().isOk()).isTrue();
    return r;
  }

  @Test
  void interceptCall_controlTokenFromTheseHelpers_accepted() {
    Result r = harness.callWithToken(rs256(RSA_HEADER, claims("")));
    assertThat(r.status().isOk()).isTrue();
    assertThat(r.response()).isEqualTo("user-1");
  }

  @Test
  void interceptCall_singleQuotedStrings_refused() {
    assertRefused(rs256("{\"alg\":\"RS256\",\"kid\":'rsa-1'}", claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\":'x',")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("'jti':\"x\",")), "malformed_token");
  }

  @Test
  void interceptCall_unquotedNamesOrValues_refused() {
    assertRefused(rs256("{alg:\"RS256\",kid:\"rsa-1\"}", claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("jti:\"x\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\":x,")), "malformed_token");
  }

  @Test
  void interceptCall_comments_refused() {
    assertRefused(
        rs256("{\"alg\":\"RS256\",/* c */\"kid\":\"rsa-1\"}", claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("// c\n")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("# c\n")), "malformed_token");
  }

  @Test
  void interceptCall_trailingTextOrOtherLeniencies_refused() {
    assertRefused(rs256(RSA_HEADER + " x", claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER + "{}", claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("") + "/**/"), "malformed_token");
    assertRefused(rs256("\uFEFF" + RSA_HEADER, claims("")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\":\"x\";")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\"=>\"x\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\":\"\\'\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"jti\":\"a\u0001b\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"x\":[1,],")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"x\":NaN,")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"x\":1e999,")), "malformed_token");
  }

  @Test
  void interceptCall_invalidUtf8_refusedNotReplaced() {
    byte[] header = RSA_HEADER.getBytes(StandardCharsets.UTF_8);
    String c = claims("");
    int at = c.indexOf("user-1") + 5;
    for (byte[] bad :
        new byte[][] {
          {(byte) 0xff},
          {(byte) 0xc3},
          {(byte) 0xc0, (byte) 0xaf},
          {(byte) 0xed, (byte) 0xa0, (byte) 0x80}
        }) {
      ByteArrayOutputStream payload = new ByteArrayOutputStream();
      payload.writeBytes(c.substring(0, at).getBytes(StandardCharsets.UTF_8));
      payload.writeBytes(bad);
      payload.writeBytes(c.substring(at).getBytes(StandardCharsets.UTF_8));
      assertRefused(rs256(header, payload.toByteArray()), "malformed_token");
      ByteArrayOutputStream badHeader = new ByteArrayOutputStream();
      badHeader.writeBytes(
          "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x\":\"".getBytes(StandardCharsets.UTF_8));
      badHeader.writeBytes(bad);
      badHeader.writeBytes("\"}".getBytes(StandardCharsets.UTF_8));
      assertRefused(
          rs256(badHeader.toByteArray(), c.getBytes(StandardCharsets.UTF_8)), "malformed_token");
    }
    // Valid multi-byte UTF-8 is fine.
    assertThat(
            harness
                .callWithToken(rs256(RSA_HEADER, claims("\"name\":\"Zoë 😀\",")))
                .status()
                .isOk())
        .isTrue();
  }

  @Test
  void interceptCall_unpairedSurrogateEscape_refused() {
    assertRefused(rs256(RSA_HEADER, claims("\"name\":\"\\ud800\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"name\":\"\\udc00x\",")), "malformed_token");
  }

  @Test
  void interceptCall_duplicateHeaderMember_refusedWhicheverComesLast() {
    // Both orders: a test that passes only because the last "alg" is "none" proves nothing.
    assertRefused(
        rs256("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", claims("")),
        "malformed_token");
    assertRefused(
        rs256("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"kid\":\"rsa-1\"}", claims("")),
        "malformed_token");
    // Names compare after unescaping.
    assertRefused(
        rs256("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"\\u006bid\":\"rsa-1\"}", claims("")),
        "malformed_token");
  }

  @Test
  void interceptCall_duplicateClaim_refused() {
    assertRefused(rs256(RSA_HEADER, claims("\"sub\":\"admin\",")), "malformed_token");
    assertRefused(rs256(RSA_HEADER, claims("\"x\":{\"a\":1,\"a\":2},")), "malformed_token");
  }

  @Test
  void interceptCall_paddingOrStandardAlphabet_refused() {
    String t = rs256(RSA_HEADER, claims(""));
    String[] p = t.split("\\.", -1);
    assertRefused(p[0] + "=." + p[1] + "." + p[2], "malformed_token");
    assertRefused(p[0] + "." + p[1] + "." + p[2] + "==", "malformed_token");
    byte[] sig = unb64(p[2]);
    String standard = java.util.Base64.getEncoder().withoutPadding().encodeToString(sig);
    if (!standard.equals(p[2])) {
      assertRefused(p[0] + "." + p[1] + "." + standard, "malformed_token");
    }
  }

  /** Sets the unused low bits of the last character: the same bytes, another spelling. */
  private static String withTrailingBits(String segment) {
    int rem = segment.length() % 4;
    assertThat(rem).as("segment length leaves unused bits").isIn(2, 3);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = alphabet.indexOf(segment.charAt(segment.length() - 1));
    int changed = v | 0x01; // bit 0 is unused whether 2 or 4 bits are
    String out = segment.substring(0, segment.length() - 1) + alphabet.charAt(changed);
    assertThat(unb64(out)).isEqualTo(unb64(segment));
    return out;
  }

  @Test
  void interceptCall_nonZeroUnusedBitsInAnySegment_refused() {
    // Header and payload lengths chosen so that each segment has unused bits (length % 3 != 0).
    String header = RSA_HEADER;
    while (header.length() % 3 == 0) {
      header = header.substring(0, header.length() - 1) + " }";
    }
    String payload = claims("");
    while (payload.length() % 3 == 0) {
      payload = payload.substring(0, payload.length() - 1) + " }";
    }
    String t = rs256(header, payload);
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    String[] p = t.split("\\.", -1);
    assertRefused(withTrailingBits(p[0]) + "." + p[1] + "." + p[2], "malformed_token");
    assertRefused(p[0] + "." + withTrailingBits(p[1]) + "." + p[2], "malformed_token");
    // The signature variant of a token that is in the cache must not be served from it.
    assertRefused(p[0] + "." + p[1] + "." + withTrailingBits(p[2]), "malformed_token");
  }

  /** The same ES256 token with s replaced by n - s: another valid signature of the same input. */
  private static String highS(String es256) {
    byte[] sig = unb64(es256.substring(es256.lastIndexOf('.') + 1));
    BigInteger n = ((ECPublicKey) EC_256.getPublic()).getParams().getOrder();
    return withSignature(es256, JwtTestSupport.otherS(sig, n));
  }

  @Test
  void interceptCall_highAndLowSEcdsa_oneFingerprintOneCacheEntry() {
    String t = token(issuer, "ec-1", EC_256.getPrivate(), T0).compact();
    String variant = highS(t);
    assertThat(variant).isNotEqualTo(t);

    Result first = harness.callWithToken(t);
    Result second = harness.callWithToken(variant);

    assertThat(first.status().isOk()).isTrue();
    assertThat(second.status().isOk()).isTrue();
    assertThat(second.principal().credentialFingerprint())
        .isEqualTo(first.principal().credentialFingerprint());
    assertThat(interceptor.cachedTokens()).isEqualTo(1);
    // Each spelling has its exact entry in front of the one canonical entry, and both give the
    // one verification result.
    assertThat(interceptor.cachedSpellings()).isEqualTo(2);
    Result again = harness.callWithToken(variant);
    assertThat(again.status().isOk()).isTrue();
    assertThat(again.principal()).isSameAs(first.principal());
    assertThat(interceptor.cachedTokens()).isEqualTo(1);
  }

  @Test
  void interceptCall_highSFirstThenLowS_sameFingerprint() {
    String t = token(issuer, "ec-1", EC_256.getPrivate(), T0).compact();
    Result high = harness.callWithToken(highS(t));
    Result low = harness.callWithToken(t);
    assertThat(high.status().isOk()).isTrue();
    assertThat(low.principal().credentialFingerprint())
        .isEqualTo(high.principal().credentialFingerprint());
  }

  @Test
  void interceptCall_forgedSignatureOnCachedSigningInput_refusedAndEntryKept() {
    String t = token(issuer, "ec-1", EC_256.getPrivate(), T0).compact();
    assertThat(harness.callWithToken(t).status().isOk()).isTrue();
    byte[] sig = unb64(t.substring(t.lastIndexOf('.') + 1));
    sig[5] ^= 1;
    assertRefused(withSignature(t, sig), "invalid_token");
    Result again = harness.callWithToken(t);
    assertThat(again.status().isOk()).isTrue();
    assertThat(interceptor.cachedTokens()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void interceptCall_freshRsaTokenFingerprint_isSha256OfTheTokenAsSent() throws Exception {
    String t = rs256(RSA_HEADER, claims(""));
    byte[] d =
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(t.getBytes(StandardCharsets.US_ASCII));
    assertThat(harness.callWithToken(t).principal().credentialFingerprint())
        .isEqualTo(java.util.HexFormat.of().formatHex(d, 0, 16));
  }

  @Test
  void interceptCall_bearerFollowedBySeveralSpaces_accepted() {
    String t = rs256(RSA_HEADER, claims(""));
    for (String prefix : new String[] {"Bearer  ", "Bearer     ", "bearer  "}) {
      Metadata h = new Metadata();
      h.put(AuthenticationTestHarness.AUTHORIZATION, prefix + t);
      Result r = harness.call(h, null);
      assertThat(r.status().isOk()).as(prefix).isTrue();
    }
  }

  @Test
  void interceptCall_bearerFollowedByTabOrNothing_refused() {
    String t = rs256(RSA_HEADER, claims(""));
    Metadata tab = new Metadata();
    tab.put(AuthenticationTestHarness.AUTHORIZATION, "Bearer\t" + t);
    assertThat(harness.call(tab, null).failure()).isEqualTo("unsupported_scheme");
    Metadata empty = new Metadata();
    empty.put(AuthenticationTestHarness.AUTHORIZATION, "Bearer   ");
    assertThat(harness.call(empty, null).status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void interceptCall_wrongIssuer_refusedAsWrongIssuer() {
    String t = rs256(RSA_HEADER, claims("").replace(issuer, issuer + "/"));
    assertRefused(t, "wrong_issuer");
    assertRefused(
        token("https://evil.example", "rsa-1", RSA_1.getPrivate(), T0).compact(), "wrong_issuer");
  }

  @Test
  void interceptCall_wrongOrMissingAudience_refusedAsWrongAudience() {
    assertRefused(
        rs256(RSA_HEADER, claims("").replace("\"" + AUDIENCE + "\"", "\"another-api\"")),
        "wrong_audience");
    assertRefused(
        rs256(RSA_HEADER, claims("").replace("\"aud\":\"" + AUDIENCE + "\",", "")),
        "wrong_audience");
  }

  @Test
  void interceptCall_registeredClaimOfWrongType_refusedAsWrongClaimType() {
    long exp = T0.getEpochSecond() + 600;
    String c = claims("");
    assertRefused(
        rs256(RSA_HEADER, c.replace("\"exp\":" + exp, "\"exp\":\"" + T0.plusSeconds(600) + "\"")),
        "wrong_claim_type");
    assertRefused(
        rs256(RSA_HEADER, c.replace("\"exp\":" + exp, "\"exp\":\"" + exp + "\"")),
        "wrong_claim_type");
    assertRefused(
        rs256(
            RSA_HEADER,
            c.replace("\"aud\":\"" + AUDIENCE + "\"", "\"aud\":[\"" + AUDIENCE + "\",7]")),
        "wrong_claim_type");
    assertRefused(
        rs256(RSA_HEADER, c.replace("\"sub\":\"user-1\"", "\"sub\":1")), "wrong_claim_type");
  }
}
