package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One identity provider whose bearer tokens a service accepts: its exact issuer ({@code iss}), its
 * key source, the audience tokens must name, the signature algorithms allowed, and how claims map
 * to a principal.
 *
 * <p>Defaults: algorithms RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA
 * for public-key sources, HS256, HS384 and HS512 for an HMAC secret ({@code none} is never
 * accepted, and HS* never with public keys); clock skew 60 seconds; no {@code typ} check; no
 * required claims beyond {@code iss}, {@code aud}, {@code exp} and {@code sub}; {@link
 * ClaimMapping#defaults()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class IssuerConfig {

  static final Set<String> ASYMMETRIC =
      Set.of(
          "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
  static final Set<String> HMAC = Set.of("HS256", "HS384", "HS512");

  private final String issuer;
  private final KeySource keySource;
  private final String audience;
  private final String audienceClaim;
  private final @Nullable Duration maxTokenLifetime;
  private final boolean requireTokenId;
  private final Set<String> algorithms;
  private final Duration clockSkew;
  private final @Nullable String requiredType;
  private final List<String> requiredClaims;
  private final ClaimMapping claimMapping;
  private final @Nullable TokenIntrospection introspection;

  private IssuerConfig(Builder b, String audience, Set<String> algorithms) {
    this.issuer = b.issuer;
    this.keySource = b.keySource;
    this.audience = audience;
    this.audienceClaim = b.audienceClaim;
    this.maxTokenLifetime = b.maxTokenLifetime;
    this.requireTokenId = b.requireTokenId;
    this.algorithms = Set.copyOf(algorithms);
    this.clockSkew = b.clockSkew;
    this.requiredType = b.requiredType;
    this.requiredClaims = List.copyOf(b.requiredClaims);
    this.claimMapping = b.claimMapping;
    this.introspection = b.introspection;
  }

  /**
   * Starts the configuration of an issuer.
   *
   * @param issuer the issuer identifier, compared exactly with each token's {@code iss}
   * @param keySource where the issuer's verification keys come from
   */
  public static Builder newBuilder(String issuer, KeySource keySource) {
    return new Builder(issuer, keySource);
  }

  /**
   * Starts the configuration of an issuer whose access tokens are opaque and checked by token
   * introspection (RFC 7662) only; a JWT naming this issuer is refused ({@code unknown_key}). At
   * most one issuer of a server may introspect: an opaque token names no issuer.
   *
   * @param issuer the issuer identifier, compared exactly with {@code iss} when the answer has one
   */
  public static Builder newBuilder(String issuer, TokenIntrospection introspection) {
    return new Builder(issuer, KeySource.none()).introspection(introspection);
  }

  /** The issuer identifier. */
  public String issuer() {
    return issuer;
  }

  /** The audience tokens must contain. */
  public String audience() {
    return audience;
  }

  /** The accepted JWS algorithms. */
  public Set<String> algorithms() {
    return algorithms;
  }

  KeySource keySource() {
    return keySource;
  }

  Duration clockSkew() {
    return clockSkew;
  }

  @Nullable String requiredType() {
    return requiredType;
  }

  List<String> requiredClaims() {
    return requiredClaims;
  }

  /** The longest {@code exp - iat} accepted, or null when not bounded. */
  @Nullable Duration maxTokenLifetime() {
    return maxTokenLifetime;
  }

  boolean requireTokenId() {
    return requireTokenId;
  }

  /** The claim the audience is checked in: {@code aud} unless configured otherwise. */
  String audienceClaim() {
    return audienceClaim;
  }

  ClaimMapping claimMapping() {
    return claimMapping;
  }

  /** How this issuer's opaque tokens are checked, or null when it issues JWTs only. */
  public @Nullable TokenIntrospection introspection() {
    return introspection;
  }

  /** Builds an {@link IssuerConfig}. Not thread-safe. */
  public static final class Builder {
    private final String issuer;
    private final KeySource keySource;
    private @Nullable String audience;
    private String audienceClaim = "aud";
    private @Nullable Duration maxTokenLifetime;
    private boolean requireTokenId;
    private @Nullable Set<String> algorithms;
    private Duration clockSkew = Duration.ofSeconds(60);
    private @Nullable String requiredType;
    private final Set<String> requiredClaims = new LinkedHashSet<>();
    private ClaimMapping claimMapping = ClaimMapping.defaults();
    private @Nullable TokenIntrospection introspection;

    private Builder(String issuer, KeySource keySource) {
      this.issuer = requireNonBlank(issuer, "issuer");
      this.keySource = requireNonNull(keySource, "keySource");
    }

    /** Sets the audience every token must contain in {@code aud}. Required. */
    public Builder audience(String audience) {
      this.audience = requireNonBlank(audience, "audience");
      return this;
    }

    /**
     * Refuses tokens issued for longer than {@code max} ({@code exp - iat}; a token without {@code
     * iat} is refused too): the issuer-side half of automatic logoff, so a stolen or forgotten
     * token cannot outlive a short session even if the identity provider is misconfigured. Failure
     * code {@code token_lifetime_too_long} (or {@code missing_claim}). Default: not bounded.
     */
    public Builder maxTokenLifetime(Duration max) {
      requireNonNull(max, "max");
      if (max.isNegative() || max.isZero()) {
        throw new IllegalArgumentException("maxTokenLifetime must be positive");
      }
      this.maxTokenLifetime = max;
      return this;
    }

    /**
     * Requires a {@code jti} in every token, so each can be revoked ({@code RevocationList}) and
     * told apart in the audit. Failure code {@code missing_jti}. Default: not required.
     */
    public Builder requireTokenId() {
      this.requireTokenId = true;
      return this;
    }

    /**
     * Checks the audience in another claim than {@code aud}: a string equal to the audience, or an
     * array containing it. For identity providers whose access tokens carry no {@code aud}, such as
     * Amazon Cognito ({@code client_id}). A token that lacks the claim is refused ({@code
     * wrong_audience}). Default: {@code aud}.
     */
    public Builder audienceClaim(String claim) {
      this.audienceClaim = requireNonBlank(claim, "claim");
      return this;
    }

    /**
     * Restricts the accepted JWS algorithms ({@code RS256}, {@code ES256}, {@code EdDSA}, {@code
     * HS256}, ...). Default: every asymmetric algorithm for public keys, HS256/384/512 for a
     * secret.
     *
     * @throws IllegalArgumentException for {@code none} or an unknown algorithm
     */
    public Builder algorithms(String... algorithms) {
      Set<String> set = new LinkedHashSet<>();
      for (String alg : algorithms) {
        requireNonNull(alg, "algorithm");
        if (!ASYMMETRIC.contains(alg) && !HMAC.contains(alg)) {
          throw new IllegalArgumentException(
              "unsupported algorithm (none is never accepted): " + alg);
        }
        set.add(alg);
      }
      if (set.isEmpty()) {
        throw new IllegalArgumentException("at least one algorithm is required");
      }
      this.algorithms = set;
      return this;
    }

    /** Sets the tolerated clock difference for exp/nbf/iat. Default: 60 s; at most 5 min. */
    public Builder clockSkew(Duration skew) {
      requireNonNull(skew, "skew");
      if (skew.isNegative() || skew.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("clockSkew must be between 0 and 5 minutes");
      }
      this.clockSkew = skew;
      return this;
    }

    /**
     * Requires the JOSE {@code typ} header, compared case-insensitively and with an optional {@code
     * application/} prefix; use {@code at+jwt} for RFC 9068 access tokens. Default: not checked.
     */
    public Builder requireType(String type) {
      requireNonNull(type, "type");
      String t = type.toLowerCase(Locale.ROOT);
      this.requiredType = t.startsWith("application/") ? t.substring(12) : t;
      return this;
    }

    /** Adds claims that must be present (any value). Default: none beyond the standard ones. */
    public Builder requireClaims(String... claims) {
      for (String c : claims) {
        requireNonNull(c, "claim");
        requiredClaims.add(c);
      }
      return this;
    }

    /** Sets how claims map to a principal. Default: {@link ClaimMapping#defaults()}. */
    public Builder claimMapping(ClaimMapping mapping) {
      this.claimMapping = requireNonNull(mapping, "mapping");
      return this;
    }

    /**
     * Checks tokens that are not JWTs (not three base64url segments) by introspection at this
     * issuer (RFC 7662); JWTs are still verified locally with the key source. See {@link
     * TokenIntrospection} for what the answer must hold. Default: none (opaque tokens are refused
     * as {@code malformed_token}).
     */
    public Builder introspection(TokenIntrospection introspection) {
      this.introspection = requireNonNull(introspection, "introspection");
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalStateException if no audience is set, or the algorithms do not fit the key
     *     source (HS* with public keys, or asymmetric algorithms with an HMAC secret)
     */
    public IssuerConfig build() {
      if (audience == null) {
        throw new IllegalStateException("set the audience tokens must carry: audience(...)");
      }
      Set<String> algs = algorithms;
      if (algs == null) {
        algs = keySource.isSymmetric() ? HMAC : ASYMMETRIC;
      }
      for (String alg : algs) {
        if (keySource.isSymmetric() != HMAC.contains(alg)) {
          throw new IllegalStateException(
              keySource.isSymmetric()
                  ? "an HMAC secret accepts only HS256/HS384/HS512; remove " + alg
                  : "HS* algorithms need KeySource.ofHmacSecret and never mix with public keys;"
                      + " remove "
                      + alg);
        }
      }
      return new IssuerConfig(this, audience, algs);
    }
  }
}
