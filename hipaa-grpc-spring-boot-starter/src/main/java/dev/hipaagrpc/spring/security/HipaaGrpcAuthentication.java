package dev.hipaagrpc.spring.security;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.Principal;
import java.util.ArrayList;
import java.util.List;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * The caller hipaa-grpc authenticated, as Spring Security's {@code Authentication}: so that
 * {@code @PreAuthorize("hasRole('clinician')")}, {@code hasAuthority('SCOPE_patient/*.rs')} or
 * {@code authentication.principal.patient() == #request.patientId} on a gRPC service see the same
 * caller the stack's policy saw.
 *
 * <p>The authorities are the principal's roles as {@code ROLE_<role>} and its scopes as {@code
 * SCOPE_<scope>} (Spring Security's conventions); {@link #getPrincipal()} is the {@link Principal}
 * itself and {@link #getName()} its subject. There are no credentials: the token never leaves the
 * authentication layer. Always authenticated. Immutable and thread-safe.
 */
public final class HipaaGrpcAuthentication extends AbstractAuthenticationToken {
  private static final long serialVersionUID = 1L;

  private final transient Principal principal;

  /**
   * Creates the authentication of {@code principal}.
   *
   * @param principal the caller the stack authenticated
   */
  public HipaaGrpcAuthentication(Principal principal) {
    super(authorities(requireNonNull(principal, "principal")));
    this.principal = principal;
    super.setAuthenticated(true);
  }

  private static List<GrantedAuthority> authorities(Principal p) {
    List<GrantedAuthority> out = new ArrayList<>(p.roles().size() + p.scopes().size());
    for (String role : p.roles()) {
      out.add(new SimpleGrantedAuthority("ROLE_" + role));
    }
    for (String scope : p.scopes()) {
      out.add(new SimpleGrantedAuthority("SCOPE_" + scope));
    }
    return out;
  }

  /** The {@link Principal} the stack authenticated. */
  @Override
  public Principal getPrincipal() {
    return principal;
  }

  /** Always empty: the credential stays in the authentication layer. */
  @Override
  public Object getCredentials() {
    return "";
  }

  /** The principal's subject. */
  @Override
  public String getName() {
    return principal.subject();
  }

  /**
   * Refused for {@code true}: the authentication is the stack's, not Spring Security's to grant.
   *
   * @throws IllegalArgumentException if {@code authenticated} is true
   */
  @Override
  public void setAuthenticated(boolean authenticated) {
    if (authenticated) {
      throw new IllegalArgumentException("a HipaaGrpcAuthentication is made authenticated");
    }
    super.setAuthenticated(false);
  }
}
