package dev.hipaagrpc.tls;

import java.util.List;

/**
 * A named set of TLS protocol versions, cipher suites and key-exchange groups.
 *
 * <p>Every profile allows only TLS 1.3 and TLS 1.2, only AEAD ciphers and only forward-secret
 * (ephemeral ECDHE) key exchange: no CBC, no RC4/3DES, no static RSA key transport, no TLS 1.1 or
 * older. Both ends of our credentials builders also negotiate ALPN {@code h2} only.
 *
 * <p>Named-group restriction is applied per connection on JDK 20 and newer (through {@code
 * SSLParameters.setNamedGroups}). On JDK 17 to 19 the JDK's own group list applies; set the system
 * property {@code jdk.tls.namedGroups=secp256r1,secp384r1} to get the same effect there.
 *
 * <p>Thread-safe (immutable).
 */
public enum TlsProfile {

  /**
   * NIST SP 800-52 Rev. 2 (the default): TLS 1.3 with {@code TLS_AES_256_GCM_SHA384} and {@code
   * TLS_AES_128_GCM_SHA256}; TLS 1.2 with ECDHE-ECDSA and ECDHE-RSA and AES-GCM only; groups P-384
   * and P-256. ChaCha20-Poly1305 and X25519 are left out because 800-52r2 does not list them, and
   * federal and healthcare scanners flag them.
   */
  NIST_SP_800_52R2(
      List.of(
          "TLS_AES_256_GCM_SHA384",
          "TLS_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
      List.of("secp384r1", "secp256r1")),

  /**
   * Mozilla's "intermediate" server configuration (guidelines v5.7), restricted to ECDHE key
   * exchange: TLS 1.3 with the AES-GCM and ChaCha20-Poly1305 suites; TLS 1.2 with ECDHE-ECDSA and
   * ECDHE-RSA with AES-GCM or ChaCha20-Poly1305; groups X25519, P-256, P-384. The finite-field DHE
   * suites of that list are left out (slow, and a DoS lever). Choose it only when clients need
   * ChaCha20 or X25519 and you do not answer to an 800-52r2 audit.
   */
  MOZILLA_INTERMEDIATE(
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
      List.of("x25519", "secp256r1", "secp384r1"));

  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** Every suite of every profile: all AEAD with forward secrecy (for the transport guard). */
  static boolean isApprovedSuite(String suite) {
    for (TlsProfile profile : values()) {
      if (profile.cipherSuites.contains(suite)) {
        return true;
      }
    }
    return false;
  }

  // List.of(...) lists: immutable, which the checker cannot see through the List type.
  @SuppressWarnings("ImmutableEnumChecker")
  private final List<String> cipherSuites;

  @SuppressWarnings("ImmutableEnumChecker")
  private final List<String> namedGroups;

  TlsProfile(List<String> cipherSuites, List<String> namedGroups) {
    this.cipherSuites = cipherSuites;
    this.namedGroups = namedGroups;
  }

  /** The cipher suites, most preferred first, in IANA/JSSE names. */
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  /** The key-exchange groups, most preferred first, in JSSE names (e.g. {@code secp256r1}). */
  public List<String> namedGroups() {
    return namedGroups;
  }

  /** The protocol versions: {@code TLSv1.3} and {@code TLSv1.2}. */
  public List<String> protocols() {
    return PROTOCOLS;
  }
}
