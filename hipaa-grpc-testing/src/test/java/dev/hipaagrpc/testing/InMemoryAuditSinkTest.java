package dev.hipaagrpc.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InMemoryAuditSinkTest {

  private static AuditEvent event(String correlationId) {
    return AuditEvent.newBuilder().setCorrelationId(correlationId).build();
  }

  @Test
  void write_keepsBatchesInOrder_eventsIsACopy() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();

    sink.write(List.of(event("a"), event("b")));
    sink.write(List.of(event("c")));
    List<AuditEvent> events = sink.events();
    sink.write(List.of(event("d")));

    assertThat(events).extracting(AuditEvent::getCorrelationId).containsExactly("a", "b", "c");
    assertThat(sink.events()).hasSize(4);
    assertThatThrownBy(() -> events.add(event("x")))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void failWrites_true_throwsAndKeepsNothingUntilSwitchedBack() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();
    sink.failWrites(true);

    assertThatThrownBy(() -> sink.write(List.of(event("lost")))).isInstanceOf(IOException.class);
    assertThat(sink.events()).isEmpty();

    sink.failWrites(false);
    sink.write(List.of(event("kept")));
    assertThat(sink.events()).extracting(AuditEvent::getCorrelationId).containsExactly("kept");
  }

  @Test
  void close_marksClosed_laterWritesThrow() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();
    sink.write(List.of(event("before")));

    sink.close();

    assertThat(sink.isClosed()).isTrue();
    assertThatThrownBy(() -> sink.write(List.of(event("after")))).isInstanceOf(IOException.class);
    assertThat(sink.events()).extracting(AuditEvent::getCorrelationId).containsExactly("before");
  }

  @Test
  void clear_forgetsEvents() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();
    sink.write(List.of(event("a")));

    sink.clear();

    assertThat(sink.events()).isEmpty();
  }

  @Test
  void awaitEvents_writtenByAnotherThread_returnsThem() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();
    CompletableFuture<List<AuditEvent>> awaited =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return sink.awaitEvents(2, Duration.ofSeconds(10));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            });

    sink.write(List.of(event("a")));
    sink.write(List.of(event("b")));

    assertThat(awaited.get(10, TimeUnit.SECONDS))
        .extracting(AuditEvent::getCorrelationId)
        .containsExactly("a", "b");
  }

  @Test
  void awaitEvents_tooFew_failsAfterTimeoutNamingTheCounts() throws Exception {
    InMemoryAuditSink sink = InMemoryAuditSink.create();
    sink.write(List.of(event("a")));

    long start = System.nanoTime();
    assertThatThrownBy(() -> sink.awaitEvents(2, Duration.ofMillis(100)))
        .isInstanceOf(AssertionError.class)
        .hasMessage("expected at least 2 audit events, got 1");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(100));
  }

  @Test
  void awaitEvents_negativeCount_refused() {
    InMemoryAuditSink sink = InMemoryAuditSink.create();

    assertThatThrownBy(() -> sink.awaitEvents(-1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
