package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates every call (45 CFR 164.312(d)): each call that reaches the service carries exactly
 * one verified {@link Principal}, or is refused.
 *
 * <p>Credentials, by {@link Mode}: a bearer JWT in {@code authorization: Bearer <token>} verified
 * against one or more {@link IssuerConfig issuers}; the client certificate of a mutual-TLS
 * connection mapped by a {@link PeerPrincipalMapper}; both (a user's token presented by an
 * authenticated service: the principal is the user, with {@link Principal#viaService()} naming the
 * service); or either. A token carrying {@code cnf.x5t#S256} (RFC 8705) is accepted only on a
 * connection whose client certificate has that thumbprint; {@link
 * Builder#requireCertificateBoundTokens()} demands such binding of every token.
 *
 * <p>On success the principal is recorded through the one write path, {@link
 * CallFacts#principal(Principal)}. On failure the call is closed with {@code UNAUTHENTICATED} (or
 * {@code UNAVAILABLE} when the issuer's keys cannot be fetched), a fixed description carrying only
 * the correlation id, and an RFC 6750 {@code www-authenticate} trailer; the reason is recorded as a
 * fixed code in {@link CallFacts#authenticationFailure(String)} ({@code missing_credentials},
 * {@code unsupported_scheme}, {@code invalid_token}, {@code malformed_token}, {@code
 * token_too_large}, {@code wrong_issuer}, {@code wrong_audience}, {@code wrong_type}, {@code
 * wrong_claim_type}, {@code expired_token}, {@code revoked_token}, {@code unknown_key}, {@code
 * keys_unavailable}, {@code certificate_required}, {@code unknown_peer}, {@code token_not_bound},
 * {@code token_binding_mismatch}, among others; the site page lists them all). Tokens, claims and
 * exception messages are never echoed or logged.
 *
 * <p>Accepted: {@code Bearer} (any case) and one or more spaces (RFC 6750), then a compact JWS
 * whose three segments are canonical base64url and whose header and claims are strict JSON in valid
 * UTF-8 without duplicate member names; everything else is refused before any signature is checked.
 *
 * <p>Verified tokens are cached by a SHA-256 hash of the signing input (default 10,000 entries), so
 * a repeated token skips parsing and signature verification; a hit must present the cached
 * signature (either ECDSA form), and expiry, revocation, the key still being published, and
 * certificate binding are checked again on every call. In front of that cache, the {@code
 * authorization} value exactly as presented before is found by one string hash and a constant-time
 * comparison, without hashing the token; that level holds the values themselves in memory. {@link
 * Principal#credentialFingerprint()} is the first 128 bits of SHA-256 over the token with an ECDSA
 * signature in its low-S form, so a token and its high-S twin have one fingerprint.
 *
 * <p>Defaults: {@link Mode#TOKEN_REQUIRED}; tokens up to 8 KiB (checked before any parsing); no
 * revocation list; binding required only for tokens that declare it; system UTC clock.
 *
 * <p>Thread-safe; one instance serves all calls.
 */
public final class AuthenticationServerInterceptor implements SecurityLayer {
  private static final Logger logger =
      LoggerFactory.getLogger(AuthenticationServerInterceptor.class);

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> DPOP =
      Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);

  /** Which credentials a call must present. */
  public enum Mode {
    /** A valid bearer token is required; a client certificate is used only for token binding. */
    TOKEN_REQUIRED,
    /** A mapped client certificate is required; bearer tokens are ignored. */
    CERTIFICATE_REQUIRED,
    /**
     * Both: a mapped client certificate (the service) and a valid bearer token (the user); the
     * principal is the user with {@link Principal#viaService()} set.
     */
    TOKEN_AND_CERTIFICATE,
    /** A valid bearer token if one is sent, otherwise a mapped client certificate. */
    TOKEN_OR_CERTIFICATE
  }

  private final Mode mode;
  private final @Nullable JwtVerifier verifier;
  private final @Nullable PeerPrincipalMapper peerMapper;
  private final boolean requireBinding;
  private final int maxTokenBytes;
  private final VerifiedTokenCache cache;
  private final DpopProofs dpop;
  private final Clock clock;
  private final String challengePrefix;
  private final RolesClaimWatch rolesWatch = new RolesClaimWatch();

  private AuthenticationServerInterceptor(Builder b) {
    this.mode = b.mode;
    this.verifier =
        b.issuers.isEmpty() ? null : new JwtVerifier(b.issuers, b.clock, b.revocationList);
    this.peerMapper = b.peerMapper;
    this.requireBinding = b.requireBinding;
    this.maxTokenBytes = b.maxTokenBytes;
    this.cache = new VerifiedTokenCache(b.tokenCacheSize);
    this.dpop = new DpopProofs(b.clock, b.dpopProofWindow.toMillis());
    this.clock = b.clock;
    this.challengePrefix = b.realm == null ? "Bearer" : "Bearer realm=\"" + b.realm + "\"";
  }

  /** Starts a configuration. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Principal principal;
    try {
      principal = authenticate(call, headers, facts);
    } catch (CredentialFailure f) {
      return refuse(call, facts, f);
    } catch (RuntimeException e) {
      logger.warn(
          "Authentication failed unexpectedly ({}); correlation id {}",
          e.getClass().getSimpleName(),
          facts.correlationId());
      return refuse(
          call,
          facts,
          new CredentialFailure(
              "authentication_error",
              Status.Code.UNAUTHENTICATED,
              CredentialFailure.BearerError.NONE));
    }
    facts.principal(principal);
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  @Override
  public Slot slot() {
    return Slot.AUTHENTICATION;
  }

  @Override
  public String describe() {
    JwtVerifier v = verifier;
    return "AuthenticationServerInterceptor: mode="
        + mode
        + (v != null ? ", issuers " + v.describe() : "")
        + (requireBinding ? ", certificate-bound tokens required" : "");
  }

  /**
   * What this layer accepts, as configured now: {@code auth.mode}, {@code auth.issuers} (each
   * issuer's audience, algorithms, required type, token lifetime cap, introspection endpoint and
   * key source: kind, URI, key ids in use, when they were fetched, their age, whether the last
   * fetch failed — WARN when it did or no key was ever fetched), {@code auth.token_binding} and
   * {@code auth.peer_mapping}. Key ids only, never key material or client secrets.
   */
  @Override
  public List<PostureItem> posture() {
    List<PostureItem> items = new ArrayList<>();
    items.add(
        PostureItem.ok(
            "auth.mode",
            Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
            mode.name().toLowerCase(Locale.ROOT)));
    JwtVerifier v = verifier;
    if (v != null) {
      List<Object> issuers = new ArrayList<>();
      String stale = null;
      for (IssuerConfig c : v.issuers()) {
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("issuer", c.issuer());
        i.put("audience", c.audience());
        i.put("algorithms", new TreeSet<>(c.algorithms()));
        String type = c.requiredType();
        i.put("requiredType", type == null ? "any" : type);
        Duration maxLifetime = c.maxTokenLifetime();
        i.put("maxTokenLifetimeSeconds", maxLifetime == null ? "none" : maxLifetime.toSeconds());
        i.put("clockSkewSeconds", c.clockSkew().toSeconds());
        i.put("requireTokenId", c.requireTokenId());
        TokenIntrospection introspection = c.introspection();
        if (introspection != null) {
          URI e = introspection.endpoint();
          i.put("introspection", e.getScheme() + "://" + e.getRawAuthority() + e.getRawPath());
        } else {
          Map<String, Object> keys = c.keySource().posture();
          i.put("keys", keys);
          if (Boolean.TRUE.equals(keys.get("lastFetchFailed"))
              || "never".equals(keys.get("keysFetchedAt"))) {
            stale = c.issuer();
          }
        }
        issuers.add(i);
      }
      items.add(
          stale == null
              ? PostureItem.ok("auth.issuers", Safeguard.PERSON_OR_ENTITY_AUTHENTICATION, issuers)
              : PostureItem.warn(
                  "auth.issuers",
                  Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
                  issuers,
                  "the keys of "
                      + stale
                      + " could not be fetched last time; the last good ones"
                      + " serve until they go stale"));
      items.add(
          PostureItem.ok(
              "auth.revocation_list",
              Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
              v.hasRevocationList()));
    }
    Map<String, Object> binding = new LinkedHashMap<>();
    binding.put("certificateBoundRequired", requireBinding);
    binding.put("declaredBindingEnforced", true); // cnf.x5t#S256 and cnf.jkt (DPoP) when present
    items.add(
        PostureItem.ok("auth.token_binding", Safeguard.PERSON_OR_ENTITY_AUTHENTICATION, binding));
    items.add(
        PostureItem.ok(
            "auth.max_token_bytes", Safeguard.PERSON_OR_ENTITY_AUTHENTICATION, maxTokenBytes));
    return items;
  }

  private Principal authenticate(ServerCall<?, ?> call, Metadata headers, CallFacts facts)
      throws CredentialFailure {
    return switch (mode) {
      case CERTIFICATE_REQUIRED -> servicePrincipal(requirePeer(call, facts));
      case TOKEN_REQUIRED -> verifyToken(requireToken(headers), call, headers, facts).principal;
      case TOKEN_AND_CERTIFICATE -> {
        PeerPrincipalMapper.ServiceAccount service = mapPeer(requirePeer(call, facts));
        yield viaService(verifyToken(requireToken(headers), call, headers, facts), service);
      }
      case TOKEN_OR_CERTIFICATE -> tokenOrCertificate(call, headers, facts);
    };
  }

  private Principal tokenOrCertificate(ServerCall<?, ?> call, Metadata headers, CallFacts facts)
      throws CredentialFailure {
    String value = authorizationValue(headers);
    if (value != null) {
      JwtVerified v = verifyToken(value, call, headers, facts);
      PeerIdentity peer = peer(call, facts);
      PeerPrincipalMapper.ServiceAccount service =
          peer == null ? null : requireNonNull(peerMapper).map(peer);
      return service == null ? v.principal : viaService(v, service);
    }
    PeerIdentity peer = peer(call, facts);
    if (peer == null) {
      throw missingCredentials();
    }
    return servicePrincipal(peer);
  }

  private static String requireToken(Metadata headers) throws CredentialFailure {
    String value = authorizationValue(headers);
    if (value == null) {
      throw missingCredentials();
    }
    return value;
  }

  private static CredentialFailure missingCredentials() {
    return new CredentialFailure(
        "missing_credentials", Status.Code.UNAUTHENTICATED, CredentialFailure.BearerError.NONE);
  }

  private static Principal viaService(JwtVerified v, PeerPrincipalMapper.ServiceAccount service) {
    // The same token from the same service is the common case: build its principal once.
    Principal last = v.lastViaService;
    if (last != null && service.name.equals(last.viaService())) {
      return last;
    }
    Principal via = buildViaService(v, service);
    v.lastViaService = via;
    return via;
  }

  private static Principal buildViaService(
      JwtVerified v, PeerPrincipalMapper.ServiceAccount service) {
    Principal p = v.principal;
    Principal.AuthMethod method =
        v.boundThumbprint != null
            ? Principal.AuthMethod.CERTIFICATE_BOUND_TOKEN
            : Principal.AuthMethod.BEARER_TOKEN_VIA_MUTUAL_TLS;
    return Principal.newBuilder(p.subject(), p.kind(), method, p.credentialFingerprint())
        .addRoles(p.roles())
        .addScopes(p.scopes())
        .issuer(p.issuer())
        .tenant(p.tenant())
        .patient(p.patient())
        .fhirUser(p.fhirUser())
        .tokenId(p.tokenId())
        .acr(p.acr())
        .addAmr(p.amr())
        .authTime(p.authTime())
        .viaService(service.name)
        .build();
  }

  private Principal servicePrincipal(PeerIdentity peer) throws CredentialFailure {
    PeerPrincipalMapper.ServiceAccount service = mapPeer(peer);
    return Principal.newBuilder(
            service.name, Principal.Kind.SERVICE, Principal.AuthMethod.MUTUAL_TLS, peer.sha256Hex())
        .addRoles(service.roles)
        .build();
  }

  private PeerPrincipalMapper.ServiceAccount mapPeer(PeerIdentity peer) throws CredentialFailure {
    PeerPrincipalMapper.ServiceAccount service = requireNonNull(peerMapper).map(peer);
    if (service == null) {
      throw new CredentialFailure(
          "unknown_peer", Status.Code.UNAUTHENTICATED, CredentialFailure.BearerError.NONE);
    }
    return service;
  }

  private static PeerIdentity requirePeer(ServerCall<?, ?> call, CallFacts facts)
      throws CredentialFailure {
    PeerIdentity peer = peer(call, facts);
    if (peer == null) {
      throw new CredentialFailure(
          "certificate_required", Status.Code.UNAUTHENTICATED, CredentialFailure.BearerError.NONE);
    }
    return peer;
  }

  private static @Nullable PeerIdentity peer(ServerCall<?, ?> call, CallFacts facts) {
    PeerIdentity peer = facts.peer();
    if (peer == null) {
      peer = PeerIdentity.fromAttributes(call.getAttributes());
      if (peer != null) {
        facts.peer(peer);
      }
    }
    return peer;
  }

  /** Returns the one authorization header value, null when none was sent. */
  private static @Nullable String authorizationValue(Metadata headers) throws CredentialFailure {
    Iterable<String> values = headers.getAll(AUTHORIZATION);
    if (values == null) {
      return null;
    }
    Iterator<String> it = values.iterator();
    String value = it.next();
    if (it.hasNext()) {
      throw invalidRequest("multiple_credentials");
    }
    return value;
  }

  /** Whether an authorization header value uses the DPoP scheme (RFC 9449 section 7.1). */
  private static boolean isDpopScheme(String value) {
    return value.length() > 5 && value.regionMatches(true, 0, "DPoP ", 0, 5);
  }

  /** Returns the token of an authorization header value ({@code Bearer} or {@code DPoP}). */
  private static String bearerToken(String value) throws CredentialFailure {
    // RFC 6750 section 2.1: "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 9110).
    int start;
    if (isDpopScheme(value)) {
      start = 5;
    } else if (value.length() >= 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      start = 7;
    } else {
      throw invalidRequest("unsupported_scheme");
    }
    while (start < value.length() && value.charAt(start) == ' ') {
      start++;
    }
    return value.substring(start);
  }

  /**
   * Verifies the bearer token of {@code headerValue}, from the cache when this exact value verified
   * before (see {@link VerifiedTokenCache}); expiry, key trust, revocation and binding are checked
   * on every call.
   */
  private JwtVerified verifyToken(
      String headerValue, ServerCall<?, ?> call, Metadata headers, CallFacts facts)
      throws CredentialFailure {
    long now = clock.millis();
    JwtVerified v = null;
    VerifiedTokenCache.ExactEntry hit = cache.getExact(headerValue);
    if (hit != null) {
      v = hit.verified;
      Recheck r = recheck(v, now);
      if (r != Recheck.STILL_VALID) {
        cache.removeExact(headerValue, hit);
        if (r == Recheck.EXPIRED) {
          throw CredentialFailure.invalidToken("expired_token");
        }
        v = null;
      }
    }
    if (v == null) {
      v = verifyUncached(headerValue, bearerToken(headerValue), now);
    }
    if (requireNonNull(verifier).isRevoked(v)) {
      throw CredentialFailure.invalidToken("revoked_token");
    }
    String jkt = v.dpopJkt;
    if (jkt != null || isDpopScheme(headerValue)) {
      // RFC 9449 section 7.1: a DPoP-bound token only with the DPoP scheme and a fresh proof;
      // the DPoP scheme only with a DPoP-bound token.
      if (jkt == null || !isDpopScheme(headerValue)) {
        throw CredentialFailure.invalidToken("dpop_scheme_mismatch");
      }
      String authority = call.getAuthority();
      if (authority == null) {
        throw DpopProofs.invalidProof("dpop_wrong_htu");
      }
      dpop.verify(
          singleDpopHeader(headers),
          DpopProofs.htu(authority, call.getMethodDescriptor().getFullMethodName()),
          bearerToken(headerValue),
          jkt);
    }
    String bound = v.boundThumbprint;
    if (bound != null) {
      PeerIdentity peer = peer(call, facts);
      if (peer == null
          || !MessageDigest.isEqual(
              peer.x5tS256().getBytes(StandardCharsets.US_ASCII),
              bound.getBytes(StandardCharsets.UTF_8))) {
        throw CredentialFailure.invalidToken("token_binding_mismatch");
      }
    } else if (requireBinding) {
      throw CredentialFailure.invalidToken("token_not_bound");
    }
    return v;
  }

  private enum Recheck {
    STILL_VALID,
    EXPIRED,
    /** Time went backwards, or the key was withdrawn: verify from scratch. */
    VERIFY_AGAIN
  }

  /** What a cache hit re-checks before anything else: expiry, not-before, the key's trust. */
  private static Recheck recheck(JwtVerified v, long now) {
    if (now > v.expiresAtMillis + v.skewMillis) {
      return Recheck.EXPIRED;
    }
    Key key = v.key;
    if (now + v.skewMillis < v.notBeforeMillis
        || now >= v.recheckAtMillis
        || (key != null && !v.issuer.keySource().stillTrusts(key, now))) {
      return Recheck.VERIFY_AGAIN;
    }
    return Recheck.STILL_VALID;
  }

  /** The canonical level of the cache, then full verification; remembers the exact value. */
  private JwtVerified verifyUncached(String headerValue, String token, long now)
      throws CredentialFailure {
    if (token.length() > maxTokenBytes) {
      throw CredentialFailure.invalidToken("token_too_large");
    }
    int lastDot = canonicalCompactJwsSignatureStart(token);
    JwtVerifier jwt = requireNonNull(verifier);
    if (lastDot < 0) {
      if (!jwt.introspects() || isJwsShaped(token)) {
        // Three segments is a JWT, whatever its spelling: never sent to an introspection endpoint.
        throw CredentialFailure.invalidToken("malformed_token");
      }
      JwtVerified opaque = jwt.verifyOpaque(token);
      rolesWatch.observe(opaque.issuer, opaque.principal);
      cache.putExact(headerValue, VerifiedTokenCache.keyOf(token, token.length()), opaque, now);
      return opaque;
    }
    VerifiedTokenCache.Key key = VerifiedTokenCache.keyOf(token, lastDot);
    JwtVerified v = cache.get(key);
    if (v != null
        && !SignatureForm.same(
            v.algorithm,
            requireNonNull(v.key),
            v.canonicalSignature,
            Base64.getUrlDecoder().decode(token.substring(lastDot + 1)))) {
      // Same signing input, another signature: a forgery or a fresh signature by the issuer.
      // Verify from scratch, and leave the entry alone (a forgery must not evict it).
      v = jwt.verify(token);
    } else if (v != null) {
      Recheck r = recheck(v, now);
      if (r != Recheck.STILL_VALID) {
        cache.remove(key);
        if (r == Recheck.EXPIRED) {
          throw CredentialFailure.invalidToken("expired_token");
        }
        v = null;
      }
    }
    if (v == null) {
      v = jwt.verify(token);
      cache.put(key, v, now);
      rolesWatch.observe(v.issuer, v.principal);
    }
    cache.putExact(headerValue, key, v, now);
    return v;
  }

  /**
   * Checks that {@code token} is three canonical base64url segments (see {@link
   * JwtJson#isCanonicalBase64Url}) joined by two dots, before anything is decoded or cached, and
   * returns the index of the second dot, or -1 when it is not.
   */
  private static int canonicalCompactJwsSignatureStart(String token) {
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot2 < 0
        || token.indexOf('.', dot2 + 1) >= 0
        || !JwtJson.isCanonicalBase64Url(token, 0, dot1)
        || !JwtJson.isCanonicalBase64Url(token, dot1 + 1, dot2)
        || !JwtJson.isCanonicalBase64Url(token, dot2 + 1, token.length())) {
      return -1;
    }
    return dot2;
  }

  private static boolean isJwsShaped(String token) {
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    return dot2 > 0 && token.indexOf('.', dot2 + 1) < 0;
  }

  private static @Nullable String singleDpopHeader(Metadata headers) throws CredentialFailure {
    Iterable<String> values = headers.getAll(DPOP);
    if (values == null) {
      return null;
    }
    Iterator<String> it = values.iterator();
    String value = it.next();
    if (it.hasNext()) {
      throw DpopProofs.invalidProof("dpop_malformed");
    }
    return value;
  }

  private static CredentialFailure invalidRequest(String code) {
    return new CredentialFailure(
        code, Status.Code.UNAUTHENTICATED, CredentialFailure.BearerError.INVALID_REQUEST);
  }

  private <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call, CallFacts facts, CredentialFailure f) {
    facts.authenticationFailure(f.code());
    Metadata trailers = new Metadata();
    Status status;
    if (f.status() == Status.Code.UNAVAILABLE) {
      status =
          Refusals.status(
              Status.Code.UNAVAILABLE, "Authentication is temporarily unavailable", facts);
    } else {
      status = Refusals.status(Status.Code.UNAUTHENTICATED, "Authentication required", facts);
      if (mode != Mode.CERTIFICATE_REQUIRED) {
        trailers.put(WWW_AUTHENTICATE, challenge(f.bearerError()));
      }
    }
    logger.debug(
        "Refused {}: {} (correlation id {})",
        call.getMethodDescriptor().getFullMethodName(),
        f.code(),
        facts.correlationId());
    return Refusals.refuse(call, status, trailers);
  }

  private String challenge(CredentialFailure.BearerError error) {
    String sep = challengePrefix.length() > 6 ? ", " : " ";
    return switch (error) {
      case INVALID_TOKEN -> challengePrefix + sep + "error=\"invalid_token\"";
      case INVALID_REQUEST -> challengePrefix + sep + "error=\"invalid_request\"";
      case INVALID_DPOP_PROOF ->
          "DPoP error=\"invalid_dpop_proof\", algs=\""
              + String.join(" ", DpopProofs.ALGORITHMS_IN_ORDER)
              + "\"";
      case NONE -> challengePrefix;
    };
  }

  int cachedTokens() {
    return cache.size();
  }

  int cachedSpellings() {
    return cache.exactSize();
  }

  /** Builds an {@link AuthenticationServerInterceptor}. Not thread-safe. */
  public static final class Builder {
    private Mode mode = Mode.TOKEN_REQUIRED;
    private final List<IssuerConfig> issuers = new ArrayList<>();
    private @Nullable PeerPrincipalMapper peerMapper;
    private boolean requireBinding;
    private @Nullable RevocationList revocationList;
    private int maxTokenBytes = 8 * 1024;
    private int tokenCacheSize = 10_000;
    private Clock clock = Clock.systemUTC();
    private java.time.Duration dpopProofWindow = java.time.Duration.ofSeconds(60);
    private @Nullable String realm;

    private Builder() {}

    /**
     * How far a DPoP proof's {@code iat} may be from now, either way (RFC 9449 section 11.1), and
     * so how long its {@code jti} is remembered against replay. Default: 60 s; 1 s to 5 min.
     */
    public Builder dpopProofWindow(java.time.Duration window) {
      requireNonNull(window, "window");
      if (window.compareTo(java.time.Duration.ofSeconds(1)) < 0
          || window.compareTo(java.time.Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("dpopProofWindow must be between 1 s and 5 min");
      }
      this.dpopProofWindow = window;
      return this;
    }

    /** Sets which credentials a call must present. Default: {@link Mode#TOKEN_REQUIRED}. */
    public Builder mode(Mode mode) {
      this.mode = requireNonNull(mode, "mode");
      return this;
    }

    /** Accepts tokens of {@code issuer}; add several for several identity providers. */
    public Builder addIssuer(IssuerConfig issuer) {
      issuers.add(requireNonNull(issuer, "issuer"));
      return this;
    }

    /** Sets how client certificates map to service principals. Default: none. */
    public Builder peerPrincipalMapper(PeerPrincipalMapper mapper) {
      this.peerMapper = requireNonNull(mapper, "mapper");
      return this;
    }

    /**
     * Accepts only certificate-bound tokens (RFC 8705 {@code cnf.x5t#S256}) presented on the
     * connection of that certificate. Default: binding checked only for tokens that declare it.
     */
    public Builder requireCertificateBoundTokens() {
      this.requireBinding = true;
      return this;
    }

    /** Consults {@code list} for every token with a {@code jti}. Default: none. */
    public Builder revocationList(RevocationList list) {
      this.revocationList = requireNonNull(list, "list");
      return this;
    }

    /** Largest token accepted, checked before any parsing. Default: 8 KiB; at most 64 KiB. */
    public Builder maxTokenBytes(int bytes) {
      if (bytes < 256 || bytes > 64 * 1024) {
        throw new IllegalArgumentException("maxTokenBytes must be in [256, 65536]");
      }
      this.maxTokenBytes = bytes;
      return this;
    }

    /** Most verified tokens remembered; 0 disables the cache. Default: 10,000. */
    public Builder tokenCacheSize(int entries) {
      if (entries < 0 || entries > 10_000_000) {
        throw new IllegalArgumentException("tokenCacheSize must be in [0, 10000000]");
      }
      this.tokenCacheSize = entries;
      return this;
    }

    /** Sets the clock for exp/nbf/iat. Default: system UTC. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the {@code realm} of the {@code www-authenticate} challenge. Default: none. */
    public Builder realm(String realm) {
      requireNonNull(realm, "realm");
      for (int i = 0; i < realm.length(); i++) {
        char c = realm.charAt(i);
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
          throw new IllegalArgumentException("realm must be printable ASCII without quotes");
        }
      }
      this.realm = realm;
      return this;
    }

    /**
     * Returns the interceptor.
     *
     * @throws IllegalStateException when the mode needs issuers or a peer mapper that is missing,
     *     or settings contradict each other
     */
    public AuthenticationServerInterceptor build() {
      boolean needsTokens = mode != Mode.CERTIFICATE_REQUIRED;
      boolean needsPeers = mode != Mode.TOKEN_REQUIRED;
      if (needsTokens && issuers.isEmpty()) {
        throw new IllegalStateException("mode " + mode + " needs at least one addIssuer(...)");
      }
      if (!needsTokens && !issuers.isEmpty()) {
        throw new IllegalStateException(
            "CERTIFICATE_REQUIRED ignores tokens; remove the issuers or choose another mode");
      }
      if (needsPeers && peerMapper == null) {
        throw new IllegalStateException("mode " + mode + " needs peerPrincipalMapper(...)");
      }
      if (requireBinding && !needsTokens) {
        throw new IllegalStateException(
            "requireCertificateBoundTokens() needs a mode that accepts tokens");
      }
      return new AuthenticationServerInterceptor(this);
    }
  }
}
