package dev.hipaagrpc.tls;

import java.security.AlgorithmConstraints;
import java.security.AlgorithmParameters;
import java.security.CryptoPrimitive;
import java.security.Key;
import java.util.Set;

/**
 * Restricts one connection to its profile's handshake signature schemes and key-exchange groups.
 *
 * <p>Set on each engine through {@code SSLParameters.setAlgorithmConstraints}, which every JDK from
 * 17 consults (on top of its own {@code jdk.tls.disabledAlgorithms}) both for the schemes it offers
 * and for the ones it accepts from the peer: the signature of a TLS 1.2 ServerKeyExchange, of a
 * CertificateVerify in either direction, and the lists sent in {@code signature_algorithms}, {@code
 * signature_algorithms_cert}, {@code supported_groups} and a CertificateRequest. JSSE asks about
 * TLS names (lower case: {@code ecdsa_sha1}, {@code rsa_pss_rsae_sha256}, {@code secp256r1}, {@code
 * x25519}) and about JCA names (mixed case: {@code SHA256withECDSA}, {@code EC}, {@code
 * DiffieHellman}, cipher suites, protocol versions). Only the TLS names are decided here, by the
 * profile's lists; everything else is left to the JDK. A TLS name this class has never heard of (a
 * scheme or group added by a later JDK) is refused unless the profile lists it.
 *
 * <p>Thread-safe (immutable).
 */
final class ProfileConstraints implements AlgorithmConstraints {

  private final Set<String> signatureSchemes;
  private final Set<String> namedGroups;

  ProfileConstraints(TlsProfile profile) {
    this.signatureSchemes = Set.copyOf(profile.signatureSchemes());
    this.namedGroups = Set.copyOf(profile.namedGroups());
  }

  @Override
  public boolean permits(
      Set<CryptoPrimitive> primitives, String algorithm, AlgorithmParameters parameters) {
    return permits(primitives, algorithm);
  }

  @Override
  public boolean permits(Set<CryptoPrimitive> primitives, Key key) {
    return true;
  }

  @Override
  public boolean permits(
      Set<CryptoPrimitive> primitives, String algorithm, Key key, AlgorithmParameters parameters) {
    return permits(primitives, algorithm);
  }

  private boolean permits(Set<CryptoPrimitive> primitives, String algorithm) {
    if (primitives.contains(CryptoPrimitive.SIGNATURE) && isTlsName(algorithm)) {
      return signatureSchemes.contains(algorithm);
    }
    if (primitives.contains(CryptoPrimitive.KEY_AGREEMENT) && isGroupName(algorithm)) {
      return namedGroups.contains(algorithm);
    }
    return true;
  }

  /** TLS scheme and classic group names are lower case; JCA names never are. */
  private static boolean isTlsName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /** Classic groups ({@code secp384r1}, {@code x25519}, {@code ffdhe2048}) and hybrid ones. */
  private static boolean isGroupName(String name) {
    return isTlsName(name) || name.contains("MLKEM") || name.startsWith("brainpool");
  }
}
