package dev.hipaagrpc.tls;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.PostureSource;
import io.grpc.ServerCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import java.time.Clock;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Builds gRPC {@link ServerCredentials} for mutual TLS with safe, auditable defaults.
 *
 * <pre>{@code
 * ServerCredentials creds = MtlsServerCredentials.newBuilder()
 *     .identity(IdentityMaterial.fromPemFiles(chainPem, keyPem))
 *     .trust(TrustMaterial.fromPemFiles(clientCaPem, List.of(crlPem)))
 *     .build();
 * Server server = Grpc.newServerBuilderForPort(8443, creds).addService(...).build();
 * }</pre>
 *
 * <p>Defaults: profile {@link TlsProfile#NIST_SP_800_52R2}; TLS 1.3 and 1.2 only; ALPN {@code h2}
 * only; client certificate REQUIRED; revocation checked against the trust material's CRLs when it
 * has any (every certificate of the client's chain; unknown status fails); OCSP off; sessions with
 * a client certificate are never resumable (every connection is validated against the current trust
 * and CRLs; see {@link TransportGuardServerInterceptor} for live connections), other sessions live
 * 300 seconds; a refused handshake is logged in at most one short line per minute. The JDK's TLS
 * implementation is used ({@code SslProvider.JDK}), through grpc-netty (unshaded); use the result
 * with {@code Grpc.newServerBuilderForPort} or {@code NettyServerBuilder.forPort(port, creds)}.
 *
 * <p>Key and trust material is read on every handshake from the {@link IdentityMaterial} and {@link
 * TrustMaterial} objects, so rotating them (for example with {@link IdentityMaterial#reloadEvery})
 * takes effect without a restart.
 *
 * <p>Thread-safe: the built credentials are immutable; the builder is not thread-safe.
 */
public final class MtlsServerCredentials {

  // Credentials built here -> their posture; identity semantics (ServerCredentials has no equals).
  private static final Map<ServerCredentials, PostureSource> POSTURES =
      Collections.synchronizedMap(new WeakHashMap<>());

  private MtlsServerCredentials() {}

  /**
   * The posture of credentials built by this class, for {@code SecurityStack.Builder.postureFrom}:
   * the protocols, cipher suites, named groups and signature schemes that an engine made from the
   * live TLS context enables (not only the profile's lists), ALPN, renegotiation, the client-auth
   * mode (UNSAFE after an {@code allowUnsafe...} opt-out), revocation, the identity's and the
   * trust's certificates (subject, issuer, SHA-256, expiry, days left) with their reload status
   * (WARN after a refused reload or within 30 days of expiry, UNSAFE once expired). Each report
   * reads the material as it is then.
   *
   * @throws IllegalArgumentException if {@code credentials} were not built by this class
   */
  public static PostureSource posture(ServerCredentials credentials) {
    PostureSource p = POSTURES.get(requireNonNull(credentials, "credentials"));
    if (p == null) {
      throw new IllegalArgumentException(
          "these ServerCredentials were not built by MtlsServerCredentials");
    }
    return p;
  }

  /** Returns a new builder with the defaults above. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Configures server credentials. Not thread-safe. */
  public static final class Builder {
    private @Nullable IdentityMaterial identity;
    private @Nullable TrustMaterial trust;
    private TlsProfile profile = TlsProfile.NIST_SP_800_52R2;
    private @Nullable List<String> protocols;
    private @Nullable List<String> cipherSuites;
    private boolean optionalClientAuth;
    private boolean noClientAuth;
    private boolean ocsp;
    private boolean ocspSoftFail;
    private TlsHandshakeObserver handshakeObserver = TlsHandshakeObserver.NOOP;

    private Builder() {}

    /**
     * Tells {@code observer} the reason of every refused connection (plaintext, protocol version,
     * no common cipher suite, unknown CA, expired or revoked certificate, no ALPN, renegotiation…),
     * once per connection. Default: {@link TlsHandshakeObserver#NOOP}.
     */
    public Builder handshakeObserver(TlsHandshakeObserver observer) {
      this.handshakeObserver = requireNonNull(observer, "observer");
      return this;
    }

    /** Sets the server's key and certificate chain (required). */
    public Builder identity(IdentityMaterial identity) {
      this.identity = requireNonNull(identity, "identity");
      return this;
    }

    /**
     * Sets the CAs that client certificates must chain to, with their CRLs (required unless client
     * authentication is turned off).
     */
    public Builder trust(TrustMaterial trust) {
      this.trust = requireNonNull(trust, "trust");
      return this;
    }

    /** Sets the TLS profile (default {@link TlsProfile#NIST_SP_800_52R2}). */
    public Builder profile(TlsProfile profile) {
      this.profile = requireNonNull(profile, "profile");
      return this;
    }

    /**
     * Narrows the protocol versions, e.g. to {@code TLSv1.3} only (default both TLSv1.3 and
     * TLSv1.2). {@link #build()} refuses anything else.
     */
    public Builder protocols(String... protocols) {
      this.protocols = List.of(protocols);
      return this;
    }

    /**
     * Narrows the cipher suites to a subset of the profile's, in preference order (default: the
     * profile's list). {@link #build()} refuses a suite outside the profile.
     */
    public Builder cipherSuites(String... cipherSuites) {
      this.cipherSuites = List.of(cipherSuites);
      return this;
    }

    /**
     * Checks revocation with OCSP (the responder named in each certificate's AIA extension), and
     * falls back to the CRLs. Fail-closed: a certificate whose status cannot be determined is
     * refused, unless {@link #allowUnsafeOcspSoftFail()} is also called. Default off.
     */
    public Builder enableOcsp() {
      this.ocsp = true;
      return this;
    }

    /**
     * DANGEROUS: accepts a certificate whose revocation status cannot be determined because the
     * OCSP responder or CRL cannot be reached. An attacker who can block the responder can then use
     * a revoked certificate. Requires {@link #enableOcsp()}.
     */
    public Builder allowUnsafeOcspSoftFail() {
      this.ocspSoftFail = true;
      return this;
    }

    /**
     * DANGEROUS: asks for a client certificate but accepts a connection without one. Calls then
     * have no TLS peer identity, and authentication rests entirely on other credentials (such as
     * bearer tokens). A certificate that is presented is still fully validated.
     */
    public Builder allowUnsafeOptionalClientAuth() {
      this.optionalClientAuth = true;
      return this;
    }

    /**
     * DANGEROUS: does not ask for client certificates at all (server-authenticated TLS only). Every
     * caller is anonymous at the transport layer. Do not combine with {@link #trust}.
     */
    public Builder allowUnsafeNoClientAuth() {
      this.noClientAuth = true;
      return this;
    }

    /**
     * Builds the credentials.
     *
     * @throws IllegalStateException if the identity is missing; if client authentication is on and
     *     no trust material is set; if a protocol or cipher suite outside the profile was chosen;
     *     or if the settings contradict each other (both client-auth opt-outs, trust material
     *     without client authentication, OCSP soft-fail without OCSP)
     */
    public ServerCredentials build() {
      IdentityMaterial id = identity;
      if (id == null) {
        throw new IllegalStateException("set identity(IdentityMaterial): the server's key");
      }
      if (optionalClientAuth && noClientAuth) {
        throw new IllegalStateException(
            "choose one of allowUnsafeOptionalClientAuth() and allowUnsafeNoClientAuth()");
      }
      if (noClientAuth && trust != null) {
        throw new IllegalStateException(
            "trust(...) is set but client authentication is off: remove one of them");
      }
      if (!noClientAuth && trust == null) {
        throw new IllegalStateException(
            "set trust(TrustMaterial) with the CAs of your clients (client certificates are"
                + " required by default)");
      }
      if (ocspSoftFail && !ocsp) {
        throw new IllegalStateException("allowUnsafeOcspSoftFail() requires enableOcsp()");
      }
      List<String> p = TlsSettings.protocols(protocols);
      List<String> suites = TlsSettings.cipherSuites(profile, cipherSuites);
      TlsSettings.checkProtocolsHaveSuites(p, suites);
      ClientAuth auth =
          noClientAuth
              ? ClientAuth.NONE
              : optionalClientAuth ? ClientAuth.OPTIONAL : ClientAuth.REQUIRE;
      SslContext context =
          SslContexts.server(
              id,
              trust,
              auth,
              profile,
              p,
              suites,
              new DelegatingTrustManager.Revocation(ocsp, ocspSoftFail));
      ServerCredentials credentials = QuietTlsNegotiator.credentials(context, handshakeObserver);
      POSTURES.put(
          credentials,
          new ServerTlsPosture(
              context, id, trust, profile, auth, ocsp, ocspSoftFail, Clock.systemUTC()));
      return credentials;
    }
  }
}
