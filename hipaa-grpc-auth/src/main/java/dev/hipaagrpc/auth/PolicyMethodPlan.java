package dev.hipaagrpc.auth;

import org.jspecify.annotations.Nullable;

/** Everything a decision on one method (or one whole service) needs, compiled from the policy. */
final class PolicyMethodPlan {

  static final PolicyMethodPlan EMPTY =
      new PolicyMethodPlan(new PolicyRule[0], new PolicyRule[0], null, null, 0, null, null, null);

  final PolicyRule[] denies;
  final PolicyRule[] allows;

  /** The first allow rule that lets break-glass reach this method, or null. */
  final @Nullable PolicyRule breakGlassRule;

  final @Nullable String fhirResource;

  /** One of the {@link SmartScope} interaction bits, or 0 when no resource is declared. */
  final int interaction;

  final dev.hipaagrpc.core.proto.@Nullable Action action;
  final @Nullable PolicyFieldPath patientField;
  final @Nullable PolicyFieldPath tenantField;

  PolicyMethodPlan(
      PolicyRule[] denies,
      PolicyRule[] allows,
      @Nullable PolicyRule breakGlassRule,
      @Nullable String fhirResource,
      int interaction,
      dev.hipaagrpc.core.proto.@Nullable Action action,
      @Nullable PolicyFieldPath patientField,
      @Nullable PolicyFieldPath tenantField) {
    this.denies = denies;
    this.allows = allows;
    this.breakGlassRule = breakGlassRule;
    this.fhirResource = fhirResource;
    this.interaction = interaction;
    this.action = action;
    this.patientField = patientField;
    this.tenantField = tenantField;
  }

  boolean checksMessages() {
    return patientField != null || tenantField != null;
  }
}
