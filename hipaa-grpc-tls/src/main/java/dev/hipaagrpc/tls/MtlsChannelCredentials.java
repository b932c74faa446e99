package dev.hipaagrpc.tls;

import static java.util.Objects.requireNonNull;

import io.grpc.ChannelCredentials;
import io.grpc.netty.NettySslContextChannelCredentials;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds gRPC {@link ChannelCredentials} for TLS to a server, with a client certificate when an
 * identity is set.
 *
 * <pre>{@code
 * ChannelCredentials creds = MtlsChannelCredentials.newBuilder()
 *     .trust(TrustMaterial.fromPemFiles(serverCaPem))
 *     .identity(IdentityMaterial.fromPemFiles(clientChainPem, clientKeyPem))
 *     .build();
 * ManagedChannel channel = Grpc.newChannelBuilderForAddress("records.internal", 8443, creds)
 *     .build();
 * }</pre>
 *
 * <p>Defaults: profile {@link TlsProfile#NIST_SP_800_52R2}; TLS 1.3 and 1.2 only; ALPN {@code h2}
 * only; no client certificate unless {@link Builder#identity} is set; revocation checked against
 * the trust material's CRLs when it has any; OCSP off; no SPKI pins. Hostname verification is
 * always on and cannot be turned off: the server's certificate must name the channel's authority
 * (DNS or IP SAN).
 *
 * <p>Thread-safe: the built credentials are immutable; the builder is not thread-safe.
 */
public final class MtlsChannelCredentials {

  private MtlsChannelCredentials() {}

  /** Returns a new builder with the defaults above. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Configures channel credentials. Not thread-safe. */
  public static final class Builder {
    private @Nullable IdentityMaterial identity;
    private @Nullable TrustMaterial trust;
    private TlsProfile profile = TlsProfile.NIST_SP_800_52R2;
    private @Nullable List<String> protocols;
    private @Nullable List<String> cipherSuites;
    private final List<byte[]> pins = new ArrayList<>();
    private boolean ocsp;
    private boolean ocspSoftFail;

    private Builder() {}

    /** Sets the CAs the server's certificate must chain to (required). */
    public Builder trust(TrustMaterial trust) {
      this.trust = requireNonNull(trust, "trust");
      return this;
    }

    /** Sets the client certificate and key to present (default: none). */
    public Builder identity(IdentityMaterial identity) {
      this.identity = requireNonNull(identity, "identity");
      return this;
    }

    /** Sets the TLS profile (default {@link TlsProfile#NIST_SP_800_52R2}). */
    public Builder profile(TlsProfile profile) {
      this.profile = requireNonNull(profile, "profile");
      return this;
    }

    /** Narrows the protocol versions (default TLSv1.3 and TLSv1.2); others are refused. */
    public Builder protocols(String... protocols) {
      this.protocols = List.of(protocols);
      return this;
    }

    /** Narrows the cipher suites to a subset of the profile's; others are refused. */
    public Builder cipherSuites(String... cipherSuites) {
      this.cipherSuites = List.of(cipherSuites);
      return this;
    }

    /**
     * Adds an SPKI pin: the base64 SHA-256 of a SubjectPublicKeyInfo (as in RFC 7469, without the
     * {@code sha256/} prefix or with it). When pins are set, the server's validated certificate
     * path (leaf, intermediates or the anchor) must contain a key with one of them, in addition to
     * normal validation. Pin a backup key too, or a rotation will lock you out.
     *
     * @throws IllegalArgumentException if the pin is not base64 of 32 bytes
     */
    public Builder pinSpkiSha256(String base64Pin) {
      requireNonNull(base64Pin, "base64Pin");
      String b64 = base64Pin.startsWith("sha256/") ? base64Pin.substring(7) : base64Pin;
      byte[] pin;
      try {
        pin = Base64.getDecoder().decode(b64);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("pin is not base64");
      }
      if (pin.length != 32) {
        throw new IllegalArgumentException("pin is not a SHA-256 digest (32 bytes)");
      }
      pins.add(pin);
      return this;
    }

    /**
     * Checks revocation with OCSP (falling back to CRLs); fail-closed unless {@link
     * #allowUnsafeOcspSoftFail()}. Default off.
     */
    public Builder enableOcsp() {
      this.ocsp = true;
      return this;
    }

    /**
     * DANGEROUS: accepts a server certificate whose revocation status cannot be determined because
     * the OCSP responder or CRL cannot be reached. Requires {@link #enableOcsp()}.
     */
    public Builder allowUnsafeOcspSoftFail() {
      this.ocspSoftFail = true;
      return this;
    }

    /**
     * Builds the credentials.
     *
     * @throws IllegalStateException if trust material is missing, a protocol or suite outside the
     *     profile was chosen, or OCSP soft-fail is set without OCSP
     */
    public ChannelCredentials build() {
      TrustMaterial t = trust;
      if (t == null) {
        throw new IllegalStateException(
            "set trust(TrustMaterial) with the CA of the server: there is no default trust store");
      }
      if (ocspSoftFail && !ocsp) {
        throw new IllegalStateException("allowUnsafeOcspSoftFail() requires enableOcsp()");
      }
      List<String> p = TlsSettings.protocols(protocols);
      List<String> suites = TlsSettings.cipherSuites(profile, cipherSuites);
      TlsSettings.checkProtocolsHaveSuites(p, suites);
      return NettySslContextChannelCredentials.create(
          SslContexts.client(
              identity,
              t,
              profile,
              p,
              suites,
              new DelegatingTrustManager.Revocation(ocsp, ocspSoftFail),
              List.copyOf(pins)));
    }
  }
}
