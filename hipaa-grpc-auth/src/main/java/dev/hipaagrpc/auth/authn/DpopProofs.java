package dev.hipaagrpc.auth.authn;

import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jws;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Clock;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Verifies DPoP proofs (RFC 9449) for gRPC calls.
 *
 * <p>A proof is a compact JWS in the {@code dpop} request header: header {@code typ: dpop+jwt}, an
 * asymmetric {@code alg} and the public key as {@code jwk} (no private members); claims {@code
 * jti}, {@code htm}, {@code htu}, {@code iat} and {@code ath}. For gRPC, {@code htm} is {@code
 * POST} and {@code htu} is {@code https://<:authority>/<full method name>} (what the request is on
 * the wire: an HTTP/2 POST to that path), compared exactly. The proof's key must have the RFC 7638
 * thumbprint of the token's {@code cnf.jkt}; {@code ath} must be the base64url SHA-256 of the
 * access token; {@code iat} within the window (default 60 s either way); and a {@code jti} may be
 * used once per key within the window (bounded replay cache). Server nonces are not used.
 *
 * <p>Thread-safe.
 */
final class DpopProofs {

  /** The proof algorithms accepted, as announced in the challenge's {@code algs}. */
  static final List<String> ALGORITHMS_IN_ORDER =
      List.of(
          "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA");

  static final Set<String> ALGORITHMS = Set.copyOf(ALGORITHMS_IN_ORDER);

  /** At most this many proofs are remembered for replay detection. */
  static final int REPLAY_CACHE = 100_000;

  private static final int MAX_PROOF_CHARS = 8192;
  private static final int MAX_JTI_CHARS = 256;

  private final Clock clock;
  private final long windowMillis;
  private final Map<String, Long> seen; // jkt + " " + jti -> expiry millis; access-ordered LRU

  DpopProofs(Clock clock, long windowMillis) {
    this.clock = clock;
    this.windowMillis = windowMillis;
    this.seen =
        new LinkedHashMap<>(1024, 0.75f, false) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REPLAY_CACHE;
          }
        };
  }

  /**
   * Checks {@code proof} for a call to {@code htu} presenting {@code accessToken} bound to {@code
   * jkt}.
   *
   * @throws CredentialFailure with a {@code dpop_*} code and the {@code invalid_dpop_proof} error
   */
  @SuppressWarnings("JavaUtilDate") // jjwt's Clock and Claims API
  void verify(@Nullable String proof, String htu, String accessToken, String jkt)
      throws CredentialFailure {
    if (proof == null) {
      throw invalid("dpop_proof_missing");
    }
    if (proof.length() > MAX_PROOF_CHARS) {
      throw invalid("dpop_malformed");
    }
    int dot = proof.indexOf('.');
    if (dot <= 0) {
      throw invalid("dpop_malformed");
    }
    Map<String, Object> header;
    try {
      header = JwtJson.parseObject(Base64.getUrlDecoder().decode(proof.substring(0, dot)));
    } catch (IllegalArgumentException e) {
      throw invalid("dpop_malformed");
    }
    if (header == null
        || !"dpop+jwt".equals(header.get("typ"))
        || !(header.get("alg") instanceof String alg)
        || !ALGORITHMS.contains(alg)
        || !(header.get("jwk") instanceof Map<?, ?> jwk)) {
      throw invalid("dpop_malformed");
    }
    PublicKey key;
    String thumbprint;
    try {
      Map<String, Object> params = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : jwk.entrySet()) {
        params.put(String.valueOf(e.getKey()), e.getValue());
      }
      Jwk<?> parsed = Jwks.builder().add(params).build();
      if (!(parsed instanceof PublicJwk<?> pub)) {
        throw invalid("dpop_malformed"); // a private or secret key in the proof
      }
      key = (PublicKey) pub.toKey();
      thumbprint = pub.thumbprint().toString();
    } catch (RuntimeException e) {
      throw invalid("dpop_malformed");
    }
    if (!MessageDigest.isEqual(
        thumbprint.getBytes(StandardCharsets.US_ASCII), jkt.getBytes(StandardCharsets.UTF_8))) {
      throw invalid("dpop_key_mismatch");
    }
    Claims claims;
    try {
      Jws<Claims> jws =
          Jwts.parser()
              .verifyWith(key)
              .json(JwtJson.STRICT_DESERIALIZER)
              .clock(() -> new Date(clock.millis()))
              .build()
              .parseSignedClaims(proof);
      claims = jws.getPayload();
    } catch (RuntimeException e) {
      throw invalid("dpop_bad_signature");
    }
    if (!(claims.get("jti") instanceof String jti)
        || jti.isEmpty()
        || jti.length() > MAX_JTI_CHARS) {
      throw invalid("dpop_malformed");
    }
    if (!"POST".equals(claims.get("htm"))) {
      throw invalid("dpop_wrong_htm");
    }
    if (!htu.equals(claims.get("htu"))) {
      throw invalid("dpop_wrong_htu");
    }
    Date iat = claims.getIssuedAt();
    long now = clock.millis();
    if (iat == null || Math.abs(now - iat.getTime()) > windowMillis) {
      throw invalid("dpop_stale");
    }
    if (!(claims.get("ath") instanceof String ath)
        || !MessageDigest.isEqual(
            ath.getBytes(StandardCharsets.US_ASCII),
            ath(accessToken).getBytes(StandardCharsets.US_ASCII))) {
      throw invalid("dpop_wrong_ath");
    }
    String replayKey = jkt + " " + jti;
    synchronized (seen) {
      Long until = seen.get(replayKey);
      if (until != null && until > now) {
        throw invalid("dpop_replay");
      }
      seen.put(replayKey, now + 2 * windowMillis);
    }
  }

  /** {@code ath}: base64url (no padding) SHA-256 of the access token's ASCII bytes. */
  static String ath(String accessToken) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(accessToken.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** gRPC's {@code htu}: the request's URL. */
  static String htu(String authority, String fullMethodName) {
    return "https://" + authority + "/" + fullMethodName;
  }

  static CredentialFailure invalidProof(String code) {
    return invalid(code);
  }

  private static CredentialFailure invalid(String code) {
    return new CredentialFailure(
        code,
        io.grpc.Status.Code.UNAUTHENTICATED,
        CredentialFailure.BearerError.INVALID_DPOP_PROOF);
  }
}
