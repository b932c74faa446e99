package dev.hipaagrpc.core.internal;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.CallFacts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * Ends a call that a layer refuses: a fixed description plus the correlation id, the cause kept
 * server-side ({@link Status#withCause} is never transmitted), then a listener that ignores
 * whatever the client still sends.
 *
 * <p>Descriptions are constants of the refusing layer; never text derived from the request, an
 * exception message or a credential. Thread-safe (stateless).
 */
public final class Refusals {

  private Refusals() {}

  /** Returns {@code fixed + " (correlation id: " + id + ")"}: the one description format. */
  public static String description(String fixed, CallFacts facts) {
    return description(fixed, facts.correlationId());
  }

  /** Returns {@code fixed + " (correlation id: " + correlationId + ")"}. */
  public static String description(String fixed, String correlationId) {
    requireNonNull(fixed, "fixed");
    requireNonNull(correlationId, "correlationId");
    return fixed + " (correlation id: " + correlationId + ")";
  }

  /** Returns {@code code} with the fixed description and the correlation id of {@code facts}. */
  public static Status status(Status.Code code, String fixed, CallFacts facts) {
    return Status.fromCode(code).withDescription(description(fixed, facts));
  }

  /**
   * Closes {@code call} with {@code code}, the fixed description and the call's correlation id, and
   * returns a listener that drops every later event.
   */
  public static <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call, Status.Code code, String fixed, CallFacts facts) {
    return refuse(call, status(code, fixed, facts), new Metadata());
  }

  /**
   * Closes {@code call} with {@code status} (whose description must already be a fixed string) and
   * {@code trailers}, and returns a listener that drops every later event.
   */
  public static <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call, Status status, Metadata trailers) {
    requireNonNull(call, "call");
    requireNonNull(status, "status");
    requireNonNull(trailers, "trailers");
    RefusalSummary.record(status.getCode(), CallFacts.current());
    call.close(status, trailers);
    return ignoring();
  }

  /** A listener that ignores every event: what a refused call's remaining messages reach. */
  public static <ReqT> ServerCall.Listener<ReqT> ignoring() {
    return new ServerCall.Listener<ReqT>() {};
  }
}
