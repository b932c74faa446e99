package dev.hipaagrpc.tls;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that did not arrive over TLS 1.3 or 1.2 with privacy and integrity, so a
 * plaintext port opened by mistake serves nothing; and records the TLS peer's identity for the
 * layers inside it.
 *
 * <p>A refused call is closed with {@code UNAUTHENTICATED} and the fixed description {@code
 * "Transport security required (correlation id: <id>)"}; the call facts get the failure code
 * {@value #FAILURE_CODE} so the audit layer records why. An accepted call whose peer presented a
 * client certificate gets {@link CallFacts#peer(PeerIdentity)}: the SPIFFE ID, DNS SANs and SHA-256
 * of the <em>leaf</em> certificate (computed once per TLS session and cached in it).
 *
 * <p>Trust changes bind live connections: on a connection whose client certificate was validated by
 * {@link MtlsServerCredentials}, the first call after a change of the server's {@link
 * TrustMaterial} (a CA removed, a new CRL) re-validates the client's chain against the current
 * anchors and CRLs, once per connection and change; if it no longer validates, that call and every
 * later one on the connection is refused with {@code UNAUTHENTICATED}, the fixed description {@code
 * "Client certificate no longer trusted (correlation id: <id>)"} and the failure code {@value
 * #UNTRUSTED_PEER_CODE}. Calls while the trust is unchanged cost one volatile read. Connections
 * from credentials not built by {@link MtlsServerCredentials} are not re-checked.
 *
 * <p>Place it right after audit in the canonical order ({@code correlation -> audit -> transport
 * guard -> authentication -> ...}); it also works alone. The in-process transport has no TLS and is
 * refused unless {@link Builder#allowInProcessTransport()} is set (for tests).
 *
 * <p>Thread-safe.
 */
public final class TransportGuardServerInterceptor implements SecurityLayer {

  /** The failure code recorded in {@link CallFacts#authenticationFailure()}. */
  public static final String FAILURE_CODE = "insecure_transport";

  /**
   * The failure code recorded when the connection's client certificate was trusted at its handshake
   * but is not under the current trust material (CA removed, certificate revoked).
   */
  public static final String UNTRUSTED_PEER_CODE = "peer_no_longer_trusted";

  private static final Logger logger =
      LoggerFactory.getLogger(TransportGuardServerInterceptor.class);
  private static final String REFUSED = "Transport security required";
  private static final String UNTRUSTED = "Client certificate no longer trusted";

  private final boolean allowInProcess;
  private final AtomicBoolean warned = new AtomicBoolean();
  private final LogLimiter untrustedLog = LogLimiter.perMinute();

  private TransportGuardServerInterceptor(boolean allowInProcess) {
    this.allowInProcess = allowInProcess;
  }

  /** Returns a guard that accepts only TLS 1.3/1.2 transports. */
  public static TransportGuardServerInterceptor create() {
    return new TransportGuardServerInterceptor(false);
  }

  /** Returns a builder, for the in-process test opt-in. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public Slot slot() {
    return Slot.TRANSPORT_GUARD;
  }

  /**
   * One {@code tls.transport_guard} item (164.312(e)(1)): plaintext refused, the accepted
   * protocols, and whether the in-process transport is accepted without TLS (WARN: a test setting).
   */
  @Override
  public List<PostureItem> posture() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("plaintext", "refused");
    v.put("protocols", TlsProfile.PROTOCOLS);
    v.put("inProcessAllowed", allowInProcess);
    return List.of(
        allowInProcess
            ? PostureItem.warn(
                "tls.transport_guard",
                Safeguard.TRANSMISSION_SECURITY,
                v,
                "allowInProcessTransport(): in-process calls are served without TLS (tests only)")
            : PostureItem.ok("tls.transport_guard", Safeguard.TRANSMISSION_SECURITY, v));
  }

  @Override
  public String describe() {
    return "TransportGuardServerInterceptor: TLSv1.3/TLSv1.2 only, AEAD + forward-secret suites of"
        + " the "
        + java.util.Arrays.toString(TlsProfile.values())
        + " profiles"
        + (allowInProcess ? ", in-process transport allowed (tests)" : "");
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Attributes attributes = call.getAttributes();
    SSLSession session = attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session != null) {
      // The suite too: credentials not built by us (grpc's TlsServerCredentials, say) may still
      // negotiate CBC or RSA key exchange, which invariant 6 refuses.
      if (call.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY
          || !TlsProfile.PROTOCOLS.contains(session.getProtocol())
          || !TlsProfile.isApprovedSuite(session.getCipherSuite())) {
        return refuse(call, facts);
      }
      if (session.getValue(SessionTrust.KEY) instanceof SessionTrust st && !st.trustedNow()) {
        return refuseUntrusted(call, facts, st);
      }
      PeerIdentity peer = PeerIdentity.fromSession(session); // cached in the session
      if (peer != null) {
        facts.peer(peer);
      }
    } else if (!(allowInProcess && isInProcess(attributes))) {
      return refuse(call, facts);
    }
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private static boolean isInProcess(Attributes attributes) {
    // Server-side in-process calls carry no security level; recognise the transport by its
    // address type, which only grpc-inprocess creates. Network transports use InetSocketAddress.
    SocketAddress remote = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return remote != null
        && !(remote instanceof InetSocketAddress)
        && remote.getClass().getName().startsWith("io.grpc.inprocess.");
  }

  private <ReqT, RespT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, RespT> call, CallFacts facts) {
    facts.authenticationFailure(FAILURE_CODE);
    if (warned.compareAndSet(false, true)) {
      logger.warn(
          "Refused a call that did not arrive over TLS (correlation id: {}); is a plaintext port"
              + " open? Further refusals are logged at DEBUG",
          facts.correlationId());
    } else {
      logger.debug(
          "Refused a call that did not arrive over TLS (correlation id: {})",
          facts.correlationId());
    }
    return Refusals.refuse(call, Status.Code.UNAUTHENTICATED, REFUSED, facts);
  }

  private <ReqT, RespT> ServerCall.Listener<ReqT> refuseUntrusted(
      ServerCall<ReqT, RespT> call, CallFacts facts, SessionTrust session) {
    facts.authenticationFailure(UNTRUSTED_PEER_CODE);
    if (untrustedLog.tryAcquire()) {
      logger.warn(
          "Refused a call on a connection whose client certificate (sha256 {}) is no longer"
              + " trusted after a trust or revocation change (correlation id: {}); further"
              + " refusals within a minute are logged at DEBUG",
          session.leafSha256Hex(),
          facts.correlationId());
    } else {
      logger.debug(
          "Refused a call from a no longer trusted client certificate (correlation id: {})",
          facts.correlationId());
    }
    return Refusals.refuse(call, Status.Code.UNAUTHENTICATED, UNTRUSTED, facts);
  }

  /** Configures a {@link TransportGuardServerInterceptor}. Not thread-safe. */
  public static final class Builder {
    private boolean allowInProcess;

    private Builder() {}

    /**
     * Accepts calls over grpc's in-process transport (which never leaves the JVM) without TLS, for
     * tests that stack the interceptors in-process. Network calls still need TLS. Default off.
     */
    public Builder allowInProcessTransport() {
      this.allowInProcess = true;
      return this;
    }

    /** Builds the guard. */
    public TransportGuardServerInterceptor build() {
      return new TransportGuardServerInterceptor(allowInProcess);
    }
  }
}
