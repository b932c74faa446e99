package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The audit dispatcher's {@link AuditMetrics} as Micrometer meters; pass it to {@code
 * AuditDispatcher.Builder.metrics}:
 *
 * <ul>
 *   <li>{@code hipaa.grpc.audit.queue.depth} (gauge): events waiting to be written;
 *   <li>{@code hipaa.grpc.audit.batch.write} (timer) and {@code hipaa.grpc.audit.batch.events}
 *       (summary): how long a batch took to write, and its size;
 *   <li>{@code hipaa.grpc.audit.sync} (timer): fsync latency of each group commit;
 *   <li>{@code hipaa.grpc.audit.sink.failures}, {@code hipaa.grpc.audit.events.lost}, {@code
 *       hipaa.grpc.audit.calls.refused} (counters): alert on any non-zero value of the last two.
 * </ul>
 *
 * <p>No tags: the values are about the log, never about a call. Thread-safe.
 */
public final class MicrometerAuditMetrics implements AuditMetrics {
  private final AtomicInteger depth = new AtomicInteger();
  private final Timer batchWrite;
  private final DistributionSummary batchEvents;
  private final Timer sync;
  private final Counter sinkFailures;
  private final Counter lost;
  private final Counter refused;

  private MicrometerAuditMetrics(MeterRegistry registry) {
    Gauge.builder("hipaa.grpc.audit.queue.depth", depth, AtomicInteger::get)
        .description("Audit events waiting to be written")
        .register(registry);
    batchWrite = Timer.builder("hipaa.grpc.audit.batch.write").register(registry);
    batchEvents = DistributionSummary.builder("hipaa.grpc.audit.batch.events").register(registry);
    sync = Timer.builder("hipaa.grpc.audit.sync").register(registry);
    sinkFailures = Counter.builder("hipaa.grpc.audit.sink.failures").register(registry);
    lost = Counter.builder("hipaa.grpc.audit.events.lost").register(registry);
    refused = Counter.builder("hipaa.grpc.audit.calls.refused").register(registry);
  }

  /** Registers the meters in {@code registry}. */
  public static MicrometerAuditMetrics create(MeterRegistry registry) {
    return new MicrometerAuditMetrics(requireNonNull(registry, "registry"));
  }

  @Override
  public void queueDepth(int depth) {
    this.depth.set(depth);
  }

  @Override
  public void batchWritten(int events, long nanos) {
    batchWrite.record(nanos, TimeUnit.NANOSECONDS);
    batchEvents.record(events);
  }

  @Override
  public void synced(int events, long nanos) {
    sync.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void sinkFailed() {
    sinkFailures.increment();
  }

  @Override
  public void eventsLost(long count) {
    lost.increment((double) count);
  }

  @Override
  public void callRefused() {
    refused.increment();
  }
}
