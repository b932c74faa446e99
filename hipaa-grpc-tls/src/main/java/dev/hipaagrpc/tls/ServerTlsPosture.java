package dev.hipaagrpc.tls;

import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.PostureSource;
import dev.hipaagrpc.core.Safeguard;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.security.AlgorithmConstraints;
import java.security.CryptoPrimitive;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * The posture of server credentials built by {@link MtlsServerCredentials}: what an {@link
 * SSLEngine} made from the live context actually enables (not only the profile's lists), the
 * client-auth mode, revocation, and the current certificates with their reload status.
 */
final class ServerTlsPosture implements PostureSource {

  // Every TLS 1.2/1.3 signature scheme name JSSE knows, weak ones included: each is asked of the
  // live engine's constraints, so the report shows that SHA-1 and SHA-224 are not permitted.
  private static final List<String> SCHEME_CANDIDATES =
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
          "rsa_pkcs1_sha512",
          "dsa_sha256",
          "ecdsa_sha224",
          "rsa_sha224",
          "dsa_sha224",
          "ecdsa_sha1",
          "rsa_pkcs1_sha1",
          "dsa_sha1",
          "rsa_md5");
  private static final List<String> GROUP_CANDIDATES =
      List.of(
          "x25519",
          "secp256r1",
          "secp384r1",
          "secp521r1",
          "x448",
          "ffdhe2048",
          "ffdhe3072",
          "ffdhe4096",
          "ffdhe6144",
          "ffdhe8192",
          "X25519MLKEM768",
          "SecP256r1MLKEM768",
          "SecP384r1MLKEM1024");
  private static final long WARN_DAYS = 30;

  // SSLParameters.getNamedGroups() (JDK 20) and getSignatureSchemes() (JDK 19); we compile for 17.
  private static final @Nullable MethodHandle GET_NAMED_GROUPS = getter("getNamedGroups");
  private static final @Nullable MethodHandle GET_SIGNATURE_SCHEMES = getter("getSignatureSchemes");

  private final SslContext context;
  private final IdentityMaterial identity;
  private final @Nullable TrustMaterial trust;
  private final TlsProfile profile;
  private final ClientAuth clientAuth;
  private final boolean ocsp;
  private final boolean ocspSoftFail;
  private final Clock clock;

  ServerTlsPosture(
      SslContext context,
      IdentityMaterial identity,
      @Nullable TrustMaterial trust,
      TlsProfile profile,
      ClientAuth clientAuth,
      boolean ocsp,
      boolean ocspSoftFail,
      Clock clock) {
    this.context = context;
    this.identity = identity;
    this.trust = trust;
    this.profile = profile;
    this.clientAuth = clientAuth;
    this.ocsp = ocsp;
    this.ocspSoftFail = ocspSoftFail;
    this.clock = clock;
  }

  private static @Nullable MethodHandle getter(String name) {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(SSLParameters.class, name, MethodType.methodType(String[].class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }

  @Override
  public List<PostureItem> posture() {
    List<PostureItem> items = new ArrayList<>();
    SSLEngine engine = context.newEngine(ByteBufAllocator.DEFAULT);
    try {
      SSLParameters params = engine.getSSLParameters();
      items.add(PostureItem.ok("tls.profile", Safeguard.TRANSMISSION_SECURITY, profile.name()));
      List<String> protocols = List.of(engine.getEnabledProtocols());
      items.add(
          TlsProfile.PROTOCOLS.containsAll(protocols)
              ? PostureItem.ok("tls.protocols", Safeguard.TRANSMISSION_SECURITY, protocols)
              : PostureItem.unsafe(
                  "tls.protocols",
                  Safeguard.TRANSMISSION_SECURITY,
                  protocols,
                  "a protocol older than TLS 1.2 is enabled"));
      List<String> suites = List.of(engine.getEnabledCipherSuites());
      boolean approved = !suites.isEmpty();
      for (String s : suites) {
        approved &= TlsProfile.isApprovedSuite(s);
      }
      items.add(
          approved
              ? PostureItem.ok("tls.cipher_suites", Safeguard.TRANSMISSION_ENCRYPTION, suites)
              : PostureItem.unsafe(
                  "tls.cipher_suites",
                  Safeguard.TRANSMISSION_ENCRYPTION,
                  suites,
                  "a suite without AEAD or forward secrecy is enabled"));
      items.add(
          PostureItem.ok(
              "tls.named_groups",
              Safeguard.TRANSMISSION_ENCRYPTION,
              enabled(params, GET_NAMED_GROUPS, GROUP_CANDIDATES, CryptoPrimitive.KEY_AGREEMENT)));
      List<String> schemes =
          enabled(params, GET_SIGNATURE_SCHEMES, SCHEME_CANDIDATES, CryptoPrimitive.SIGNATURE);
      boolean weak = false;
      for (String s : schemes) {
        weak |= s.endsWith("sha1") || s.endsWith("sha224") || s.endsWith("md5");
      }
      items.add(
          weak
              ? PostureItem.unsafe(
                  "tls.signature_schemes",
                  Safeguard.TRANSMISSION_INTEGRITY,
                  schemes,
                  "a SHA-1, SHA-224 or MD5 handshake signature is permitted")
              : PostureItem.ok("tls.signature_schemes", Safeguard.TRANSMISSION_INTEGRITY, schemes));
      items.add(
          PostureItem.ok(
              "tls.alpn",
              Safeguard.TRANSMISSION_SECURITY,
              context.applicationProtocolNegotiator().protocols()));
      items.add(PostureItem.ok("tls.renegotiation", Safeguard.TRANSMISSION_INTEGRITY, "refused"));
    } finally {
      ReferenceCountUtil.release(engine);
    }
    items.add(clientAuthItem());
    items.add(revocationItem());
    items.add(identityItem());
    TrustMaterial t = trust;
    if (t != null) {
      items.add(trustItem(t));
    }
    return items;
  }

  /**
   * The names the engine enables: its explicit list where the JDK exposes one, else (or in
   * addition) the candidates its algorithm constraints permit.
   */
  private static List<String> enabled(
      SSLParameters params,
      @Nullable MethodHandle getter,
      List<String> candidates,
      CryptoPrimitive primitive) {
    List<String> listed = null;
    if (getter != null) {
      try {
        String[] names = (String[]) getter.invoke(params);
        listed = names == null ? null : List.of(names);
      } catch (Throwable e) {
        listed = null;
      }
    }
    AlgorithmConstraints constraints = params.getAlgorithmConstraints();
    Set<CryptoPrimitive> primitives = EnumSet.of(primitive);
    List<String> out = new ArrayList<>();
    for (String name : listed != null ? listed : candidates) {
      if (constraints == null || constraints.permits(primitives, name, null)) {
        out.add(name);
      }
    }
    return out;
  }

  private PostureItem clientAuthItem() {
    return switch (clientAuth) {
      case REQUIRE ->
          PostureItem.ok("tls.client_auth", Safeguard.PERSON_OR_ENTITY_AUTHENTICATION, "required");
      case OPTIONAL ->
          PostureItem.unsafe(
              "tls.client_auth",
              Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
              "optional",
              "allowUnsafeOptionalClientAuth(): connections without a client certificate are"
                  + " accepted");
      case NONE ->
          PostureItem.unsafe(
              "tls.client_auth",
              Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
              "none",
              "allowUnsafeNoClientAuth(): no client certificate is asked for");
    };
  }

  private PostureItem revocationItem() {
    Map<String, Object> r = new LinkedHashMap<>();
    TrustMaterial t = trust;
    r.put("crls", t == null ? 0 : t.current().crls().size());
    r.put("ocsp", ocsp);
    r.put("ocspSoftFail", ocspSoftFail);
    if (ocspSoftFail) {
      return PostureItem.unsafe(
          "tls.revocation",
          Safeguard.TRANSMISSION_INTEGRITY,
          r,
          "allowUnsafeOcspSoftFail(): a certificate whose status cannot be determined is accepted");
    }
    return PostureItem.ok("tls.revocation", Safeguard.TRANSMISSION_INTEGRITY, r);
  }

  private PostureItem identityItem() {
    X509Certificate leaf = identity.current().leaf();
    Map<String, Object> v = certificate(leaf);
    v.put("chainLength", identity.certificateChain().size());
    return withReload(
        "tls.identity",
        Safeguard.TRANSMISSION_SECURITY,
        v,
        identity.reloader(),
        identity.isFileBacked(),
        daysLeft(leaf));
  }

  private PostureItem trustItem(TrustMaterial t) {
    List<Object> anchors = new ArrayList<>();
    long soonest = Long.MAX_VALUE;
    for (X509Certificate c : t.current().anchors()) {
      anchors.add(certificate(c));
      soonest = Math.min(soonest, daysLeft(c));
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("anchors", anchors);
    return withReload(
        "tls.trust",
        Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
        v,
        t.reloader(),
        t.isFileBacked(),
        soonest);
  }

  private PostureItem withReload(
      String key,
      Safeguard safeguard,
      Map<String, Object> v,
      Reloader reloader,
      boolean fileBacked,
      long daysLeft) {
    Map<String, Object> reload = new LinkedHashMap<>();
    reload.put("fileBacked", fileBacked);
    reload.put("periodSeconds", reloader.reloadPeriodSeconds());
    String refusal = reloader.lastRefusal();
    reload.put("lastRefusal", refusal == null ? "none" : refusal);
    v.put("reload", reload);
    if (daysLeft < 0) {
      return PostureItem.unsafe(key, safeguard, v, "a certificate has expired");
    }
    if (refusal != null) {
      return PostureItem.warn(
          key, safeguard, v, "the last reload was refused (" + refusal + "); the old one serves");
    }
    if (daysLeft < WARN_DAYS) {
      return PostureItem.warn(key, safeguard, v, "a certificate expires within 30 days");
    }
    return PostureItem.ok(key, safeguard, v);
  }

  private Map<String, Object> certificate(X509Certificate c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("subject", c.getSubjectX500Principal().getName());
    m.put("issuer", c.getIssuerX500Principal().getName());
    m.put("sha256", Certs.sha256Hex(c));
    m.put("notAfter", c.getNotAfter().toInstant());
    m.put("daysLeft", daysLeft(c));
    return m;
  }

  /** Whole days left, rounded down: 0 on the last day, negative once expired. */
  private long daysLeft(X509Certificate c) {
    Instant now = clock.instant();
    return Math.floorDiv(Duration.between(now, c.getNotAfter().toInstant()).toSeconds(), 86_400L);
  }
}
