package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.Key;
import java.security.KeyPair;
import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** RFC 7518 signature lengths, checked on raw bytes before any JCA verifier. */
class SignatureLengthCheckTest {

  private static final KeyPair ED_448 = JwtTestSupport.generate("Ed448", 0);
  private static final Key HMAC = new SecretKeySpec(new byte[64], "HmacSHA512");

  private static byte[] ones(int n) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) 1);
    return b;
  }

  @Test
  void acceptable_ecdsaExactLengthsOnly() {
    Key ec = JwtTestSupport.EC_256.getPublic();
    assertThat(SignatureLengthCheck.acceptable("ES256", ec, ones(64))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("ES384", ec, ones(96))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("ES512", ec, ones(132))).isTrue();
    for (int n : new int[] {0, 63, 65, 70, 72, 128}) {
      assertThat(SignatureLengthCheck.acceptable("ES256", ec, ones(n))).as("len %d", n).isFalse();
    }
    assertThat(SignatureLengthCheck.acceptable("ES512", ec, ones(130))).isFalse();
  }

  @Test
  void acceptable_ecdsaZeroRorS_refused() {
    Key ec = JwtTestSupport.EC_256.getPublic();
    byte[] zeroR = ones(64);
    Arrays.fill(zeroR, 0, 32, (byte) 0);
    byte[] zeroS = ones(64);
    Arrays.fill(zeroS, 32, 64, (byte) 0);
    assertThat(SignatureLengthCheck.acceptable("ES256", ec, zeroR)).isFalse();
    assertThat(SignatureLengthCheck.acceptable("ES256", ec, zeroS)).isFalse();
    assertThat(SignatureLengthCheck.acceptable("ES256", ec, new byte[64])).isFalse();
  }

  @Test
  void acceptable_eddsaByCurve_rsaByModulus_hmacByDigest() {
    Key ed25519 = JwtTestSupport.ED_25519.getPublic();
    assertThat(SignatureLengthCheck.acceptable("EdDSA", ed25519, ones(64))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("EdDSA", ed25519, ones(114))).isFalse();
    assertThat(SignatureLengthCheck.acceptable("EdDSA", ED_448.getPublic(), ones(114))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("EdDSA", ED_448.getPublic(), ones(64))).isFalse();
    Key rsa = JwtTestSupport.RSA_1.getPublic();
    assertThat(SignatureLengthCheck.acceptable("PS256", rsa, ones(256))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("RS256", rsa, ones(255))).isFalse();
    assertThat(SignatureLengthCheck.acceptable("RS256", rsa, new byte[256])).isFalse();
    assertThat(SignatureLengthCheck.acceptable("RS256", ed25519, ones(256))).isFalse();
    assertThat(SignatureLengthCheck.acceptable("HS512", HMAC, ones(64))).isTrue();
    assertThat(SignatureLengthCheck.acceptable("HS256", HMAC, ones(31))).isFalse();
    assertThat(SignatureLengthCheck.acceptable("none", HMAC, new byte[0])).isFalse();
  }
}
