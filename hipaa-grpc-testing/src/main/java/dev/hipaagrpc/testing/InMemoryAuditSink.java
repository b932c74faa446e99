package dev.hipaagrpc.testing;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditSink;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link AuditSink} that keeps every event in memory, for tests that assert what a call
 * recorded. It can be told to fail, to exercise a delivery policy.
 *
 * <pre>{@code
 * InMemoryAuditSink sink = InMemoryAuditSink.create();
 * AuditDispatcher dispatcher = AuditDispatcher.newBuilder(sink).build();
 * // ... make one call through an AuditServerInterceptor over the dispatcher ...
 * AuditEvent event = sink.awaitEvents(1, Duration.ofSeconds(5)).get(0);
 * }</pre>
 *
 * <p>Defaults: empty, accepting every write. A batch is kept whole or not at all, as {@link
 * AuditSink#write} asks; a write after {@link #close()} throws {@link IOException}, like a real
 * sink's, so a test sees a dispatcher that writes after closing.
 *
 * <p>Thread-safe: the dispatcher's writer thread writes while a test thread reads.
 */
public final class InMemoryAuditSink implements AuditSink {

  private final List<AuditEvent> events = new ArrayList<>();
  private boolean failing;
  private boolean closed;

  private InMemoryAuditSink() {}

  /** Returns an empty sink that accepts every write. */
  public static InMemoryAuditSink create() {
    return new InMemoryAuditSink();
  }

  @Override
  public synchronized void write(List<AuditEvent> batch) throws IOException {
    requireNonNull(batch, "batch");
    if (closed) {
      throw new IOException("InMemoryAuditSink is closed");
    }
    if (failing) {
      throw new IOException("InMemoryAuditSink told to fail");
    }
    events.addAll(batch);
    notifyAll();
  }

  /**
   * Makes every later {@link #write} throw {@link IOException} ({@code true}) or succeed again
   * ({@code false}). A failed batch is not kept.
   */
  public synchronized void failWrites(boolean fail) {
    this.failing = fail;
  }

  /** A copy of the events written so far, in order. */
  public synchronized List<AuditEvent> events() {
    return List.copyOf(events);
  }

  /** Forgets the events written so far. */
  public synchronized void clear() {
    events.clear();
  }

  /** Whether {@link #close()} was called. */
  public synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Waits until at least {@code count} events were written, and returns a copy of all of them.
   *
   * @throws AssertionError if they were not written within {@code timeout}
   * @throws IllegalArgumentException if {@code count} is negative
   * @throws InterruptedException if interrupted while waiting
   */
  public synchronized List<AuditEvent> awaitEvents(int count, Duration timeout)
      throws InterruptedException {
    requireNonNull(timeout, "timeout");
    if (count < 0) {
      throw new IllegalArgumentException("count must not be negative");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (events.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "expected at least " + count + " audit events, got " + events.size());
      }
      // wait(millis) may return early (spurious wakeup, or a write that was not enough).
      wait(Math.max(1, left / 1_000_000));
    }
    return List.copyOf(events);
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
