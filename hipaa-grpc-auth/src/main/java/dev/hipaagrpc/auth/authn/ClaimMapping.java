package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How a verified token's claims become a {@link dev.hipaagrpc.core.Principal}.
 *
 * <p>Defaults: subject from {@code sub}; roles from {@code roles}; scopes from {@code scope} and
 * {@code scp}; no tenant; the SMART on FHIR launch context from {@code patient} and {@code
 * fhirUser}; the token id from {@code jti}. A token whose {@code client_id} equals its {@code sub}
 * (an OAuth 2.0 client-credentials token, RFC 9068) yields a {@code SERVICE} principal, any other a
 * {@code USER}; {@link Builder#serviceWhen} replaces that rule.
 *
 * <p>A claim path is first looked up as one claim name (so {@code cognito:groups} and {@code
 * https://example.org/roles} work as written); if no such claim exists, it is split at dots and
 * walked through nested objects ({@code realm_access.roles} for Keycloak). A role or scope claim
 * may hold an array of strings or one space-separated string; other values are ignored.
 *
 * <p>Presets for the identity providers hospitals run start a builder with that vendor's claim
 * layout: {@link #keycloak(String)}, {@link #auth0(String)}, {@link #okta()}, {@link #entraId()},
 * {@link #cognito()} and {@link #smartOnFhir()}; each can be adjusted further.
 *
 * <p>Immutable and thread-safe.
 */
public final class ClaimMapping {

  private static final ClaimMapping DEFAULTS = newBuilder().build();

  private final String subjectClaim;
  private final List<String> rolePaths;
  private final List<String> scopePaths;
  private final List<String> patientPaths;
  private final String fhirUserPath;
  private final @Nullable String tenantPath;
  private final boolean smartContext;
  private final List<ServiceRule> serviceRules;

  private ClaimMapping(Builder b) {
    this.subjectClaim = b.subjectClaim;
    this.rolePaths = List.copyOf(b.rolePaths);
    this.scopePaths = List.copyOf(b.scopePaths);
    this.patientPaths = List.copyOf(b.patientPaths);
    this.fhirUserPath = b.fhirUserPath;
    this.tenantPath = b.tenantPath;
    this.smartContext = b.smartContext;
    this.serviceRules = List.copyOf(b.serviceRules);
  }

  /** Returns the default mapping described above. */
  public static ClaimMapping defaults() {
    return DEFAULTS;
  }

  /** Starts a mapping from the defaults. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Keycloak access tokens: realm roles ({@code realm_access.roles}) and the roles of client {@code
   * clientId} ({@code resource_access.<clientId>.roles}); scopes from {@code scope}; a
   * service-account token (client credentials, whose {@code preferred_username} Keycloak sets to
   * {@code service-account-<client>}) is a {@code SERVICE}. Keycloak's header {@code typ} is {@code
   * JWT}, not {@code at+jwt}.
   *
   * @param clientId the client (the resource server) whose client roles count; no dots
   */
  public static Builder keycloak(String clientId) {
    requireNonBlank(clientId, "clientId");
    if (clientId.indexOf('.') >= 0) {
      throw new IllegalArgumentException(
          "a Keycloak client id with dots cannot be a claim path segment; use newBuilder()"
              + ".rolesFrom(...) with the realm roles only");
    }
    return newBuilder()
        .rolesFrom("realm_access.roles", "resource_access." + clientId + ".roles")
        .scopesFrom("scope")
        .serviceWhen(
            ServiceRule.allOf(
                ServiceRule.claimStartsWith("preferred_username", "service-account-"),
                ServiceRule.claimsEqual("azp", "client_id")));
  }

  /**
   * Auth0 access tokens: roles from the namespaced claim an Auth0 Action adds (Auth0 puts no roles
   * in tokens by itself); scopes from {@code scope} and, with RBAC's "add permissions in the access
   * token", {@code permissions}; a machine-to-machine token ({@code gty: client-credentials},
   * subject {@code <client_id>@clients}) is a {@code SERVICE}.
   *
   * @param rolesClaim the namespaced roles claim, e.g. {@code https://hospital.example/roles}
   */
  public static Builder auth0(String rolesClaim) {
    return newBuilder()
        .rolesFrom(rolesClaim)
        .scopesFrom("scope", "permissions")
        .serviceWhen(ServiceRule.claimEquals("gty", "client-credentials"));
  }

  /**
   * Okta custom authorization server access tokens: scopes from {@code scp}; roles from {@code
   * groups} (a groups claim you add to the authorization server); a client-credentials token
   * (subject equal to {@code cid}, the client id) is a {@code SERVICE}; the SMART patient from
   * {@code launch_response_patient} (Okta's SMART setup) or {@code patient}.
   */
  public static Builder okta() {
    return newBuilder()
        .rolesFrom("groups")
        .scopesFrom("scp")
        .patientFrom("launch_response_patient", "patient")
        .serviceWhen(ServiceRule.claimsEqual("sub", "cid"));
  }

  /**
   * Microsoft Entra ID v2.0 access tokens: subject from {@code oid} (the object id, the same for a
   * user across applications, where {@code sub} is pairwise per application); tenant from {@code
   * tid}; app roles from {@code roles} (for app-only tokens these are the granted application
   * permissions); delegated scopes from {@code scp}; an app-only token ({@code idtyp: app} when
   * that optional claim is configured, otherwise {@code sub} equal to {@code oid}, which holds only
   * for applications) is a {@code SERVICE}. Entra's header {@code typ} is {@code JWT}.
   */
  public static Builder entraId() {
    return newBuilder()
        .subjectClaim("oid")
        .tenantFrom("tid")
        .rolesFrom("roles")
        .scopesFrom("scp")
        .serviceWhen(
            ServiceRule.claimEquals("idtyp", "app"), ServiceRule.claimsEqual("sub", "oid"));
  }

  /**
   * Amazon Cognito access tokens: roles from {@code cognito:groups}; scopes from {@code scope}; a
   * client-credentials token ({@code sub} equal to {@code client_id}) is a {@code SERVICE}. Cognito
   * access tokens carry no {@code aud}: pair this with {@code
   * IssuerConfig.Builder.audienceClaim("client_id")}.
   */
  public static Builder cognito() {
    return newBuilder().rolesFrom("cognito:groups").scopesFrom("scope");
  }

  /**
   * A SMART on FHIR authorization server (SMART App Launch 2.x): scopes from {@code scope}; the
   * launch context from {@code patient} and {@code fhirUser}; roles from {@code roles} if the
   * server adds them; a backend-services token ({@code sub} equal to {@code client_id}) is a {@code
   * SERVICE}.
   */
  public static Builder smartOnFhir() {
    return newBuilder().scopesFrom("scope");
  }

  @Nullable String subject(Map<String, ?> claims) {
    Object v = claims.get(subjectClaim);
    return v instanceof String s && !s.isBlank() ? s : null;
  }

  /** The claim paths roles are read from (for diagnostics; paths name no value). */
  List<String> rolePaths() {
    return rolePaths;
  }

  Set<String> roles(Map<String, ?> claims) {
    Set<String> out = new LinkedHashSet<>();
    for (String path : rolePaths) {
      addStrings(lookup(claims, path), out);
    }
    return out;
  }

  Set<String> scopes(Map<String, ?> claims) {
    Set<String> out = new LinkedHashSet<>();
    for (String path : scopePaths) {
      addStrings(lookup(claims, path), out);
    }
    return out;
  }

  /** Whether the token is a service's own (client credentials), by the configured rules. */
  boolean isService(Map<String, ?> claims) {
    for (ServiceRule rule : serviceRules) {
      if (rule.matches(claims)) {
        return true;
      }
    }
    return false;
  }

  /** The SMART patient: the first path with a non-blank string. */
  @Nullable String patient(Map<String, ?> claims) {
    for (String path : patientPaths) {
      if (lookup(claims, path) instanceof String s && !s.isBlank()) {
        return s;
      }
    }
    return null;
  }

  @Nullable String fhirUser(Map<String, ?> claims) {
    return lookup(claims, fhirUserPath) instanceof String s && !s.isBlank() ? s : null;
  }

  @Nullable String tenant(Map<String, ?> claims) {
    String path = tenantPath;
    if (path == null) {
      return null;
    }
    Object v = lookup(claims, path);
    return v instanceof String s && !s.isBlank() ? s : null;
  }

  boolean smartContext() {
    return smartContext;
  }

  static @Nullable Object lookup(Map<String, ?> claims, String path) {
    if (claims.containsKey(path)) {
      return claims.get(path);
    }
    Object current = claims;
    for (String segment : path.split("\\.", -1)) {
      if (!(current instanceof Map<?, ?> m)) {
        return null;
      }
      current = m.get(segment);
    }
    return current;
  }

  /** Adds a string's space-separated words, or an array's non-blank strings. */
  private static void addStrings(@Nullable Object value, Set<String> out) {
    if (value instanceof String str) {
      for (String s : str.split(" ", -1)) {
        if (!s.isBlank()) {
          out.add(s);
        }
      }
    } else if (value instanceof Collection<?> c) {
      for (Object o : c) {
        if (o instanceof String s && !s.isBlank()) {
          out.add(s);
        }
      }
    }
  }

  /**
   * A test on a token's claims that makes its principal a {@code SERVICE} (a client acting for
   * itself) rather than a {@code USER}. Immutable and thread-safe.
   */
  public static final class ServiceRule {
    private final String description;
    private final java.util.function.Predicate<Map<String, ?>> test;

    private ServiceRule(String description, java.util.function.Predicate<Map<String, ?>> test) {
      this.description = description;
      this.test = test;
    }

    /** Both claims are present, strings, and equal (e.g. {@code sub} and {@code client_id}). */
    public static ServiceRule claimsEqual(String path, String otherPath) {
      requireNonBlank(path, "path");
      requireNonBlank(otherPath, "otherPath");
      return new ServiceRule(
          path + " == " + otherPath,
          c ->
              lookup(c, path) instanceof String a
                  && !a.isEmpty()
                  && a.equals(lookup(c, otherPath)));
    }

    /** The claim is the string {@code value} (e.g. {@code gty} and {@code client-credentials}). */
    public static ServiceRule claimEquals(String path, String value) {
      requireNonBlank(path, "path");
      requireNonBlank(value, "value");
      return new ServiceRule(path + " == \"" + value + "\"", c -> value.equals(lookup(c, path)));
    }

    /** The claim is a string starting with {@code prefix}. */
    public static ServiceRule claimStartsWith(String path, String prefix) {
      requireNonBlank(path, "path");
      requireNonBlank(prefix, "prefix");
      return new ServiceRule(
          path + " starts with \"" + prefix + "\"",
          c -> lookup(c, path) instanceof String s && s.startsWith(prefix));
    }

    /** Every one of {@code rules} holds (e.g. a username prefix and a client-id claim). */
    public static ServiceRule allOf(ServiceRule... rules) {
      List<ServiceRule> list = new ArrayList<>();
      for (ServiceRule r : rules) {
        list.add(java.util.Objects.requireNonNull(r, "rule"));
      }
      if (list.isEmpty()) {
        throw new IllegalArgumentException("allOf needs at least one rule");
      }
      StringBuilder d = new StringBuilder();
      for (ServiceRule r : list) {
        d.append(d.length() == 0 ? "" : " and ").append(r.description);
      }
      return new ServiceRule(
          d.toString(),
          c -> {
            for (ServiceRule r : list) {
              if (!r.matches(c)) {
                return false;
              }
            }
            return true;
          });
    }

    boolean matches(Map<String, ?> claims) {
      return test.test(claims);
    }

    /** The rule in words, e.g. {@code sub == client_id} (configuration, never a claim value). */
    @Override
    public String toString() {
      return description;
    }
  }

  /** Builds a {@link ClaimMapping}. Not thread-safe. */
  public static final class Builder {
    private String subjectClaim = "sub";
    private List<String> rolePaths = new ArrayList<>(List.of("roles"));
    private List<String> scopePaths = new ArrayList<>(List.of("scope", "scp"));
    private List<String> patientPaths = new ArrayList<>(List.of("patient"));
    private String fhirUserPath = "fhirUser";
    private @Nullable String tenantPath;
    private boolean smartContext = true;
    private List<ServiceRule> serviceRules =
        new ArrayList<>(List.of(ServiceRule.claimsEqual("sub", "client_id")));

    private Builder() {}

    /** Sets the claim holding the subject. Default: {@code sub}. */
    public Builder subjectClaim(String claim) {
      this.subjectClaim = requireNonBlank(claim, "claim");
      return this;
    }

    /**
     * Sets the claim paths roles are read from, replacing the default ({@code roles}); roles from
     * all paths are merged. Examples: {@code realm_access.roles} (Keycloak), {@code groups}, {@code
     * cognito:groups} (Amazon Cognito).
     */
    public Builder rolesFrom(String... paths) {
      this.rolePaths = paths(paths);
      return this;
    }

    /**
     * Sets the claim paths scopes are read from, replacing the default ({@code scope}, {@code
     * scp}); scopes from all paths are merged. Examples: {@code permissions} (Auth0 RBAC).
     */
    public Builder scopesFrom(String... paths) {
      this.scopePaths = paths(paths);
      return this;
    }

    /**
     * Sets the claim paths of the SMART patient, in order (the first non-blank string wins).
     * Default: {@code patient}. Example: {@code launch_response_patient} (Okta).
     */
    public Builder patientFrom(String... paths) {
      this.patientPaths = paths(paths);
      return this;
    }

    /** Sets the claim path of the SMART {@code fhirUser}. Default: {@code fhirUser}. */
    public Builder fhirUserFrom(String path) {
      this.fhirUserPath = requireNonBlank(path, "path");
      return this;
    }

    /**
     * Sets the rules that make a token a {@code SERVICE} principal (any rule matching suffices),
     * replacing the default ({@code sub == client_id}). With no rule, every token is a {@code
     * USER}.
     */
    public Builder serviceWhen(ServiceRule... rules) {
      List<ServiceRule> list = new ArrayList<>();
      for (ServiceRule r : rules) {
        list.add(java.util.Objects.requireNonNull(r, "rule"));
      }
      this.serviceRules = list;
      return this;
    }

    private static List<String> paths(String... paths) {
      if (paths.length == 0) {
        throw new IllegalArgumentException("at least one claim path is required");
      }
      List<String> list = new ArrayList<>();
      for (String p : paths) {
        list.add(requireNonBlank(p, "path"));
      }
      return list;
    }

    /** Sets the claim path of the tenant. Default: none (no tenant). */
    public Builder tenantFrom(String path) {
      this.tenantPath = requireNonBlank(path, "path");
      return this;
    }

    /** Whether to map the SMART patient and {@code fhirUser} claims. Default: true. */
    public Builder smartLaunchContext(boolean enabled) {
      this.smartContext = enabled;
      return this;
    }

    /** Returns the immutable mapping. */
    public ClaimMapping build() {
      return new ClaimMapping(this);
    }
  }
}
