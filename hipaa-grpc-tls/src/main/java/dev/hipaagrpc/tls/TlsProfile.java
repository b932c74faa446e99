package dev.hipaagrpc.tls;

import java.util.List;

/**
 * A named set of TLS protocol versions, cipher suites, handshake signature schemes and key-exchange
 * groups.
 *
 * <p>Every profile allows only TLS 1.3 and TLS 1.2, only AEAD ciphers and only forward-secret
 * (ephemeral ECDHE) key exchange: no CBC, no RC4/3DES, no static RSA key transport, no TLS 1.1 or
 * older; and no SHA-1 or SHA-224 handshake signature (a TLS 1.2 client that offers only {@code
 * ecdsa_sha1} or {@code rsa_pkcs1_sha1}, or no {@code signature_algorithms} at all, which means
 * SHA-1, gets a {@code handshake_failure} alert). Both ends of our credentials builders also
 * negotiate ALPN {@code h2} only.
 *
 * <p>Signature schemes and groups are enforced per connection on every supported JDK (17 and
 * newer), through the engine's algorithm constraints, for what each end offers and for what it
 * accepts; on JDK 20 and newer the groups are also offered in the profile's order. The constraints
 * add to the JDK's own {@code jdk.tls.disabledAlgorithms}, they never relax it. A certificate's key
 * must fit the profile: for {@link #NIST_SP_800_52R2}, RSA or EC on P-256 or P-384.
 *
 * <p>Thread-safe (immutable).
 */
public enum TlsProfile {

  /**
   * NIST SP 800-52 Rev. 2 (the default): TLS 1.3 with {@code TLS_AES_256_GCM_SHA384} and {@code
   * TLS_AES_128_GCM_SHA256}; TLS 1.2 with ECDHE-ECDSA and ECDHE-RSA and AES-GCM only; groups P-384
   * and P-256; signature schemes ECDSA (P-384, P-256, P-521), RSASSA-PSS and, for TLS 1.2 and
   * certificates, RSA PKCS#1 v1.5, each with SHA-256, SHA-384 or SHA-512 (800-52r2 section 3.3.1.1
   * allows no SHA-1 for handshake signatures). ChaCha20-Poly1305 and X25519 are left out because
   * 800-52r2 does not list them, and federal and healthcare scanners flag them.
   */
  NIST_SP_800_52R2(
      List.of(
          "TLS_AES_256_GCM_SHA384",
          "TLS_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
      Schemes.NIST,
      List.of("secp384r1", "secp256r1")),

  /**
   * Mozilla's "intermediate" server configuration (guidelines v5.7), restricted to ECDHE key
   * exchange: TLS 1.3 with the AES-GCM and ChaCha20-Poly1305 suites; TLS 1.2 with ECDHE-ECDSA and
   * ECDHE-RSA with AES-GCM or ChaCha20-Poly1305; groups X25519, P-256, P-384; the signature schemes
   * of {@link #NIST_SP_800_52R2} plus Ed25519 and Ed448. The finite-field DHE suites of that list
   * are left out (slow, and a DoS lever). Choose it only when clients need ChaCha20 or X25519 and
   * you do not answer to an 800-52r2 audit.
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
      Schemes.MOZILLA,
      List.of("x25519", "secp256r1", "secp384r1"));

  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** Signature scheme lists (a nested holder: enum constants cannot name the enum's statics). */
  private static final class Schemes {
    static final List<String> NIST =
        List.of(
            "ecdsa_secp384r1_sha384",
            "ecdsa_secp256r1_sha256",
            "ecdsa_secp521r1_sha512",
            "rsa_pss_rsae_sha384",
            "rsa_pss_rsae_sha256",
            "rsa_pss_rsae_sha512",
            "rsa_pss_pss_sha384",
            "rsa_pss_pss_sha256",
            "rsa_pss_pss_sha512",
            "rsa_pkcs1_sha384",
            "rsa_pkcs1_sha256",
            "rsa_pkcs1_sha512");

    static final List<String> MOZILLA =
        List.of(
            "ecdsa_secp256r1_sha256",
            "ecdsa_secp384r1_sha384",
            "ecdsa_secp521r1_sha512",
            "ed25519",
            "ed448",
            "rsa_pss_rsae_sha256",
            "rsa_pss_rsae_sha384",
            "rsa_pss_rsae_sha512",
            "rsa_pss_pss_sha256",
            "rsa_pss_pss_sha384",
            "rsa_pss_pss_sha512",
            "rsa_pkcs1_sha256",
            "rsa_pkcs1_sha384",
            "rsa_pkcs1_sha512");

    private Schemes() {}
  }

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
  private final List<String> signatureSchemes;

  @SuppressWarnings("ImmutableEnumChecker")
  private final List<String> namedGroups;

  TlsProfile(List<String> cipherSuites, List<String> signatureSchemes, List<String> namedGroups) {
    this.cipherSuites = cipherSuites;
    this.signatureSchemes = signatureSchemes;
    this.namedGroups = namedGroups;
  }

  /** The cipher suites, most preferred first, in IANA/JSSE names. */
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  /**
   * The handshake signature schemes, most preferred first, in TLS names (e.g. {@code
   * ecdsa_secp256r1_sha256}).
   */
  public List<String> signatureSchemes() {
    return signatureSchemes;
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
