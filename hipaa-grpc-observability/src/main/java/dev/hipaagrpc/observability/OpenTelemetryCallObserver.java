package dev.hipaagrpc.observability;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CallObserver;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import org.jspecify.annotations.Nullable;

/**
 * Puts the stack's outcome on the current OpenTelemetry span when a call ends: the server span of
 * OpenTelemetry's gRPC instrumentation (agent or library), which makes it current in every listener
 * callback, where a unary service completes. Attributes:
 *
 * <ul>
 *   <li>{@code hipaa.correlation_id}: the call's correlation id (random or the caller's safe id),
 *       to join traces with logs and audit events;
 *   <li>{@code hipaa.decision}, {@code hipaa.rule_id}, {@code hipaa.policy_version}: the access
 *       decision;
 *   <li>{@code hipaa.authentication.failure}: the fixed failure code;
 *   <li>{@code hipaa.break_glass}: true when emergency access was granted, with {@code
 *       hipaa.break_glass.reason} (a policy reason code);
 *   <li>{@code hipaa.fields_masked}: how many response fields masking changed.
 * </ul>
 *
 * <p>No subject, tenant, patient, token or request value is ever set. A call that starts without a
 * recording span costs one check. Thread-safe and stateless.
 */
public final class OpenTelemetryCallObserver implements CallObserver {
  static final AttributeKey<String> CORRELATION_ID = AttributeKey.stringKey("hipaa.correlation_id");
  static final AttributeKey<String> DECISION = AttributeKey.stringKey("hipaa.decision");
  static final AttributeKey<String> RULE_ID = AttributeKey.stringKey("hipaa.rule_id");
  static final AttributeKey<String> POLICY_VERSION = AttributeKey.stringKey("hipaa.policy_version");
  static final AttributeKey<String> AUTHENTICATION_FAILURE =
      AttributeKey.stringKey("hipaa.authentication.failure");
  static final AttributeKey<Boolean> BREAK_GLASS = AttributeKey.booleanKey("hipaa.break_glass");
  static final AttributeKey<String> BREAK_GLASS_REASON =
      AttributeKey.stringKey("hipaa.break_glass.reason");
  static final AttributeKey<Long> FIELDS_MASKED = AttributeKey.longKey("hipaa.fields_masked");

  private static final OpenTelemetryCallObserver INSTANCE = new OpenTelemetryCallObserver();

  private OpenTelemetryCallObserver() {}

  /** Returns the observer. */
  public static OpenTelemetryCallObserver create() {
    return INSTANCE;
  }

  /** Captures the span current where the call starts: the end may come on another thread. */
  @Override
  public @Nullable Object onCallStart(CallFacts facts) {
    Span span = Span.current();
    return span.isRecording() ? span : null;
  }

  @Override
  public void onCallEnd(CallEnd call) {
    if (!(call.state() instanceof Span span) || !span.isRecording()) {
      return;
    }
    CallFacts facts = call.facts();
    span.setAttribute(CORRELATION_ID, facts.correlationId());
    String failure = facts.authenticationFailure();
    if (failure != null) {
      span.setAttribute(AUTHENTICATION_FAILURE, failure);
    }
    AccessDecision decision = facts.decision();
    if (decision != null) {
      span.setAttribute(DECISION, decision.outcome().name());
      span.setAttribute(RULE_ID, decision.ruleId());
      span.setAttribute(POLICY_VERSION, decision.policyVersion());
      boolean glass = decision.outcome() == AccessDecision.Outcome.BREAK_GLASS;
      span.setAttribute(BREAK_GLASS, glass);
      String reason = decision.breakGlassReason();
      if (glass && reason != null) {
        span.setAttribute(BREAK_GLASS_REASON, reason);
      }
    }
    if (facts.maskedFields() > 0) {
      span.setAttribute(FIELDS_MASKED, (long) facts.maskedFields());
    }
  }
}
