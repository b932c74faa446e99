package dev.hipaagrpc.auth.authn;

import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicReference;

/** Keys, tokens, JWK Sets and a settable clock for the authentication tests. */
final class JwtTestSupport {

  static final String AUDIENCE = "patient-api";
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  static final KeyPair RSA_1 = generate("RSA", 2048);
  static final KeyPair RSA_2 = generate("RSA", 2048);
  static final KeyPair EC_256 = generateEc("secp256r1");
  static final KeyPair EC_384 = generateEc("secp384r1");
  static final KeyPair ED_25519 = generate("Ed25519", 0);
  static final KeyPair ATTACKER_RSA = generate("RSA", 2048);
  static final KeyPair ATTACKER_EC = generateEc("secp256r1");

  private JwtTestSupport() {}

  static KeyPair generate(String alg, int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
      if (bits > 0) {
        g.initialize(bits);
      }
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair generateEc(String curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JWK Set JSON document of {@code keys} by kid. */
  static String jwks(Map<String, PublicKey> keys) {
    StringJoiner j = new StringJoiner(",", "{\"keys\":[", "]}");
    keys.forEach((kid, key) -> j.add(Jwks.json(Jwks.builder().key(key).id(kid).build())));
    return j.toString();
  }

  /** A token builder with sane claims for {@code issuer}, issued at {@code now}, valid 10 min. */
  @SuppressWarnings("JavaUtilDate")
  static JwtBuilder token(String issuer, String kid, java.security.Key key, Instant now) {
    return Jwts.builder()
        .header()
        .keyId(kid)
        .and()
        .issuer(issuer)
        .audience()
        .add(AUDIENCE)
        .and()
        .subject("user-1")
        .id("jti-" + System.nanoTime())
        .issuedAt(Date.from(now))
        .expiration(Date.from(now.plusSeconds(600)))
        .claim("roles", java.util.List.of("clinician"))
        .claim("scope", "patient/Observation.read openid")
        .signWith(key);
  }

  static String b64(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static byte[] unb64(String s) {
    return Base64.getUrlDecoder().decode(s);
  }

  /** An ECDSA signature {@code r || s} with s replaced by {@code n - s}: it verifies as well. */
  static byte[] otherS(byte[] sig, java.math.BigInteger n) {
    int half = sig.length / 2;
    java.math.BigInteger s =
        new java.math.BigInteger(1, java.util.Arrays.copyOfRange(sig, half, sig.length));
    byte[] other = n.subtract(s).toByteArray();
    byte[] out = java.util.Arrays.copyOf(sig, sig.length);
    java.util.Arrays.fill(out, half, sig.length, (byte) 0);
    int len = Math.min(other.length, half);
    System.arraycopy(other, other.length - len, out, sig.length - len, len);
    return out;
  }

  /** Replaces the signature part of a compact JWS. */
  static String withSignature(String jws, byte[] signature) {
    return jws.substring(0, jws.lastIndexOf('.') + 1) + b64(signature);
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    private final AtomicReference<Instant> now;

    MutableClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void advanceSeconds(long seconds) {
      now.updateAndGet(i -> i.plusSeconds(seconds));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
