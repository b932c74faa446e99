package dev.hipaagrpc.audit;

/**
 * Receives the audit pipeline's health figures, for export to a metrics system. Every method has a
 * no-op default. Values are counts and durations only: never labels derived from calls.
 *
 * <p>Implementations must be thread-safe and fast: methods are called on call threads and on the
 * writer thread.
 */
public interface AuditMetrics {

  /** The number of events waiting in the queue, sampled after each batch. */
  default void queueDepth(int depth) {}

  /** A batch of {@code events} was written to the sink in {@code nanos}. */
  default void batchWritten(int events, long nanos) {}

  /** One sync (fsync) made {@code events} durable in {@code nanos}: a group commit. */
  default void synced(int events, long nanos) {}

  /** The sink threw; the batch will be retried. */
  default void sinkFailed() {}

  /** {@code count} events were discarded (shedding mode, or undeliverable at close). */
  default void eventsLost(long count) {}

  /** A call was refused or failed with UNAVAILABLE because its event could not be accepted. */
  default void callRefused() {}
}
