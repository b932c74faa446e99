package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.auth.authz.proto.CallerKind;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.Principal;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** One compiled rule: its conditions as sets and lists ready for a cheap match. */
final class PolicyRule {

  final String id;
  final boolean deny;
  final boolean allowBreakGlass;

  /** This rule's verdict, made once: decisions are immutable and carry the policy version. */
  final AccessDecision decision;

  private final Set<String> roles;

  /** The roles this rule names (for the declared-vocabulary check). */
  Set<String> roles() {
    return roles;
  }

  private final List<String> scopes;
  private final CallerKind callerKind;
  private final Set<String> spiffeExact;
  private final List<String> spiffePrefixes;
  private final Set<String> purposes;

  PolicyRule(
      String id,
      String policyVersion,
      boolean deny,
      boolean allowBreakGlass,
      Set<String> roles,
      List<String> scopes,
      CallerKind callerKind,
      Set<String> spiffeExact,
      List<String> spiffePrefixes,
      Set<String> purposes) {
    this.id = id;
    this.deny = deny;
    this.allowBreakGlass = allowBreakGlass;
    this.decision =
        deny ? AccessDecision.deny(id, policyVersion) : AccessDecision.allow(id, policyVersion);
    this.roles = Set.copyOf(roles);
    this.scopes = List.copyOf(scopes);
    this.callerKind = callerKind;
    this.spiffeExact = Set.copyOf(spiffeExact);
    this.spiffePrefixes = List.copyOf(spiffePrefixes);
    this.purposes = Set.copyOf(purposes);
  }

  /** Whether every condition this rule sets holds for the caller. */
  boolean matches(Principal principal, @Nullable String purpose) {
    if (callerKind == CallerKind.USER && principal.kind() != Principal.Kind.USER) {
      return false;
    }
    if (callerKind == CallerKind.SERVICE && principal.kind() != Principal.Kind.SERVICE) {
      return false;
    }
    if (!roles.isEmpty() && !anyRole(principal)) {
      return false;
    }
    if (!scopes.isEmpty() && !principal.scopes().containsAll(scopes)) {
      return false;
    }
    if (!purposes.isEmpty() && (purpose == null || !purposes.contains(purpose))) {
      return false;
    }
    return (spiffeExact.isEmpty() && spiffePrefixes.isEmpty()) || spiffeMatches(principal);
  }

  private boolean anyRole(Principal principal) {
    for (String role : principal.roles()) {
      if (roles.contains(role)) {
        return true;
      }
    }
    return false;
  }

  private boolean spiffeMatches(Principal principal) {
    String service = serviceIdentity(principal);
    if (service == null) {
      return false;
    }
    if (spiffeExact.contains(service)) {
      return true;
    }
    for (String prefix : spiffePrefixes) {
      // prefix ends with '/', so "spiffe://td/ns/a/*" never matches "spiffe://td/ns/ab".
      if (service.startsWith(prefix) && service.length() > prefix.length()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The calling workload as proven by mutual TLS: the relaying service for a user's token, else the
   * subject of a certificate-authenticated service. A token's subject never counts: any accepted
   * issuer could mint {@code sub = client_id = "spiffe://..."}.
   */
  static @Nullable String serviceIdentity(Principal principal) {
    String via = principal.viaService();
    if (via != null) {
      return via;
    }
    return principal.kind() == Principal.Kind.SERVICE
            && principal.authMethod() == Principal.AuthMethod.MUTUAL_TLS
        ? principal.subject()
        : null;
  }
}
