package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AuditSink#toSlf4j()}: writes each event as one JSON line at INFO to an SLF4J logger
 * (default {@code hipaagrpc.audit}), for teams that ship logs to a SIEM. The JSON is the same as in
 * the chained file, without the chain: this sink is not tamper-evident, and a logging backend may
 * drop lines (Logback's AsyncAppender discards INFO when 80% full by default). Pair it with {@link
 * ChainedFileSink} where the record must be complete.
 *
 * <p>Thread-safe if the logger is (SLF4J loggers are).
 */
final class Slf4jAuditSink implements AuditSink {

  private final Logger logger;

  private Slf4jAuditSink(Logger logger) {
    this.logger = logger;
  }

  /** Returns a sink logging to {@code hipaagrpc.audit}. */
  static Slf4jAuditSink create() {
    return new Slf4jAuditSink(LoggerFactory.getLogger("hipaagrpc.audit"));
  }

  /** Returns a sink logging to {@code logger}. */
  static Slf4jAuditSink create(Logger logger) {
    return new Slf4jAuditSink(requireNonNull(logger, "logger"));
  }

  @Override
  public void write(List<AuditEvent> events) {
    for (AuditEvent e : events) {
      logger.info("{}", EventJson.toJson(e));
    }
  }

  /** Does nothing. */
  @Override
  public void close() {}
}
