package dev.hipaagrpc.core;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The one verified identity of a caller: who it is, what it may claim, and how that was proven.
 *
 * <p>Authentication creates exactly one {@code Principal} per call and records it through the one
 * write path, {@link CallFacts#principal(Principal)}; every layer and the service read it from
 * there ({@link #current()}).
 *
 * <p>{@link #toString()} prints only non-identifying facts (kind, authentication method, roles,
 * number of scopes): never the subject, the tenant, the patient context or the credential
 * fingerprint, so that a principal can be logged without leaking who a patient is.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Principal {

  /** Whether the caller is a person or a workload. */
  public enum Kind {
    /** A person, typically authenticated by a bearer token from an identity provider. */
    USER,
    /** A workload (another service), typically authenticated by its certificate. */
    SERVICE
  }

  /** How the caller's identity was proven. */
  public enum AuthMethod {
    /** A bearer token (JWT) verified against the issuer's keys. */
    BEARER_TOKEN,
    /** A bearer token bound to the client certificate of the connection (RFC 8705). */
    CERTIFICATE_BOUND_TOKEN,
    /** An access token bound to a key whose possession a DPoP proof showed (RFC 9449). */
    DPOP_BOUND_TOKEN,
    /** The client certificate of a mutually authenticated TLS connection. */
    MUTUAL_TLS,
    /** A user's bearer token presented by a service authenticated by mutual TLS. */
    BEARER_TOKEN_VIA_MUTUAL_TLS
  }

  private final String subject;
  private final Kind kind;
  private final AuthMethod authMethod;
  private final Set<String> roles;
  private final Set<String> scopes;
  private final @Nullable String issuer;
  private final @Nullable String tenant;
  private final @Nullable String patient;
  private final @Nullable String fhirUser;
  private final @Nullable String tokenId;
  private final String credentialFingerprint;
  private final @Nullable String viaService;
  private final @Nullable String acr;
  private final Set<String> amr;
  private final @Nullable Instant authTime;

  private Principal(Builder b) {
    this.subject = b.subject;
    this.kind = b.kind;
    this.authMethod = b.authMethod;
    this.roles = Collections.unmodifiableSet(new LinkedHashSet<>(b.roles));
    this.scopes = Collections.unmodifiableSet(new LinkedHashSet<>(b.scopes));
    this.issuer = b.issuer;
    this.tenant = b.tenant;
    this.patient = b.patient;
    this.fhirUser = b.fhirUser;
    this.tokenId = b.tokenId;
    this.credentialFingerprint = b.credentialFingerprint;
    this.viaService = b.viaService;
    this.acr = b.acr;
    this.amr = Collections.unmodifiableSet(new LinkedHashSet<>(b.amr));
    this.authTime = b.authTime;
  }

  /**
   * Returns the principal of the current call, or {@code null} when the call was not authenticated
   * (or this thread is not running a call).
   */
  public static @Nullable Principal current() {
    CallFacts facts = CallFacts.current();
    return facts == null ? null : facts.principal();
  }

  /**
   * Starts a principal.
   *
   * @param subject the stable, unique identifier of the caller (the token's {@code sub}, or the
   *     service account a certificate maps to); not blank
   * @param kind whether the caller is a person or a workload
   * @param authMethod how the identity was proven
   * @param credentialFingerprint a non-secret fingerprint of the credential: a hash of the token
   *     id, or the certificate's SHA-256 thumbprint in hex; not blank
   */
  public static Builder newBuilder(
      String subject, Kind kind, AuthMethod authMethod, String credentialFingerprint) {
    return new Builder(subject, kind, authMethod, credentialFingerprint);
  }

  /** The stable, unique identifier of the caller (164.312(a)(2)(i) unique user identification). */
  public String subject() {
    return subject;
  }

  /** Whether the caller is a person or a workload. */
  public Kind kind() {
    return kind;
  }

  /** How the caller's identity was proven. */
  public AuthMethod authMethod() {
    return authMethod;
  }

  /** The caller's roles; empty when none. Unmodifiable, in the order they were granted. */
  public Set<String> roles() {
    return roles;
  }

  /** Returns whether the caller holds {@code role}. */
  public boolean hasRole(String role) {
    return roles.contains(role);
  }

  /** The OAuth 2.0 scopes granted to the caller (SMART on FHIR scopes among them). */
  public Set<String> scopes() {
    return scopes;
  }

  /** The issuer that vouched for the caller ({@code iss}), or {@code null} for certificates. */
  public @Nullable String issuer() {
    return issuer;
  }

  /** The tenant (organization) the caller belongs to, or {@code null} when not multi-tenant. */
  public @Nullable String tenant() {
    return tenant;
  }

  /**
   * The SMART on FHIR patient launch context: the id of the one patient this caller may act on, or
   * {@code null}. This value identifies a patient; never log or print it.
   */
  public @Nullable String patient() {
    return patient;
  }

  /** The SMART on FHIR {@code fhirUser} claim (e.g. {@code Practitioner/123}), or null. */
  public @Nullable String fhirUser() {
    return fhirUser;
  }

  /** The token's {@code jti}, or {@code null}; used for revocation. */
  public @Nullable String tokenId() {
    return tokenId;
  }

  /**
   * A non-secret fingerprint of the presented credential: a hash of the token (id), or the client
   * certificate's SHA-256 thumbprint. Lets an auditor tell two sessions of one subject apart
   * without storing the credential.
   */
  public String credentialFingerprint() {
    return credentialFingerprint;
  }

  /**
   * For a user's token presented by an authenticated service, the service's identity (its SPIFFE ID
   * or service account); otherwise {@code null}.
   */
  public @Nullable String viaService() {
    return viaService;
  }

  /**
   * The authentication context class the user authenticated with (the token's {@code acr}, e.g.
   * {@code phr}), or {@code null}. Read by step-up requirements.
   */
  public @Nullable String acr() {
    return acr;
  }

  /**
   * The authentication methods the user used (the token's {@code amr}, RFC 8176 values such as
   * {@code mfa}, {@code hwk}, {@code otp}); empty when the token names none.
   */
  public Set<String> amr() {
    return amr;
  }

  /** When the user last actively authenticated (the token's {@code auth_time}), or {@code null}. */
  public @Nullable Instant authTime() {
    return authTime;
  }

  /** Returns a builder initialized with this principal's values. */
  public Builder toBuilder() {
    Builder b = new Builder(subject, kind, authMethod, credentialFingerprint);
    b.roles.addAll(roles);
    b.scopes.addAll(scopes);
    b.issuer = issuer;
    b.tenant = tenant;
    b.patient = patient;
    b.fhirUser = fhirUser;
    b.tokenId = tokenId;
    b.viaService = viaService;
    b.acr = acr;
    b.amr.addAll(amr);
    b.authTime = authTime;
    return b;
  }

  /** Prints kind, method, roles and the number of scopes; never identifiers or credentials. */
  @Override
  public String toString() {
    return "Principal{kind="
        + kind
        + ", authMethod="
        + authMethod
        + ", roles="
        + roles
        + ", scopes="
        + scopes.size()
        + (viaService != null ? ", viaService=yes" : "")
        + (patient != null ? ", patientContext=yes" : "")
        + "}";
  }

  /** Builds a {@link Principal}. Not thread-safe. */
  public static final class Builder {
    private final String subject;
    private final Kind kind;
    private final AuthMethod authMethod;
    private final String credentialFingerprint;
    private final Set<String> roles = new LinkedHashSet<>();
    private final Set<String> scopes = new LinkedHashSet<>();
    private @Nullable String issuer;
    private @Nullable String tenant;
    private @Nullable String patient;
    private @Nullable String fhirUser;
    private @Nullable String tokenId;
    private @Nullable String viaService;
    private @Nullable String acr;
    private final Set<String> amr = new LinkedHashSet<>();
    private @Nullable Instant authTime;

    private Builder(
        String subject, Kind kind, AuthMethod authMethod, String credentialFingerprint) {
      this.subject = requireNonBlank(subject, "subject");
      this.kind = requireNonNull(kind, "kind");
      this.authMethod = requireNonNull(authMethod, "authMethod");
      this.credentialFingerprint = requireNonBlank(credentialFingerprint, "credentialFingerprint");
    }

    /** Adds roles. Blank roles are refused. */
    public Builder addRoles(Collection<String> roles) {
      for (String role : roles) {
        this.roles.add(requireNonBlank(role, "role"));
      }
      return this;
    }

    /** Adds scopes. Blank scopes are refused. */
    public Builder addScopes(Collection<String> scopes) {
      for (String scope : scopes) {
        this.scopes.add(requireNonBlank(scope, "scope"));
      }
      return this;
    }

    /** Sets the issuer ({@code iss}). Default: none. */
    public Builder issuer(@Nullable String issuer) {
      this.issuer = issuer;
      return this;
    }

    /** Sets the tenant. Default: none. */
    public Builder tenant(@Nullable String tenant) {
      this.tenant = tenant;
      return this;
    }

    /** Sets the SMART patient launch context. Default: none. */
    public Builder patient(@Nullable String patient) {
      this.patient = patient;
      return this;
    }

    /** Sets the SMART {@code fhirUser}. Default: none. */
    public Builder fhirUser(@Nullable String fhirUser) {
      this.fhirUser = fhirUser;
      return this;
    }

    /** Sets the token id ({@code jti}). Default: none. */
    public Builder tokenId(@Nullable String tokenId) {
      this.tokenId = tokenId;
      return this;
    }

    /** Sets the service a user's token came through. Default: none. */
    public Builder viaService(@Nullable String viaService) {
      this.viaService = viaService;
      return this;
    }

    /** Sets the authentication context class ({@code acr}). Default: none. */
    public Builder acr(@Nullable String acr) {
      this.acr = acr;
      return this;
    }

    /** Adds authentication methods ({@code amr}). Blank values are refused. */
    public Builder addAmr(Collection<String> methods) {
      for (String m : methods) {
        this.amr.add(requireNonBlank(m, "amr"));
      }
      return this;
    }

    /** Sets when the user last authenticated ({@code auth_time}). Default: none. */
    public Builder authTime(@Nullable Instant authTime) {
      this.authTime = authTime;
      return this;
    }

    /** Returns the immutable principal. */
    public Principal build() {
      return new Principal(this);
    }
  }
}
