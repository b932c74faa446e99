package dev.hipaagrpc.core;

import io.grpc.Status;
import java.time.Duration;

/**
 * Told once about every call the {@link SecurityStack} ran, when it ended: the hook for metrics and
 * tracing ({@code hipaa-grpc-observability} binds it to Micrometer and OpenTelemetry). Register
 * with {@link SecurityStack.Builder#observe}.
 *
 * <p>Called on the thread that ended the call (the one closing it, or the transport's on a
 * cancellation), after the status is final and before the audit layer writes its event. An
 * implementation must be fast, must not block, and must be thread-safe; an exception it throws is
 * logged once per observer class and otherwise ignored: observing never changes a call.
 */
@FunctionalInterface
public interface CallObserver {

  /** One ended call. */
  void onCallEnd(CallEnd call);

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
   */
  record CallEnd(String method, Status.Code status, Duration duration, CallFacts facts) {}
}
