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
 * <p>Defaults: subject from {@code sub}; roles from {@code roles}; scopes from {@code scope} (a
 * space-separated string) and {@code scp} (an array or a string); no tenant; the SMART on FHIR
 * launch context from {@code patient} and {@code fhirUser}; the token id from {@code jti}. A token
 * whose {@code client_id} equals its {@code sub} (an OAuth 2.0 client-credentials token, RFC 9068)
 * yields a {@code SERVICE} principal, any other a {@code USER}.
 *
 * <p>A claim path is first looked up as one claim name (so {@code cognito:groups} and {@code
 * https://example.org/roles} work as written); if no such claim exists, it is split at dots and
 * walked through nested objects ({@code realm_access.roles} for Keycloak). A role claim may hold an
 * array of strings or one string; other values are ignored.
 *
 * <p>Immutable and thread-safe.
 */
public final class ClaimMapping {

  private static final ClaimMapping DEFAULTS = newBuilder().build();

  private final String subjectClaim;
  private final List<String> rolePaths;
  private final @Nullable String tenantPath;
  private final boolean smartContext;

  private ClaimMapping(Builder b) {
    this.subjectClaim = b.subjectClaim;
    this.rolePaths = List.copyOf(b.rolePaths);
    this.tenantPath = b.tenantPath;
    this.smartContext = b.smartContext;
  }

  /** Returns the default mapping described above. */
  public static ClaimMapping defaults() {
    return DEFAULTS;
  }

  /** Starts a mapping from the defaults. */
  public static Builder newBuilder() {
    return new Builder();
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

  static Set<String> scopes(Map<String, ?> claims) {
    Set<String> out = new LinkedHashSet<>();
    for (String claim : new String[] {"scope", "scp"}) {
      Object v = claims.get(claim);
      if (v instanceof String str) {
        for (String s : str.split(" ", -1)) {
          if (!s.isBlank()) {
            out.add(s);
          }
        }
      } else {
        addStrings(v, out);
      }
    }
    return out;
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

  private static void addStrings(@Nullable Object value, Set<String> out) {
    if (value instanceof String s) {
      if (!s.isBlank()) {
        out.add(s);
      }
    } else if (value instanceof Collection<?> c) {
      for (Object o : c) {
        if (o instanceof String s && !s.isBlank()) {
          out.add(s);
        }
      }
    }
  }

  /** Builds a {@link ClaimMapping}. Not thread-safe. */
  public static final class Builder {
    private String subjectClaim = "sub";
    private List<String> rolePaths = new ArrayList<>(List.of("roles"));
    private @Nullable String tenantPath;
    private boolean smartContext = true;

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
      List<String> list = new ArrayList<>();
      for (String p : paths) {
        list.add(requireNonBlank(p, "path"));
      }
      this.rolePaths = list;
      return this;
    }

    /** Sets the claim path of the tenant. Default: none (no tenant). */
    public Builder tenantFrom(String path) {
      this.tenantPath = requireNonBlank(path, "path");
      return this;
    }

    /** Whether to map the SMART {@code patient} and {@code fhirUser} claims. Default: true. */
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
