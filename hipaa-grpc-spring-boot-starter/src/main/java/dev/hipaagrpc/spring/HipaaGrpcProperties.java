package dev.hipaagrpc.spring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code hipaa.grpc.*} properties. Every part has the library's defaults; what has no safe
 * default (key material, issuers, the audit log) must be configured, and start-up fails with the
 * library's own message when it is not. Immutable.
 *
 * @param enabled whether the starter configures Spring's gRPC server at all (default true)
 * @param tls the server's mutual TLS
 * @param authentication who the callers are
 * @param authorization the policy file, pooled with the rpcs' {@code .proto} options
 * @param audit the chained audit log
 * @param rateLimit per-caller rate limits
 * @param exemptFromAuthentication method patterns served without credentials (still audited);
 *     default: the gRPC health service
 * @param exemptFromAudit method patterns not audited; default: none
 * @param maxCallDuration the deadline cap of every call (default 5 minutes)
 * @param allowUnsafeOtherServerFactories start even though another {@code GrpcServerFactory} (a
 *     user's own, Spring's in-process one) serves services without the stack (default false:
 *     start-up fails)
 */
@ConfigurationProperties("hipaa.grpc")
public record HipaaGrpcProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue Tls tls,
    @DefaultValue Authentication authentication,
    @DefaultValue Authorization authorization,
    @DefaultValue Audit audit,
    @DefaultValue RateLimit rateLimit,
    @DefaultValue("grpc.health.v1.Health/*") List<String> exemptFromAuthentication,
    @DefaultValue List<String> exemptFromAudit,
    @DefaultValue("5m") Duration maxCallDuration,
    @DefaultValue("false") boolean allowUnsafeOtherServerFactories) {

  /**
   * The server's TLS material, in PEM files re-read every {@code reloadPeriod} (rotation without a
   * restart).
   *
   * @param certificateChain the server's certificate chain (required)
   * @param privateKey its private key, PKCS#8 PEM (required)
   * @param trustBundle the CAs client certificates must chain to (required while clients must
   *     present one)
   * @param crls certificate revocation lists checked on every handshake (default none)
   * @param reloadPeriod how often the files are re-read (default 1 minute)
   * @param clientCertificate {@code required} (default) or {@code none}; {@code none} is unsafe (no
   *     client authentication at the transport) and logged as such at start-up
   */
  public record Tls(
      @Nullable Path certificateChain,
      @Nullable Path privateKey,
      @Nullable Path trustBundle,
      @DefaultValue List<Path> crls,
      @DefaultValue("1m") Duration reloadPeriod,
      @DefaultValue("required") ClientCertificate clientCertificate) {}

  /** Whether clients must present a certificate. */
  public enum ClientCertificate {
    REQUIRED,
    /** Unsafe: any TLS client may connect; credentials come from tokens only. */
    NONE
  }

  /**
   * Authentication.
   *
   * @param mode {@code token-required} (default), {@code certificate-required}, {@code
   *     token-and-certificate}, {@code token-or-certificate}
   * @param issuers the identity providers whose tokens are accepted
   * @param spiffeTrustDomains SPIFFE trust domains whose client certificates identify services
   */
  public record Authentication(
      @DefaultValue("token-required") AuthenticationMode mode,
      @DefaultValue List<Issuer> issuers,
      @DefaultValue List<String> spiffeTrustDomains) {}

  /** See {@code AuthenticationServerInterceptor.Mode}. */
  public enum AuthenticationMode {
    TOKEN_REQUIRED,
    CERTIFICATE_REQUIRED,
    TOKEN_AND_CERTIFICATE,
    TOKEN_OR_CERTIFICATE
  }

  /**
   * One identity provider. Exactly one key source: {@code jwksUri}, {@code discovery} (OIDC
   * discovery at the issuer) or {@code jwkSetFile}.
   *
   * @param issuer the exact {@code iss} (required)
   * @param audience the audience tokens must carry (required)
   * @param jwksUri where its JWK Set is published (HTTPS)
   * @param discovery find the JWK Set by OIDC discovery at the issuer
   * @param jwkSetFile a JWK Set file, read at start-up
   * @param trustBundle CAs for the provider's HTTPS endpoints; default: the JDK's trust
   * @param preset how claims map to a principal: {@code default}, {@code keycloak} (needs {@code
   *     clientId}), {@code auth0} (needs {@code rolesClaim}), {@code okta}, {@code entra-id},
   *     {@code cognito}, {@code smart-on-fhir}
   * @param clientId the Keycloak client whose service account tokens count as services
   * @param rolesClaim Auth0's namespaced roles claim
   * @param audienceClaim another claim than {@code aud} holding the audience (Cognito: {@code
   *     client_id})
   * @param maxTokenLifetime refuse tokens issued for longer ({@code exp - iat}); default unbounded
   * @param requireTokenId refuse tokens without {@code jti}
   * @param tenantClaim the claim (path) holding the caller's tenant; default: none
   */
  public record Issuer(
      @Nullable String issuer,
      @Nullable String audience,
      @Nullable String jwksUri,
      @DefaultValue("false") boolean discovery,
      @Nullable Path jwkSetFile,
      @Nullable Path trustBundle,
      @DefaultValue("default") Preset preset,
      @Nullable String clientId,
      @Nullable String rolesClaim,
      @Nullable String audienceClaim,
      @Nullable Duration maxTokenLifetime,
      @DefaultValue("false") boolean requireTokenId,
      @Nullable String tenantClaim) {}

  /** Claim mapping presets, one per identity provider ({@code ClaimMapping}). */
  public enum Preset {
    DEFAULT,
    KEYCLOAK,
    AUTH0,
    OKTA,
    ENTRA_ID,
    COGNITO,
    SMART_ON_FHIR
  }

  /**
   * Authorization: the rpcs' {@code .proto} options of every service Spring serves, pooled with an
   * {@code AuthorizationPolicy} bean and this policy file when present.
   *
   * @param policyFile a policy in protobuf text format (or JSON when it ends in {@code .json})
   * @param watchPeriod how often the policy file is re-read (default 30 s; a broken file keeps the
   *     last good policy)
   */
  public record Authorization(
      @Nullable Path policyFile, @DefaultValue("30s") Duration watchPeriod) {}

  /**
   * The chained, signed audit log. Required unless {@code enabled} is false, which is unsafe and
   * allowed only with {@code allow-unsafe-without-audit}.
   *
   * @param enabled whether calls are audited (default true)
   * @param allowUnsafeWithoutAudit acknowledges running without audit (default false)
   * @param directory where the log files go (required)
   * @param genesisKeyFile the chain's genesis HMAC key (hex, 32 bytes)
   * @param identifierKeyFile the key for keyed hashes of identifiers in events (hex, 32 bytes)
   * @param signingPrivateKeyFile the checkpoint signing key (Ed25519, PEM)
   * @param signingPublicKeyFile its public key (PEM)
   * @param delivery {@code fail-closed} (default: calls fail UNAVAILABLE while events cannot be
   *     written) or {@code block}
   * @param durableBeforeResponse whether a response waits until its event is on disk (default true)
   */
  public record Audit(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("false") boolean allowUnsafeWithoutAudit,
      @Nullable Path directory,
      @Nullable Path genesisKeyFile,
      @Nullable Path identifierKeyFile,
      @Nullable Path signingPrivateKeyFile,
      @Nullable Path signingPublicKeyFile,
      @DefaultValue("fail-closed") Delivery delivery,
      @DefaultValue("true") boolean durableBeforeResponse) {}

  /** What the audit does when its queue is full or the log cannot be written. */
  public enum Delivery {
    FAIL_CLOSED,
    BLOCK
  }

  /**
   * Per-caller rate limits (token bucket).
   *
   * @param permitsPerSecond the sustained rate per caller (default 50)
   * @param burst the bucket size (default 100)
   */
  public record RateLimit(
      @DefaultValue("50") double permitsPerSecond, @DefaultValue("100") long burst) {}
}
