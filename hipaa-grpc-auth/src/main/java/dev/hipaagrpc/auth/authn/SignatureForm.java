package dev.hipaagrpc.auth.authn;

import java.math.BigInteger;
import java.security.Key;
import java.security.MessageDigest;
import java.security.interfaces.ECKey;
import java.util.Arrays;

/**
 * The one accepted form of a JWS signature, for fingerprints and the verified-token cache.
 *
 * <p>Without the signer's key, the only way to re-encode a valid token into another valid one is
 * ECDSA's malleability: if {@code (r, s)} verifies, so does {@code (r, n - s)}. Both are accepted
 * (identity providers sign with either, and refusing "high S" would refuse about half of their
 * tokens), and both are mapped to the low-S form {@code s <= n/2} here. Every other algorithm the
 * verifier allows has one encoding per signature: RSA and HMAC are deterministic or fixed-length
 * with values below the modulus, EdDSA verifiers refuse {@code S >= L}, and base64url is canonical
 * by {@link JwtJson#isCanonicalBase64Url}.
 */
final class SignatureForm {

  private SignatureForm() {}

  /** Returns {@code sig} in canonical form (low S for ECDSA; unchanged otherwise). */
  static byte[] canonical(String alg, Key key, byte[] sig) {
    if (!alg.startsWith("ES") || !(key instanceof ECKey ec) || sig.length % 2 != 0) {
      return sig;
    }
    BigInteger n = ec.getParams().getOrder();
    int half = sig.length / 2;
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(sig, half, sig.length));
    if (s.compareTo(n.shiftRight(1)) <= 0 || s.compareTo(n) >= 0) {
      // Already low, or not a valid s at all (the verifier refuses it; nothing to normalise).
      return sig;
    }
    byte[] low = n.subtract(s).toByteArray(); // big-endian, possibly shorter than half
    byte[] out = Arrays.copyOf(sig, sig.length);
    Arrays.fill(out, half, sig.length, (byte) 0);
    int copy = Math.min(low.length, half);
    System.arraycopy(low, low.length - copy, out, sig.length - copy, copy);
    return out;
  }

  /**
   * Whether {@code presented} is the signature {@code canonical} in any accepted form. Compares in
   * constant time: a cached signature is as sensitive as the token it completes.
   */
  static boolean same(String alg, Key key, byte[] canonical, byte[] presented) {
    return MessageDigest.isEqual(canonical, presented)
        || MessageDigest.isEqual(canonical, canonical(alg, key, presented));
  }
}
