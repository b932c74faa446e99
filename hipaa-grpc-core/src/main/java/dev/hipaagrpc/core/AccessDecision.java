package dev.hipaagrpc.core;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * The authorization layer's verdict on one call, with what an auditor needs to reproduce it: the
 * policy version and the id of the rule that decided.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AccessDecision {

  /** The verdict. */
  public enum Outcome {
    /** A rule granted the call. */
    ALLOW,
    /** A deny rule matched, or no rule matched (default deny). */
    DENY,
    /** Emergency access: granted outside the caller's normal grants, with a stated reason. */
    BREAK_GLASS
  }

  /** The rule id reported when no rule matched and the call was denied by default. */
  public static final String DEFAULT_DENY_RULE = "default-deny";

  private final Outcome outcome;
  private final String ruleId;
  private final String policyVersion;
  private final @Nullable String breakGlassReason;

  private AccessDecision(
      Outcome outcome, String ruleId, String policyVersion, @Nullable String breakGlassReason) {
    this.outcome = requireNonNull(outcome, "outcome");
    this.ruleId = requireNonBlank(ruleId, "ruleId");
    this.policyVersion = requireNonBlank(policyVersion, "policyVersion");
    this.breakGlassReason = breakGlassReason;
  }

  /** A grant by rule {@code ruleId} of policy {@code policyVersion}. */
  public static AccessDecision allow(String ruleId, String policyVersion) {
    return new AccessDecision(Outcome.ALLOW, ruleId, policyVersion, null);
  }

  /** A denial by rule {@code ruleId} (or {@link #DEFAULT_DENY_RULE}). */
  public static AccessDecision deny(String ruleId, String policyVersion) {
    return new AccessDecision(Outcome.DENY, ruleId, policyVersion, null);
  }

  /**
   * An emergency-access grant.
   *
   * @param reasonCode the configured reason code the caller sent (a code, never free text)
   */
  public static AccessDecision breakGlass(String ruleId, String policyVersion, String reasonCode) {
    return new AccessDecision(
        Outcome.BREAK_GLASS, ruleId, policyVersion, requireNonBlank(reasonCode, "reasonCode"));
  }

  /** The verdict. */
  public Outcome outcome() {
    return outcome;
  }

  /** Whether the call may proceed ({@link Outcome#ALLOW} or {@link Outcome#BREAK_GLASS}). */
  public boolean permitted() {
    return outcome != Outcome.DENY;
  }

  /** The id of the rule that decided, or {@link #DEFAULT_DENY_RULE}. */
  public String ruleId() {
    return ruleId;
  }

  /** The version string of the policy that decided. */
  public String policyVersion() {
    return policyVersion;
  }

  /** The break-glass reason code, or {@code null} unless the outcome is BREAK_GLASS. */
  public @Nullable String breakGlassReason() {
    return breakGlassReason;
  }

  @Override
  public String toString() {
    return "AccessDecision{"
        + outcome
        + ", rule="
        + ruleId
        + ", policyVersion="
        + policyVersion
        + (breakGlassReason != null ? ", breakGlassReason=" + breakGlassReason : "")
        + "}";
  }
}
