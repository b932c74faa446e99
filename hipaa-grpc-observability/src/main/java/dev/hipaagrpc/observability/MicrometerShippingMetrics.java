package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.kafka.ShippingMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The audit forwarder's {@link ShippingMetrics} as Micrometer meters; pass it to {@code
 * KafkaAuditForwarder.Builder.metrics}:
 *
 * <ul>
 *   <li>{@code hipaa.grpc.audit.shipping.lag.records} and {@code
 *       hipaa.grpc.audit.shipping.lag.bytes} (gauges): records written locally but not yet
 *       acknowledged by the broker, and the bytes of log after the acknowledged position;
 *   <li>{@code hipaa.grpc.audit.shipping.ack.age} (gauge, seconds): time since the last
 *       acknowledged batch (since the meters were created, before the first) — alert when it grows
 *       while the lag is not zero;
 *   <li>{@code hipaa.grpc.audit.shipping.records} and {@code
 *       hipaa.grpc.audit.shipping.send.failures} (counters): records acknowledged, and failed sends
 *       (each is sent again).
 * </ul>
 *
 * <p>No tags: one forwarder ships one log. Thread-safe.
 */
public final class MicrometerShippingMetrics implements ShippingMetrics {
  private final AtomicLong lagRecords = new AtomicLong();
  private final AtomicLong lagBytes = new AtomicLong();
  private final AtomicLong lastAck;
  private final Counter records;
  private final Counter failures;

  private MicrometerShippingMetrics(MeterRegistry registry, Clock clock) {
    lastAck = new AtomicLong(clock.millis());
    Gauge.builder("hipaa.grpc.audit.shipping.lag.records", lagRecords, AtomicLong::get)
        .description("Audit records written locally and not yet acknowledged by Kafka")
        .register(registry);
    Gauge.builder("hipaa.grpc.audit.shipping.lag.bytes", lagBytes, AtomicLong::get)
        .description("Bytes of audit log after the acknowledged position")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder(
            "hipaa.grpc.audit.shipping.ack.age",
            lastAck,
            a -> Math.max(0, clock.millis() - a.get()) / 1000.0)
        .description("Seconds since Kafka last acknowledged shipped audit records")
        .baseUnit("seconds")
        .register(registry);
    records = Counter.builder("hipaa.grpc.audit.shipping.records").register(registry);
    failures = Counter.builder("hipaa.grpc.audit.shipping.send.failures").register(registry);
  }

  /** Registers the meters in {@code registry}, with the system clock. */
  public static MicrometerShippingMetrics create(MeterRegistry registry) {
    return create(registry, Clock.systemUTC());
  }

  /** Registers the meters in {@code registry}; {@code clock} ages the last acknowledgement. */
  public static MicrometerShippingMetrics create(MeterRegistry registry, Clock clock) {
    return new MicrometerShippingMetrics(
        requireNonNull(registry, "registry"), requireNonNull(clock, "clock"));
  }

  @Override
  public void lag(long records, long bytes) {
    lagRecords.set(records);
    lagBytes.set(bytes);
  }

  @Override
  public void acknowledged(int records, long epochMillis) {
    this.records.increment(records);
    lastAck.set(epochMillis);
  }

  @Override
  public void sendFailed() {
    failures.increment();
  }
}
