package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.proto.Action;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Everything a decision on one method (or one whole service) needs, compiled from the policy. */
final class PolicyMethodPlan {

  static final PolicyMethodPlan EMPTY =
      new PolicyMethodPlan(
          new PolicyRule[0], new PolicyRule[0], null, null, null, null, null, null, Map.of());

  final PolicyRule[] denies;
  final PolicyRule[] allows;

  /** The first allow rule that lets break-glass reach this method, or null. */
  final @Nullable PolicyRule breakGlassRule;

  final @Nullable String fhirResource;

  /** What the method does to {@link #fhirResource}; set exactly when it is. */
  final @Nullable Action action;

  /** The {@link SmartScope} permission bit of {@link #action}; 0 when none grants it. */
  final int smartPermission;

  final @Nullable PolicyFieldPath patientField;
  final @Nullable PolicyFieldPath tenantField;

  /** What a user's authentication must have been; null when the method asks for nothing. */
  final @Nullable StepUpRequirement stepUp;

  /**
   * FHIR search parameter name to the request field carrying its values, for granular SMART scopes;
   * empty when the method declares none (granular scopes then grant it nothing).
   */
  final Map<String, PolicyFieldPath> searchParams;

  PolicyMethodPlan(
      PolicyRule[] denies,
      PolicyRule[] allows,
      @Nullable PolicyRule breakGlassRule,
      @Nullable String fhirResource,
      @Nullable Action action,
      @Nullable PolicyFieldPath patientField,
      @Nullable PolicyFieldPath tenantField,
      @Nullable StepUpRequirement stepUp,
      Map<String, PolicyFieldPath> searchParams) {
    this.denies = denies;
    this.allows = allows;
    this.breakGlassRule = breakGlassRule;
    this.fhirResource = fhirResource;
    this.action = action;
    this.smartPermission = action == null ? 0 : SmartScope.permission(action);
    this.patientField = patientField;
    this.tenantField = tenantField;
    this.stepUp = stepUp;
    this.searchParams = Map.copyOf(searchParams);
  }

  boolean checksMessages() {
    return patientField != null || tenantField != null || !searchParams.isEmpty();
  }
}
