package dev.hipaagrpc.tls;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Enumeration;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the Netty {@link SslContext}s behind both credentials builders. */
final class SslContexts {

  private static final Logger logger = LoggerFactory.getLogger(SslContexts.class);

  /**
   * Lifetime of resumable sessions. Server sessions with a client certificate are never resumable
   * (see DelegatingTrustManager); this bounds the others and the client's cache.
   */
  static final long SESSION_TIMEOUT_SECONDS = 300;

  // SSLParameters.setNamedGroups(String[]) exists from JDK 20; we compile for 17.
  private static final @Nullable MethodHandle SET_NAMED_GROUPS = findSetNamedGroups();

  private SslContexts() {}

  private static @Nullable MethodHandle findSetNamedGroups() {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(
              SSLParameters.class,
              "setNamedGroups",
              MethodType.methodType(void.class, String[].class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }

  static SslContext server(
      IdentityMaterial identity,
      @Nullable TrustMaterial trust,
      ClientAuth clientAuth,
      TlsProfile profile,
      List<String> protocols,
      List<String> cipherSuites,
      DelegatingTrustManager.Revocation revocation) {
    SslContextBuilder b =
        GrpcSslContexts.configure(
            SslContextBuilder.forServer(new DelegatingKeyManager(identity)), SslProvider.JDK);
    if (trust != null) {
      b.trustManager(new DelegatingTrustManager(trust, revocation, false, List.of()));
    }
    b.clientAuth(clientAuth);
    SslContext ctx = build(b, profile, protocols, cipherSuites, false);
    flushSessionsOnChange(ctx, identity, trust);
    return ctx;
  }

  static SslContext client(
      @Nullable IdentityMaterial identity,
      TrustMaterial trust,
      TlsProfile profile,
      List<String> protocols,
      List<String> cipherSuites,
      DelegatingTrustManager.Revocation revocation,
      List<byte[]> pins) {
    SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK);
    b.trustManager(new DelegatingTrustManager(trust, revocation, true, pins));
    if (identity != null) {
      b.keyManager(new DelegatingKeyManager(identity));
    }
    b.endpointIdentificationAlgorithm("HTTPS");
    SslContext ctx = build(b, profile, protocols, cipherSuites, true);
    flushSessionsOnChange(ctx, identity, trust);
    return ctx;
  }

  /**
   * A resumed TLS session skips certificate validation and keeps the certificates of its first
   * handshake. After a rotation (or a new CRL), drop cached sessions so the next connection does a
   * full handshake with the new material.
   */
  private static void flushSessionsOnChange(
      SslContext ctx, @Nullable IdentityMaterial identity, @Nullable TrustMaterial trust) {
    Runnable flush = () -> invalidateAll(ctx.sessionContext());
    if (identity != null) {
      identity.onChange(flush);
    }
    if (trust != null) {
      trust.onChange(flush);
    }
  }

  static void invalidateAll(SSLSessionContext sessions) {
    for (Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
      SSLSession s = sessions.getSession(ids.nextElement());
      if (s != null) {
        s.invalidate();
      }
    }
  }

  private static SslContext build(
      SslContextBuilder b,
      TlsProfile profile,
      List<String> protocols,
      List<String> cipherSuites,
      boolean client) {
    b.protocols(protocols)
        .ciphers(cipherSuites, SupportedCipherSuiteFilter.INSTANCE)
        .sessionTimeout(SESSION_TIMEOUT_SECONDS);
    SslContext ctx;
    try {
      ctx = b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("TLS context cannot be built", e);
    }
    if (!ctx.cipherSuites().containsAll(cipherSuites)) {
      // The JDK lacks a suite we asked for (e.g. disabled by jdk.tls.disabledAlgorithms): say so
      // rather than silently run with fewer.
      logger.warn(
          "The JDK does not enable every cipher suite of profile {}; running with {}",
          profile,
          ctx.cipherSuites());
    }
    return new ProfileSslContext(ctx, profile, client);
  }

  /**
   * Applies per-engine settings Netty's builder has no knob for: the profile's signature schemes
   * and groups as algorithm constraints (every JDK), the group order (JDK 20+), hostname
   * verification on clients, the server's suite order.
   */
  private static final class ProfileSslContext extends DelegatingSslContext {
    private final String[] namedGroups;
    private final ProfileConstraints constraints;
    private final boolean client;

    ProfileSslContext(SslContext ctx, TlsProfile profile, boolean client) {
      super(ctx);
      this.namedGroups = profile.namedGroups().toArray(new String[0]);
      this.constraints = new ProfileConstraints(profile);
      this.client = client;
    }

    @Override
    protected void initEngine(SSLEngine engine) {
      SSLParameters params = engine.getSSLParameters();
      params.setAlgorithmConstraints(constraints);
      MethodHandle setGroups = SET_NAMED_GROUPS;
      if (setGroups != null) {
        try {
          setGroups.invoke(params, namedGroups.clone());
        } catch (Throwable t) {
          throw new IllegalStateException("cannot restrict named groups", t);
        }
      }
      if (client) {
        // Hostname verification is not optional; DelegatingTrustManager also refuses without it.
        params.setEndpointIdentificationAlgorithm("HTTPS");
      } else {
        params.setUseCipherSuitesOrder(true);
      }
      engine.setSSLParameters(params);
    }
  }
}
