package dev.hipaagrpc.auth.authn;

import dev.hipaagrpc.core.Principal;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices an issuer whose verified user tokens never carry a role where the claim mapping looks for
 * one: a misconfigured mapping (Keycloak's {@code realm_access.roles}, Entra's {@code roles}, an
 * Auth0 namespaced claim…) that would otherwise only show as every role rule refusing. One WARN per
 * issuer, after {@value #THRESHOLD} consecutive verified user tokens without roles; a token with
 * roles resets the count. Counts freshly verified tokens, not cache hits. Thread-safe.
 */
final class RolesClaimWatch {

  private static final Logger logger = LoggerFactory.getLogger(RolesClaimWatch.class);

  static final int THRESHOLD = 20;
  private static final int WARNED = -1;

  // Bounded by the configured issuers.
  private final ConcurrentMap<String, AtomicInteger> withoutRoles = new ConcurrentHashMap<>();

  /** Returns true when this observation triggered the warning. */
  boolean observe(IssuerConfig issuer, Principal principal) {
    if (principal.kind() != Principal.Kind.USER) {
      return false;
    }
    AtomicInteger count = withoutRoles.computeIfAbsent(issuer.issuer(), k -> new AtomicInteger());
    int seen = count.get();
    if (seen == WARNED) {
      return false;
    }
    if (!principal.roles().isEmpty()) {
      count.compareAndSet(seen, 0);
      return false;
    }
    if (count.incrementAndGet() >= THRESHOLD && count.getAndSet(WARNED) != WARNED) {
      logger.warn(
          "Issuer {}: the last {} verified user tokens carried no roles at {}; role-based rules"
              + " refuse such callers. Check the issuer's ClaimMapping.rolesFrom(...).",
          issuer.issuer(),
          THRESHOLD,
          issuer.claimMapping().rolePaths());
      return true;
    }
    return false;
  }
}
