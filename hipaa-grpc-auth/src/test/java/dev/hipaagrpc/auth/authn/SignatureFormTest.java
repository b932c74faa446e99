package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** ECDSA signatures map to their low-S form; the JDK verifies both forms. */
class SignatureFormTest {

  private static byte[] sign(KeyPair kp, String jca, byte[] msg) throws Exception {
    Signature s = Signature.getInstance(jca);
    s.initSign(kp.getPrivate());
    s.update(msg);
    return s.sign();
  }

  private static boolean verify(KeyPair kp, String jca, byte[] msg, byte[] sig) throws Exception {
    Signature s = Signature.getInstance(jca);
    s.initVerify(kp.getPublic());
    s.update(msg);
    return s.verify(sig);
  }

  @Test
  void canonical_highAndLowS_sameLowForm() throws Exception {
    for (Object[] c :
        new Object[][] {
          {"ES256", JwtTestSupport.EC_256, "SHA256withECDSAinP1363Format"},
          {"ES384", JwtTestSupport.EC_384, "SHA384withECDSAinP1363Format"},
        }) {
      String alg = (String) c[0];
      KeyPair kp = (KeyPair) c[1];
      String jca = (String) c[2];
      BigInteger n = ((ECPublicKey) kp.getPublic()).getParams().getOrder();
      for (int i = 0; i < 20; i++) {
        byte[] msg = ("m" + i).getBytes(StandardCharsets.US_ASCII);
        byte[] sig = sign(kp, jca, msg);
        byte[] other = JwtTestSupport.otherS(sig, n);
        assertThat(verify(kp, jca, msg, other)).as("the JDK accepts both forms").isTrue();

        byte[] a = SignatureForm.canonical(alg, kp.getPublic(), sig);
        byte[] b = SignatureForm.canonical(alg, kp.getPublic(), other);

        assertThat(a).isEqualTo(b).hasSize(sig.length);
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(a, a.length / 2, a.length));
        assertThat(s.compareTo(n.shiftRight(1))).isLessThanOrEqualTo(0);
        assertThat(SignatureForm.same(alg, kp.getPublic(), a, sig)).isTrue();
        assertThat(SignatureForm.same(alg, kp.getPublic(), a, other)).isTrue();
        byte[] forged = sig.clone();
        forged[3] ^= 1;
        assertThat(SignatureForm.same(alg, kp.getPublic(), a, forged)).isFalse();
      }
    }
  }

  @Test
  void canonical_nonEcdsa_unchanged() throws Exception {
    byte[] rsa = sign(JwtTestSupport.RSA_1, "SHA256withRSA", new byte[] {1});
    assertThat(SignatureForm.canonical("RS256", JwtTestSupport.RSA_1.getPublic(), rsa))
        .isSameAs(rsa);
    byte[] ed = sign(JwtTestSupport.ED_25519, "Ed25519", new byte[] {1});
    assertThat(SignatureForm.canonical("EdDSA", JwtTestSupport.ED_25519.getPublic(), ed))
        .isSameAs(ed);
  }

  /** Why EdDSA needs no normalising: the JDK refuses the S + L variant (RFC 8032 5.1.7). */
  @Test
  void jdkEd25519_sPlusOrder_refused() throws Exception {
    byte[] msg = {1, 2, 3};
    byte[] sig = sign(JwtTestSupport.ED_25519, "Ed25519", msg);
    BigInteger l =
        BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
    byte[] sLe = Arrays.copyOfRange(sig, 32, 64);
    byte[] sBe = reverse(sLe);
    BigInteger bigger = new BigInteger(1, sBe).add(l);
    byte[] biggerBe = bigger.toByteArray();
    byte[] be32 = new byte[32];
    int len = Math.min(biggerBe.length, 32);
    System.arraycopy(biggerBe, biggerBe.length - len, be32, 32 - len, len);
    if (bigger.bitLength() > 256) {
      return; // does not fit 32 bytes: no such variant for this signature
    }
    byte[] variant = Arrays.copyOf(sig, 64);
    System.arraycopy(reverse(be32), 0, variant, 32, 32);
    assertThat(verify(JwtTestSupport.ED_25519, "Ed25519", msg, sig)).isTrue();
    boolean accepted;
    try {
      accepted = verify(JwtTestSupport.ED_25519, "Ed25519", msg, variant);
    } catch (java.security.SignatureException refused) {
      accepted = false; // the JDK says "s is too large"
    }
    assertThat(accepted).isFalse();
  }

  private static byte[] reverse(byte[] b) {
    byte[] r = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      r[i] = b[b.length - 1 - i];
    }
    return r;
  }
}
