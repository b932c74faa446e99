package dev.hipaagrpc.core;

import io.grpc.Context;

/**
 * The {@link Context} keys through which the security layers share what they know about the current
 * call.
 *
 * <p>Thread-safe: keys are constants and {@link Context} is immutable.
 */
public final class SecurityContext {

  /** The per-call facts holder; attached by the outermost hipaa-grpc interceptor. */
  public static final Context.Key<CallFacts> CALL_FACTS = Context.key("hipaagrpc-call-facts");

  private SecurityContext() {}

  /**
   * Returns {@code context} if it already carries a {@link CallFacts}, else a child of it that
   * carries a new one with a fresh correlation id. Every hipaa-grpc server interceptor calls this
   * first, so each is usable alone and all share one holder when stacked.
   */
  public static Context withCallFacts(Context context) {
    if (CALL_FACTS.get(context) != null) {
      return context;
    }
    return context.withValue(CALL_FACTS, CallFacts.create(CorrelationId.generate()));
  }

  /** Returns the call facts of {@code context}, which must come from {@link #withCallFacts}. */
  public static CallFacts callFacts(Context context) {
    CallFacts facts = CALL_FACTS.get(context);
    if (facts == null) {
      throw new IllegalStateException("no CallFacts: use SecurityContext.withCallFacts first");
    }
    return facts;
  }
}
