package dev.hipaagrpc.auth.authn;

import dev.hipaagrpc.core.Principal;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.ExpiredJwtException;
import io.jsonwebtoken.Header;
import io.jsonwebtoken.InvalidClaimException;
import io.jsonwebtoken.Jws;
import io.jsonwebtoken.JwsHeader;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.JwtParserBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.Locator;
import io.jsonwebtoken.ProtectedHeader;
import io.jsonwebtoken.lang.NestedCollection;
import io.jsonwebtoken.security.SecureDigestAlgorithm;
import io.jsonwebtoken.security.UnsupportedKeyException;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies bearer JWTs for a set of issuers. Everything an attacker controls is checked by this
 * class before jjwt or the JCA sees it: shape, canonical base64url, strict JSON and UTF-8 of header
 * and payload (no duplicate members), registered claim types, algorithm allow-list, {@code
 * crit}/{@code zip}/{@code enc}/{@code b64}, and the raw signature length. jjwt then checks, with
 * the same strict JSON reader, the signature, {@code iss} (exact), {@code aud} (contains), {@code
 * exp}/{@code nbf} with skew. Thread-safe.
 */
final class JwtVerifier {
  private static final Logger logger = LoggerFactory.getLogger(JwtVerifier.class);

  private final Map<String, IssuerConfig> issuers;
  private final Map<String, JwtParser> parsers;
  private final @Nullable IssuerConfig single;
  private final Clock clock;
  private final @Nullable RevocationList revocation;
  private final @Nullable IssuerConfig introspecting;

  /** Issuers and audiences for the start-up summary: public configuration, no key material. */
  String describe() {
    StringBuilder s = new StringBuilder();
    for (IssuerConfig c : issuers.values()) {
      if (s.length() > 0) {
        s.append(", ");
      }
      s.append(c.issuer()).append(" (audience ").append(c.audience()).append(')');
    }
    return s.toString();
  }

  /** The issuers, sorted by name (for the posture report). */
  List<IssuerConfig> issuers() {
    List<IssuerConfig> list = new java.util.ArrayList<>(issuers.values());
    list.sort(java.util.Comparator.comparing(IssuerConfig::issuer));
    return list;
  }

  boolean hasRevocationList() {
    return revocation != null;
  }

  JwtVerifier(List<IssuerConfig> configs, Clock clock, @Nullable RevocationList revocation) {
    this.clock = clock;
    this.revocation = revocation;
    Map<String, IssuerConfig> byIss = new HashMap<>();
    Map<String, JwtParser> p = new HashMap<>();
    IssuerConfig introspects = null;
    for (IssuerConfig c : configs) {
      if (c.introspection() != null) {
        if (introspects != null) {
          throw new IllegalStateException(
              "at most one issuer may introspect opaque tokens (an opaque token names no issuer): "
                  + introspects.issuer()
                  + ", "
                  + c.issuer());
        }
        introspects = c;
      }
      if (byIss.put(c.issuer(), c) != null) {
        throw new IllegalStateException("issuer configured twice: " + c.issuer());
      }
      p.put(c.issuer(), parserFor(c, clock));
    }
    this.issuers = Map.copyOf(byIss);
    this.parsers = Map.copyOf(p);
    this.single = configs.size() == 1 ? configs.get(0) : null;
    this.introspecting = introspects;
  }

  /** Whether an issuer takes opaque tokens by introspection. */
  boolean introspects() {
    return introspecting != null;
  }

  @SuppressWarnings("JavaUtilDate") // jjwt's Clock API
  private static JwtParser parserFor(IssuerConfig c, Clock clock) {
    JwtParserBuilder b =
        Jwts.parser()
            .requireIssuer(c.issuer())
            .clockSkewSeconds(c.clockSkew().toSeconds())
            .clock(() -> new Date(clock.millis()))
            .keyLocator(new IssuerKeyLocator(c.keySource()))
            // jjwt's default Gson reader is lenient; ours refuses what the pre-check refuses.
            .json(JwtJson.STRICT_DESERIALIZER);
    if (c.audienceClaim().equals(Claims.AUDIENCE)) {
      b = b.requireAudience(c.audience());
    }
    // No compressed tokens: decompression is an amplification vector and no IdP needs it.
    b = b.zip().clear().and();
    NestedCollection<SecureDigestAlgorithm<?, ?>, JwtParserBuilder> sigs = b.sig().clear();
    for (String alg : c.algorithms()) {
      SecureDigestAlgorithm<?, ?> a = Jwts.SIG.get().get(alg);
      if (a == null) {
        throw new IllegalStateException("algorithm not available: " + alg);
      }
      sigs = sigs.add(a);
    }
    return sigs.and().build();
  }

  /** Finds the key again inside jjwt; the pre-check has already resolved (and fetched) it. */
  private static final class IssuerKeyLocator implements Locator<Key> {
    private final KeySource source;

    IssuerKeyLocator(KeySource source) {
      this.source = source;
    }

    @Override
    public Key locate(Header header) {
      if (!(header instanceof ProtectedHeader protectedHeader)) {
        throw new UnsupportedKeyException("unprotected JWT");
      }
      String alg = header.getAlgorithm();
      try {
        return source.resolve(protectedHeader.getKeyId(), alg == null ? "" : alg);
      } catch (CredentialFailure e) {
        throw new UnsupportedKeyException("key not found");
      }
    }
  }

  /**
   * Verifies {@code token} (the part after {@code Bearer }) completely.
   *
   * @throws CredentialFailure with a fixed code when the token is refused or keys are missing
   */
  JwtVerified verify(String token) throws CredentialFailure {
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || dot2 >= token.length() - 1) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    byte[] headerBytes = JwtJson.decodeBase64Url(token, 0, dot1);
    Map<String, Object> header = headerBytes == null ? null : JwtJson.parseObject(headerBytes);
    if (header == null) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    String alg = JwtJson.string(header, "alg");
    if (alg == null
        || header.containsKey("crit")
        || header.containsKey("zip")
        || header.containsKey("enc")
        || header.containsKey("b64")) {
      // We understand no JWS extension; RFC 7515 4.1.11 requires refusing unknown crit.
      throw CredentialFailure.invalidToken("unsupported_header");
    }
    Object kidValue = header.get("kid");
    String kid = null;
    if (kidValue instanceof String s) {
      kid = s;
    } else if (header.containsKey("kid")) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    // The payload is checked as strictly as the header on every verification, whichever issuer.
    byte[] payloadBytes = JwtJson.decodeBase64Url(token, dot1 + 1, dot2);
    Map<String, Object> payload = payloadBytes == null ? null : JwtJson.parseObject(payloadBytes);
    if (payload == null) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    if (!registeredClaimTypesValid(payload)) {
      throw CredentialFailure.invalidToken("wrong_claim_type");
    }

    IssuerConfig config = single;
    if (config == null) {
      String iss = JwtJson.string(payload, "iss");
      config = iss == null ? null : issuers.get(iss);
      if (config == null) {
        throw CredentialFailure.invalidToken("unknown_issuer");
      }
    }
    if (!config.algorithms().contains(alg)) {
      throw CredentialFailure.invalidToken("algorithm_not_allowed");
    }
    String requiredType = config.requiredType();
    if (requiredType != null) {
      String typ = JwtJson.string(header, "typ");
      String t = typ == null ? "" : typ.toLowerCase(Locale.ROOT);
      if (t.startsWith("application/")) {
        t = t.substring(12);
      }
      if (!t.equals(requiredType)) {
        throw CredentialFailure.invalidToken("wrong_type");
      }
    }
    byte[] sig = JwtJson.decodeBase64Url(token, dot2 + 1, token.length());
    if (sig == null) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    Key key = config.keySource().resolve(kid, alg);
    if (!SignatureLengthCheck.acceptable(alg, key, sig)) {
      throw CredentialFailure.invalidToken("bad_signature");
    }

    Jws<Claims> jws;
    try {
      jws = requireNonNullParser(config).parseSignedClaims(token);
    } catch (ExpiredJwtException e) {
      throw CredentialFailure.invalidToken("expired_token");
    } catch (InvalidClaimException e) {
      // Thrown only after the signature verified. The claim name is public; its value is not.
      throw CredentialFailure.invalidToken(
          switch (e.getClaimName()) {
            case Claims.ISSUER -> "wrong_issuer";
            case Claims.AUDIENCE -> "wrong_audience";
            default -> "invalid_token";
          });
    } catch (RuntimeException e) {
      // jjwt's messages quote claim values; only the class name is logged.
      logger.debug("Credential refused by jjwt: {}", e.getClass().getSimpleName());
      throw CredentialFailure.invalidToken("invalid_token");
    }
    return toVerified(config, key, alg, SignatureForm.canonical(alg, key, sig), jws, token);
  }

  /**
   * RFC 7519 section 4.1 types: {@code iss}, {@code sub}, {@code jti} strings; {@code aud} a string
   * or an array of strings; {@code exp}, {@code nbf}, {@code iat} numbers. jjwt would otherwise
   * also read ISO-8601 date strings and turn other values into strings.
   */
  private static boolean registeredClaimTypesValid(Map<String, Object> payload) {
    for (String name : List.of("iss", "sub", "jti")) {
      if (payload.containsKey(name) && !(payload.get(name) instanceof String)) {
        return false;
      }
    }
    for (String name : List.of("exp", "nbf", "iat")) {
      if (payload.containsKey(name) && !(payload.get(name) instanceof Number)) {
        return false;
      }
    }
    if (payload.containsKey("aud")) {
      Object aud = payload.get("aud");
      if (aud instanceof List<?> list) {
        for (Object o : list) {
          if (!(o instanceof String)) {
            return false;
          }
        }
      } else if (!(aud instanceof String)) {
        return false;
      }
    }
    return true;
  }

  private JwtParser requireNonNullParser(IssuerConfig config) {
    JwtParser p = parsers.get(config.issuer());
    if (p == null) {
      throw new IllegalStateException("no parser for a configured issuer");
    }
    return p;
  }

  @SuppressWarnings("JavaUtilDate") // jjwt's Claims API
  private JwtVerified toVerified(
      IssuerConfig config,
      Key key,
      String alg,
      byte[] canonicalSignature,
      Jws<Claims> jws,
      String token)
      throws CredentialFailure {
    Claims claims = jws.getPayload();
    JwsHeader header = jws.getHeader();
    if (header.getAlgorithm() == null) {
      throw CredentialFailure.invalidToken("invalid_token");
    }
    Date exp = claims.getExpiration();
    if (exp == null) {
      throw CredentialFailure.invalidToken("missing_expiry");
    }
    Date iat = claims.getIssuedAt();
    Date nbf = claims.getNotBefore();
    return fromClaims(
        config,
        claims,
        new Times(
            exp.getTime(),
            iat == null ? null : iat.getTime(),
            nbf == null ? Long.MIN_VALUE : nbf.getTime()),
        key,
        alg,
        canonicalSignature,
        fingerprint(token, canonicalSignature),
        Long.MAX_VALUE);
  }

  /**
   * Checks an opaque token (anything but a compact JWS) by introspection at the one issuer
   * configured for it, then applies the same claim rules as to a JWT.
   *
   * @throws CredentialFailure {@code malformed_token} when no issuer introspects or the token is no
   *     RFC 6750 b64token, {@code inactive_token}, {@code introspection_unavailable}, or any code
   *     of the claim rules
   */
  JwtVerified verifyOpaque(String token) throws CredentialFailure {
    IssuerConfig config = introspecting;
    TokenIntrospection introspection = config == null ? null : config.introspection();
    if (config == null || introspection == null || !isB64Token(token)) {
      throw CredentialFailure.invalidToken("malformed_token");
    }
    Map<String, Object> claims = introspection.introspect(token);
    if (!registeredClaimTypesValid(claims)) {
      throw CredentialFailure.invalidToken("wrong_claim_type");
    }
    if (claims.containsKey("iss") && !config.issuer().equals(claims.get("iss"))) {
      throw CredentialFailure.invalidToken("wrong_issuer");
    }
    if (claims.containsKey("token_type")
        && !(claims.get("token_type") instanceof String type
            && (type.equalsIgnoreCase("Bearer") || type.equalsIgnoreCase("DPoP")))) {
      // RFC 7662 section 2.2: e.g. a refresh token presented as an access token.
      throw CredentialFailure.invalidToken("wrong_type");
    }
    if (config.audienceClaim().equals(Claims.AUDIENCE)
        && !containsAudience(claims.get(Claims.AUDIENCE), config.audience())) {
      throw CredentialFailure.invalidToken("wrong_audience");
    }
    Long exp = numericDateMillis(claims.get("exp"));
    if (exp == null) {
      throw CredentialFailure.invalidToken("missing_expiry");
    }
    Long nbf = numericDateMillis(claims.get("nbf"));
    long now = clock.millis();
    long skew = config.clockSkew().toMillis();
    if (now > exp + skew) {
      throw CredentialFailure.invalidToken("expired_token");
    }
    if (nbf != null && now + skew < nbf) {
      throw CredentialFailure.invalidToken("invalid_token");
    }
    long recheckAt = Math.min(exp, now + introspection.maxCacheMillis());
    JwtVerified v =
        fromClaims(
            config,
            claims,
            new Times(
                exp, numericDateMillis(claims.get("iat")), nbf == null ? Long.MIN_VALUE : nbf),
            null,
            "",
            new byte[0],
            digestHex(token),
            recheckAt);
    if (claims.get("token_type") instanceof String type
        && type.equalsIgnoreCase("DPoP") != (v.dpopJkt != null)) {
      // RFC 9449 section 6.2: a DPoP token's answer carries cnf.jkt, a bearer token's none.
      throw CredentialFailure.invalidToken("wrong_type");
    }
    return v;
  }

  /** {@code exp}, {@code iat} (null when absent) and {@code nbf}, in epoch milliseconds. */
  private record Times(long exp, @Nullable Long iat, long nbf) {}

  /** The claim rules every verified token passes, whether a JWT or an introspection answer. */
  private JwtVerified fromClaims(
      IssuerConfig config,
      Map<String, ?> claims,
      Times times,
      @Nullable Key key,
      String alg,
      byte[] canonicalSignature,
      String fingerprint,
      long recheckAtMillis)
      throws CredentialFailure {
    long now = clock.millis();
    long skew = config.clockSkew().toMillis();
    Long iat = times.iat();
    if (iat != null && iat > now + skew) {
      throw CredentialFailure.invalidToken("issued_in_future");
    }
    for (String required : config.requiredClaims()) {
      if (claims.get(required) == null) {
        throw CredentialFailure.invalidToken("missing_claim");
      }
    }
    if (!config.audienceClaim().equals(Claims.AUDIENCE)
        && !containsAudience(
            ClaimMapping.lookup(claims, config.audienceClaim()), config.audience())) {
      throw CredentialFailure.invalidToken("wrong_audience");
    }
    ClaimMapping mapping = config.claimMapping();
    String subject = mapping.subject(claims);
    if (subject == null) {
      throw CredentialFailure.invalidToken("missing_subject");
    }
    Object jtiValue = claims.get("jti");
    String jti = jtiValue instanceof String s ? s : null;
    if (config.requireTokenId() && (jti == null || jti.isBlank())) {
      throw CredentialFailure.invalidToken("missing_jti");
    }
    java.time.Duration maxLifetime = config.maxTokenLifetime();
    if (maxLifetime != null) {
      if (iat == null) {
        throw CredentialFailure.invalidToken("missing_claim");
      }
      if (times.exp() - iat > maxLifetime.toMillis()) {
        throw CredentialFailure.invalidToken("token_lifetime_too_long");
      }
    }
    String bound = null;
    String jkt = null;
    Object cnf = claims.get("cnf");
    if (cnf != null) {
      // A confirmation method we cannot check must not be ignored (RFC 7800 section 3.1): cnf
      // must hold exactly one of x5t#S256 (RFC 8705) and jkt (RFC 9449), a non-empty string.
      if (!(cnf instanceof Map<?, ?> m) || m.size() != 1) {
        throw CredentialFailure.invalidToken("unsupported_confirmation");
      }
      if (m.get("x5t#S256") instanceof String s && !s.isEmpty()) {
        bound = s;
      } else if (m.get("jkt") instanceof String s && !s.isEmpty()) {
        jkt = s;
      } else {
        throw CredentialFailure.invalidToken("unsupported_confirmation");
      }
    }
    Principal.Kind kind = mapping.isService(claims) ? Principal.Kind.SERVICE : Principal.Kind.USER;
    Principal.Builder p =
        Principal.newBuilder(
                subject,
                kind,
                bound != null
                    ? Principal.AuthMethod.CERTIFICATE_BOUND_TOKEN
                    : jkt != null
                        ? Principal.AuthMethod.DPOP_BOUND_TOKEN
                        : Principal.AuthMethod.BEARER_TOKEN,
                fingerprint)
            .issuer(config.issuer())
            .addRoles(mapping.roles(claims))
            .addScopes(mapping.scopes(claims))
            .tenant(mapping.tenant(claims))
            .tokenId(jti)
            .acr(claims.get("acr") instanceof String a && !a.isBlank() ? a : null)
            .addAmr(amr(claims.get("amr")))
            .authTime(authTime(claims.get("auth_time")));
    if (mapping.smartContext()) {
      p.patient(mapping.patient(claims)).fhirUser(mapping.fhirUser(claims));
    }
    return new JwtVerified(
        config,
        key,
        alg,
        canonicalSignature,
        times.exp(),
        times.nbf(),
        recheckAtMillis,
        jti,
        bound,
        jkt,
        p.build());
  }

  /** A NumericDate (seconds, possibly fractional) in milliseconds, or null when absent. */
  private static @Nullable Long numericDateMillis(@Nullable Object value) throws CredentialFailure {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw CredentialFailure.invalidToken("wrong_claim_type");
    }
    double millis = n.doubleValue() * 1000;
    // Far outside any real date: clamp, so the arithmetic below cannot overflow.
    return (long) Math.max(-1e15, Math.min(1e15, millis));
  }

  /** RFC 6750 section 2.1 b64token: what an opaque token may be made of. */
  private static boolean isB64Token(String token) {
    int n = token.length();
    int i = 0;
    while (i < n && isTokenChar(token.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return false;
    }
    while (i < n && token.charAt(i) == '=') {
      i++;
    }
    return i == n;
  }

  private static boolean isTokenChar(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '.'
        || c == '_'
        || c == '~'
        || c == '+'
        || c == '/';
  }

  /** RFC 8176 {@code amr}: an array of strings; anything else names no method. */
  private static List<String> amr(@Nullable Object value) {
    List<String> out = new java.util.ArrayList<>();
    if (value instanceof List<?> list) {
      for (Object o : list) {
        if (o instanceof String s && !s.isBlank()) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /** OIDC {@code auth_time}: a NumericDate (seconds); anything else is no time. */
  private static java.time.@Nullable Instant authTime(@Nullable Object value) {
    if (value instanceof Number n && Double.isFinite(n.doubleValue()) && n.doubleValue() >= 0) {
      return java.time.Instant.ofEpochSecond(n.longValue());
    }
    return null;
  }

  private static boolean containsAudience(@Nullable Object value, String audience) {
    return audience.equals(value) || (value instanceof List<?> list && list.contains(audience));
  }

  /** Checks what may change after a token was verified: revocation. */
  boolean isRevoked(JwtVerified v) {
    RevocationList r = revocation;
    String jti = v.tokenId;
    return r != null && jti != null && r.isRevoked(v.issuer.issuer(), jti);
  }

  Set<String> issuerNames() {
    return issuers.keySet();
  }

  /**
   * The first 128 bits of SHA-256 over the token's canonical form, in hex: tells sessions apart,
   * reveals nothing. The canonical form is the token as sent, except that an ECDSA signature is in
   * its low-S form, so every accepted re-encoding of one token has one fingerprint.
   */
  static String fingerprint(String token, byte[] canonicalSignature) {
    return digestHex(
        token.substring(0, token.lastIndexOf('.') + 1)
            + Base64.getUrlEncoder().withoutPadding().encodeToString(canonicalSignature));
  }

  /** The first 16 bytes of the SHA-256 of an ASCII token, in hex: its fingerprint. */
  private static String digestHex(String token) {
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
    return HexFormat.of().formatHex(digest, 0, 16);
  }
}
