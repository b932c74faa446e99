package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.AccessDecision;
import io.grpc.MethodDescriptor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled, immutable policy: a per-method and per-service lookup, so that a decision costs two
 * hash lookups and the handful of rules that name the method, whatever the policy's size.
 */
final class PolicyPlan {

  final String version;
  private final int methodCount;
  private final Map<String, PolicyMethodPlan> byMethod;
  private final Map<String, PolicyMethodPlan> byService;
  final Set<String> breakGlassRoles;
  final Set<String> breakGlassScopes;
  final Set<String> breakGlassReasons;
  final int ruleCount;
  final AccessDecision defaultDeny;

  /** SHA-256 (hex) of the canonical inputs the plan was compiled from. */
  final String sha256;

  PolicyPlan(
      String version,
      Map<String, PolicyMethodPlan> byMethod,
      Map<String, PolicyMethodPlan> byService,
      Set<String> breakGlassRoles,
      Set<String> breakGlassScopes,
      Set<String> breakGlassReasons,
      int ruleCount,
      String sha256) {
    this.sha256 = sha256;
    this.version = version;
    this.byMethod = Map.copyOf(byMethod);
    this.byService = Map.copyOf(byService);
    this.breakGlassRoles = Set.copyOf(breakGlassRoles);
    this.breakGlassScopes = Set.copyOf(breakGlassScopes);
    this.breakGlassReasons = Set.copyOf(breakGlassReasons);
    this.ruleCount = ruleCount;
    this.methodCount = byMethod.size() + byService.size();
    this.defaultDeny = AccessDecision.deny(AccessDecision.DEFAULT_DENY_RULE, version);
  }

  PolicyMethodPlan lookup(MethodDescriptor<?, ?> method) {
    PolicyMethodPlan plan = byMethod.get(method.getFullMethodName());
    if (plan != null) {
      return plan;
    }
    String service = method.getServiceName();
    if (service != null) {
      plan = byService.get(service);
      if (plan != null) {
        return plan;
      }
    }
    return PolicyMethodPlan.EMPTY;
  }

  /** How many methods and whole services some rule names. */
  int methodCount() {
    return methodCount;
  }

  /**
   * Throws if a rule or the break-glass permission names a role outside {@code knownRoles} (a
   * misspelled role grants nothing and fails silently otherwise). An empty vocabulary checks
   * nothing.
   */
  void requireKnownRoles(Set<String> knownRoles) {
    if (knownRoles.isEmpty()) {
      return;
    }
    java.util.SortedSet<String> unknown = new java.util.TreeSet<>();
    for (Map<String, PolicyMethodPlan> plans : List.of(byMethod, byService)) {
      for (PolicyMethodPlan m : plans.values()) {
        for (PolicyRule[] rules : List.of(m.allows, m.denies)) {
          for (PolicyRule r : rules) {
            for (String role : r.roles()) {
              if (!knownRoles.contains(role)) {
                unknown.add(role + " (rule " + r.id + ")");
              }
            }
          }
        }
      }
    }
    for (String role : breakGlassRoles) {
      if (!knownRoles.contains(role)) {
        unknown.add(role + " (break-glass)");
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "roles outside the declared vocabulary "
              + new java.util.TreeSet<>(knownRoles)
              + ": "
              + unknown);
    }
  }
}
