package dev.hipaagrpc.auth.authn;

import java.security.Key;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAKey;

/**
 * Checks a JWS signature's raw bytes before any JCA verifier sees them.
 *
 * <p>RFC 7518 fixes the signature length of every algorithm; the JDK's verifiers accept some
 * shorter, longer or DER-wrapped encodings, and the JDK 15-18 ECDSA verifier accepted an all-zero
 * signature for any message (CVE-2022-21449). So: ECDSA signatures must be exactly {@code 2 *
 * ceil(bits/8)} bytes with neither r nor s zero; EdDSA 64 (Ed25519) or 114 (Ed448) bytes; RSA the
 * modulus length; HMAC the digest length.
 */
final class SignatureLengthCheck {

  private SignatureLengthCheck() {}

  /** Returns whether {@code sig} has the exact length {@code alg} prescribes for {@code key}. */
  static boolean acceptable(String alg, Key key, byte[] sig) {
    return switch (alg) {
      case "ES256" -> ecdsa(sig, 32);
      case "ES384" -> ecdsa(sig, 48);
      case "ES512" -> ecdsa(sig, 66);
      case "EdDSA" -> sig.length == edDsaLength(key) && !allZero(sig, 0, sig.length);
      case "HS256" -> sig.length == 32;
      case "HS384" -> sig.length == 48;
      case "HS512" -> sig.length == 64;
      case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512" -> {
        if (!(key instanceof RSAKey rsa)) {
          yield false;
        }
        int modulusBytes = (rsa.getModulus().bitLength() + 7) / 8;
        yield sig.length == modulusBytes && !allZero(sig, 0, sig.length);
      }
      default -> false;
    };
  }

  private static boolean ecdsa(byte[] sig, int half) {
    return sig.length == 2 * half && !allZero(sig, 0, half) && !allZero(sig, half, 2 * half);
  }

  private static int edDsaLength(Key key) {
    if (key instanceof EdECKey ed) {
      String curve = ed.getParams().getName();
      if ("Ed25519".equalsIgnoreCase(curve)) {
        return 64;
      }
      if ("Ed448".equalsIgnoreCase(curve)) {
        return 114;
      }
    }
    return -1;
  }

  private static boolean allZero(byte[] b, int from, int to) {
    int acc = 0;
    for (int i = from; i < to; i++) {
      acc |= b[i];
    }
    return acc == 0;
  }
}
