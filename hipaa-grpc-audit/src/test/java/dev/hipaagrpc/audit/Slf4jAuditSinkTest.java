package dev.hipaagrpc.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

class Slf4jAuditSinkTest {

  /** Captures formatted INFO lines. */
  static final class Capturing extends LegacyAbstractLogger {
    final List<String> lines = new ArrayList<>();

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String msg, Object[] args, Throwable t) {
      assertThat(level).isEqualTo(Level.INFO);
      lines.add(MessageFormatter.basicArrayFormat(msg, args));
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }

  @Test
  void write_events_oneSchemaJsonLineEach() throws Exception {
    Capturing logger = new Capturing();
    AuditEvent a = ChainedFileSinkTest.event(1);
    AuditEvent b = ChainedFileSinkTest.event(2);
    try (Slf4jAuditSink sink = Slf4jAuditSink.create(logger)) {
      sink.write(List.of(a, b));
    }
    assertThat(logger.lines).hasSize(2);
    AuditEvent.Builder parsed = AuditEvent.newBuilder();
    JsonFormat.parser().merge(logger.lines.get(1), parsed);
    assertThat(parsed.build()).isEqualTo(b);
  }
}
