package dev.hipaagrpc.audit;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.core.PostureItem;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * Where an {@link AuditDispatcher} writes events. Implementations: {@link ChainedFileSink} (the
 * tamper-evident log) and {@link #toSlf4j()} (JSON lines to a logger, for a SIEM).
 *
 * <p>Only the dispatcher's single writer thread calls a sink, so implementations need not be
 * thread-safe with respect to these methods.
 */
public interface AuditSink extends Closeable {

  /**
   * Writes a batch of events. Should be all-or-nothing: when it throws, the dispatcher retries the
   * same batch later, so a sink that persisted part of it would record those events twice.
   *
   * @throws IOException when the events could not be written
   */
  void write(List<AuditEvent> events) throws IOException;

  /**
   * Makes everything written so far durable (fsync). Called once per batch when the dispatcher is
   * durable-before-response, so concurrent calls share one sync. When it throws, the dispatcher
   * retries the sync, never the write of a batch that {@link #write} accepted. Default: nothing.
   *
   * @throws IOException when the data could not be made durable
   */
  default void sync() throws IOException {}

  /**
   * Called by the writer thread when the queue has been idle for a while, for time-based work
   * (periodic checkpoints, rotation by age). Default: nothing.
   *
   * @throws IOException when that work failed
   */
  default void idle() throws IOException {}

  /**
   * What this sink's state evidences, for the stack's posture report (the chain's last sequence and
   * checkpoint, the signing key's id). Called from any thread, unlike the methods above: read only
   * state safe to read concurrently. Never a key. Default: nothing.
   */
  default List<PostureItem> posture() {
    return List.of();
  }

  /**
   * A sink that writes each event as one JSON line at INFO to the SLF4J logger {@code
   * hipaagrpc.audit}, for teams that ship logs to a SIEM. The JSON is the chained file's, without
   * the chain: this sink is not tamper-evident, and a logging backend may drop lines (Logback's
   * AsyncAppender discards INFO when 80% full by default). Pair it with {@link ChainedFileSink}
   * where the record must be complete. Thread-safe.
   */
  static AuditSink toSlf4j() {
    return Slf4jAuditSink.create();
  }

  /** As {@link #toSlf4j()}, to {@code logger}. */
  static AuditSink toSlf4j(org.slf4j.Logger logger) {
    return Slf4jAuditSink.create(logger);
  }
}
