package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.proto.Action;
import org.jspecify.annotations.Nullable;

/** Everything a decision on one method (or one whole service) needs, compiled from the policy. */
final class PolicyMethodPlan {

  static final PolicyMethodPlan EMPTY =
      new PolicyMethodPlan(
          new PolicyRule[0], new PolicyRule[0], null, null, null, null, null, null);

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

  PolicyMethodPlan(
      PolicyRule[] denies,
      PolicyRule[] allows,
      @Nullable PolicyRule breakGlassRule,
      @Nullable String fhirResource,
      @Nullable Action action,
      @Nullable PolicyFieldPath patientField,
      @Nullable PolicyFieldPath tenantField,
      @Nullable StepUpRequirement stepUp) {
    this.denies = denies;
    this.allows = allows;
    this.breakGlassRule = breakGlassRule;
    this.fhirResource = fhirResource;
    this.action = action;
    this.smartPermission = action == null ? 0 : SmartScope.permission(action);
    this.patientField = patientField;
    this.tenantField = tenantField;
    this.stepUp = stepUp;
  }

  boolean checksMessages() {
    return patientField != null || tenantField != null;
  }
}
