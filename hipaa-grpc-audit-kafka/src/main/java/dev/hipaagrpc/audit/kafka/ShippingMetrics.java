package dev.hipaagrpc.audit.kafka;

/**
 * What the {@link KafkaAuditForwarder} tells about shipping lag, for alerting (the Micrometer
 * binding is {@code dev.hipaagrpc.observability.MicrometerShippingMetrics}). Every method has a
 * no-op default; implementations must be fast, must not throw and must be thread-safe (they are
 * called from the forwarder's thread).
 */
public interface ShippingMetrics {

  /** Reports nothing. */
  ShippingMetrics NONE = new ShippingMetrics() {};

  /**
   * The lag after each round: records written to the local log but not yet acknowledged by the
   * broker (the newest record's sequence number minus the last acknowledged one), and the bytes of
   * log files after the acknowledged position.
   */
  default void lag(long records, long bytes) {}

  /**
   * A batch was acknowledged by the broker and the position persisted.
   *
   * @param records records in the batch
   * @param epochMillis when (the forwarder's clock)
   */
  default void acknowledged(int records, long epochMillis) {}

  /** A send failed (broker unreachable, timed out, refused): the batch is sent again. */
  default void sendFailed() {}
}
