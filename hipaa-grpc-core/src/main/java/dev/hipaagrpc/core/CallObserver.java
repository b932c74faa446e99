package dev.hipaagrpc.core;

import io.grpc.Status;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Told once about every call the {@link SecurityStack} ran, when it ended: the hook for metrics and
 * tracing ({@code hipaa-grpc-observability} binds it to Micrometer and OpenTelemetry). Register
 * with {@link SecurityStack.Builder#observe}.
 *
 * <p>{@link #onCallEnd} is called on the thread that ends the call: the service's, the audit
 * dispatcher's release thread when the audit is durable before the response, or the transport's on
 * a cancellation; by then the audit layer has taken the call's event (and, when durable, written
 * it). State an observer needs from the call's own thread (a tracing span, say) it captures in
 * {@link #onCallStart}, which runs on the thread that starts the call, and gets back in {@link
 * CallEnd#state}. An implementation must be fast, must not block, and must be thread-safe; an
 * exception it throws is logged once per observer class and otherwise ignored: observing never
 * changes a call.
 */
@FunctionalInterface
public interface CallObserver {

  /** One ended call. */
  void onCallEnd(CallEnd call);

  /**
   * A call starts (before any layer but correlation has seen it); what this returns comes back as
   * {@link CallEnd#state} of the same call. Default: nothing.
   */
  default @Nullable Object onCallStart(CallFacts facts) {
    return null;
  }

  /**
   * One ended call, as observers see it. Every value is bounded (fit for a metric tag) except
   * {@link #facts}, whose identifiers an observer must never export.
   *
   * @param method the full method name, or {@code "unknown"} for a method the server does not have
   *     (so that callers cannot mint tag values)
   * @param status the status the caller received ({@code CANCELLED} when the client went away)
   * @param duration from the start of the call to its end
   * @param facts what the layers recorded: authentication failure code, decision, break-glass,
   *     masked field count, and identifiers (principal, patients) that must not leave the process
   * @param state what this observer's {@link #onCallStart} returned for the call, or null
   */
  record CallEnd(
      String method,
      Status.Code status,
      Duration duration,
      CallFacts facts,
      @Nullable Object state) {}
}
