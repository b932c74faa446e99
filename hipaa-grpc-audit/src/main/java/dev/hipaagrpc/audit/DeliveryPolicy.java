package dev.hipaagrpc.audit;

/**
 * What an {@link AuditDispatcher} does with a call's event when the sink is slow or failing and the
 * queue is full.
 *
 * <p>No policy ever discards an event the queue accepted: the writer retries a failing sink until
 * it succeeds (or until {@link AuditDispatcher#close()} gives up, which it counts and logs as a
 * loss).
 */
public enum DeliveryPolicy {
  /**
   * Back-pressure: the thread closing the call waits until the queue has room. Calls slow down to
   * the speed of the sink; nothing is lost. The default.
   */
  BLOCK,

  /**
   * Fail closed: while the sink is failing or the queue is full, new calls are refused with {@code
   * UNAVAILABLE} before the service runs, and a call whose event cannot be queued is closed with
   * {@code UNAVAILABLE} instead of its real outcome. A unary response is held until its event is
   * accepted, so no response leaves without its audit record.
   */
  FAIL_CLOSED,

  /**
   * DANGEROUS: when the queue is full the event is discarded and the call proceeds unaudited. Every
   * discarded event is counted ({@link AuditDispatcher#lostEvents()}, {@link
   * AuditMetrics#eventsLost}), logged at ERROR, and reported into the audit log itself as an {@code
   * EVENTS_LOST} event once the sink recovers. HIPAA 164.312(b) expects every access to be
   * recorded; choose this only where availability is judged to outweigh that, and say so in your
   * risk analysis.
   */
  INSECURE_SHED_AND_COUNT_LOSSES
}
