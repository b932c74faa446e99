package dev.hipaagrpc.audit;

import static dev.hipaagrpc.audit.TestServer.IDENTIFIER_KEY;
import static dev.hipaagrpc.audit.TestServer.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.testing.PatientRecord;
import dev.hipaagrpc.audit.testing.PatientServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each delivery policy under a sink that stalls and a sink that throws. */
@Timeout(60)
class DeliveryPolicyTest {

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private AuditDispatcher dispatcher;
  private TestServer server;

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    if (server != null) {
      server.close();
    }
    if (dispatcher != null) {
      dispatcher.close();
    }
  }

  private void start(AuditDispatcher d) throws Exception {
    dispatcher = d;
    server = new TestServer(AuditServerInterceptor.newBuilder(d, IDENTIFIER_KEY).build());
  }

  private PatientServiceGrpc.PatientServiceBlockingStub stub() {
    return server.blocking("ok");
  }

  private Future<PatientRecord> callAsync() {
    return pool.submit(() -> stub().getPatient(request("x")));
  }

  private static Status.Code codeOf(Runnable r) {
    try {
      r.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** Fills a capacity-1 queue behind a stalled writer: one event in the sink, one queued. */
  private void fillQueue(TestSinks.Stalling sink) throws Exception {
    stub().getPatient(request("x"));
    Await.until("sink.started.get() > 0", () -> sink.started.get() > 0);
    stub().getPatient(request("x"));
    Await.until("dispatcher.queueDepth() >= 1", () -> dispatcher.queueDepth() >= 1);
  }

  @Test
  void block_stallingSink_callsWaitThenAllEventsWritten() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    start(AuditDispatcher.newBuilder(sink).queueCapacity(1).build());
    fillQueue(sink);
    Future<PatientRecord> third = callAsync();
    Thread.sleep(200);
    assertThat(third.isDone()).as("back-pressured while the sink stalls").isFalse();
    sink.release();
    assertThat(third.get().getName()).isEqualTo(TestServer.CANARY);
    assertThat(sink.await(3)).hasSize(3);
    assertThat(dispatcher.lostEvents()).isZero();
  }

  @Test
  void block_throwingSink_retriesUntilWrittenNothingLost() throws Exception {
    TestSinks.Throwing sink = new TestSinks.Throwing();
    start(AuditDispatcher.newBuilder(sink).build());
    stub().getPatient(request("x"));
    stub().getPatient(request("x"));
    Await.until("sink.attempts.get() >= 3", () -> sink.attempts.get() >= 3);
    assertThat(dispatcher.sinkHealthy()).isFalse();
    sink.failing = false;
    assertThat(sink.await(2)).hasSize(2);
    assertThat(dispatcher.sinkFailures()).isGreaterThanOrEqualTo(3);
    assertThat(dispatcher.lostEvents()).isZero();
  }

  @Test
  void failClosed_stallingSinkQueueFull_refusesBeforeServiceRuns() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    start(
        AuditDispatcher.newBuilder(sink)
            .policy(DeliveryPolicy.FAIL_CLOSED)
            .queueCapacity(1)
            .build());
    fillQueue(sink);
    int before = server.serviceInvocations.get();
    assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(server.serviceInvocations.get()).isEqualTo(before);
    assertThat(dispatcher.refusedCalls()).isEqualTo(1);
    // The refused call's own event found the queue full: it is counted and reported, not dropped
    // silently.
    assertThat(dispatcher.lostEvents()).isEqualTo(1);
    sink.release();
    assertThat(sink.await(2)).hasSize(2);
  }

  @Test
  void failClosed_throwingSink_refusesNewCallsUntilHealthy() throws Exception {
    TestSinks.Throwing sink = new TestSinks.Throwing();
    start(AuditDispatcher.newBuilder(sink).policy(DeliveryPolicy.FAIL_CLOSED).build());
    stub().getPatient(request("x")); // accepted while healthy; its write then fails
    Await.until("dispatcher.sinkFailures() > 0", () -> dispatcher.sinkFailures() > 0);
    int before = server.serviceInvocations.get();
    Status.Code code = codeOf(() -> stub().getPatient(request("x")));
    assertThat(code).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(server.serviceInvocations.get()).isEqualTo(before);
    sink.failing = false;
    // The accepted event (and the refused call's best-effort event) are written, not dropped.
    List<AuditEvent> written = sink.await(1);
    assertThat(written.get(0).getOutcome().getStatus()).isEqualTo("OK");
    Await.until("dispatcher.sinkHealthy()", () -> dispatcher.sinkHealthy());
    assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.OK);
  }

  @Test
  void failClosedDurable_stallingSink_responseNotReleased() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    start(
        AuditDispatcher.newBuilder(sink)
            .policy(DeliveryPolicy.FAIL_CLOSED)
            .durableBeforeResponse(true)
            .durableTimeout(Duration.ofMillis(300))
            .build());
    // The service runs and answers, but its answer never leaves: the event is not durable.
    assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(server.serviceInvocations.get()).isEqualTo(1);
    sink.release();
    // The writer had taken the event before the timeout: the one case where the record keeps the
    // service's status while the caller was refused, and it is counted.
    assertThat(sink.await(1).get(0).getOutcome().getStatus()).isEqualTo("OK");
    assertThat(dispatcher.outcomeMismatches()).isEqualTo(1);
  }

  @Test
  void durableTimeout_eventStillQueued_recordsTheUnavailableTheCallerSaw() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    start(
        AuditDispatcher.newBuilder(sink)
            .durableBeforeResponse(true)
            .durableTimeout(Duration.ofMillis(300))
            .build());
    Future<Status.Code> first = pool.submit(() -> codeOf(() -> stub().getPatient(request("x"))));
    Await.until("sink.started.get() > 0", () -> sink.started.get() > 0);
    // Queued behind the stalled write: times out while still in the queue.
    assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(Status.Code.UNAVAILABLE);
    sink.release();
    List<AuditEvent> written = sink.await(2);
    assertThat(written)
        .extracting(e -> e.getOutcome().getStatus())
        .containsExactly("OK", "UNAVAILABLE");
    assertThat(dispatcher.outcomeMismatches()).isEqualTo(1);
    assertThat(dispatcher.lostEvents()).isZero();
  }

  @Test
  void durableTimeout_detachedEventAtTheQueueHead_laterHeldCallsStillTimeOut() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    start(
        AuditDispatcher.newBuilder(sink)
            .durableBeforeResponse(true)
            .durableTimeout(Duration.ofMillis(300))
            .build());
    Future<Status.Code> first = pool.submit(() -> codeOf(() -> stub().getPatient(request("x"))));
    Await.until("sink.started.get() > 0", () -> sink.started.get() > 0);
    // A detached event (as for a cancellation) has no deadline; queued first, it must not stop
    // the watchdog from refusing the held call queued behind it.
    dispatcher.deliverDetached(AuditEvent.newBuilder().setEventId("detached").build());
    assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(Status.Code.UNAVAILABLE);
    sink.release();
    List<AuditEvent> written = sink.await(3);
    assertThat(written)
        .extracting(
            e -> e.getEventId().equals("detached") ? "detached" : e.getOutcome().getStatus())
        .containsExactly("OK", "detached", "UNAVAILABLE");
    assertThat(dispatcher.lostEvents()).isZero();
  }

  @Test
  void durable_syncStalls_responseWaitsForSync() throws Exception {
    CompletableFuture<Void> syncGate = new CompletableFuture<>();
    TestSinks.Collecting sink =
        new TestSinks.Collecting() {
          @Override
          public void sync() {
            syncGate.join();
            super.syncs.incrementAndGet();
          }
        };
    start(AuditDispatcher.newBuilder(sink).durableBeforeResponse(true).build());
    Future<PatientRecord> call = callAsync();
    sink.await(1);
    Thread.sleep(100);
    assertThat(call.isDone()).as("response held until the event is synced").isFalse();
    syncGate.complete(null);
    assertThat(call.get().getName()).isEqualTo(TestServer.CANARY);
    assertThat(dispatcher.syncBatches()).isEqualTo(1);
  }

  @Test
  void durable_syncStalls_callThreadsNotBlocked() throws Exception {
    CompletableFuture<Void> syncGate = new CompletableFuture<>();
    TestSinks.Collecting sink =
        new TestSinks.Collecting() {
          @Override
          public void sync() {
            syncGate.join();
          }
        };
    dispatcher = AuditDispatcher.newBuilder(sink).durableBeforeResponse(true).build();
    // One executor thread for every call: a call waiting for its fsync on that thread would stop
    // the second call's service from running at all.
    ExecutorService one = Executors.newSingleThreadExecutor();
    try {
      server =
          new TestServer(
              one, AuditServerInterceptor.newBuilder(dispatcher, IDENTIFIER_KEY).build());
      Future<PatientRecord> first = callAsync();
      sink.await(1);
      Future<PatientRecord> second = callAsync();
      Await.until(
          "server.serviceInvocations.get() == 2", () -> server.serviceInvocations.get() == 2);
      assertThat(first.isDone()).as("held until its event is synced").isFalse();
      assertThat(second.isDone()).isFalse();
      syncGate.complete(null);
      assertThat(first.get().getName()).isEqualTo(TestServer.CANARY);
      assertThat(second.get().getName()).isEqualTo(TestServer.CANARY);
      assertThat(sink.snapshot()).hasSize(2);
    } finally {
      server.close();
      server = null;
      one.shutdownNow();
    }
  }

  @Test
  void submit_durableTimeoutWhileQueued_falseAndNeverWritten() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    dispatcher =
        AuditDispatcher.newBuilder(sink)
            .durableBeforeResponse(true)
            .durableTimeout(Duration.ofMillis(300))
            .build();
    AuditEvent held = AuditEvent.newBuilder().setEventId("held").build();
    AuditEvent queued = AuditEvent.newBuilder().setEventId("queued").build();
    Future<Boolean> first = pool.submit(() -> dispatcher.submit(held));
    Await.until("sink.started.get() > 0", () -> sink.started.get() > 0);

    // Times out in the queue: withdrawn, so a retry cannot record it twice.
    assertThat(dispatcher.submit(queued)).isFalse();
    assertThat(dispatcher.submit(queued.toBuilder().setEventId("retried").build())).isFalse();
    sink.release();

    // The writer held the first: it waits for the write's outcome instead of inviting a retry.
    assertThat(first.get()).isTrue();
    dispatcher.close();
    assertThat(sink.snapshot()).extracting(AuditEvent::getEventId).containsExactly("held");
    assertThat(dispatcher.lostEvents()).isZero();
    assertThat(dispatcher.outcomeMismatches()).isZero();
  }

  @Test
  void shed_stallingSink_lossesCountedAndReported() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    AtomicLong metricLosses = new AtomicLong();
    start(
        AuditDispatcher.newBuilder(sink)
            .policy(DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES)
            .queueCapacity(1)
            .metrics(
                new AuditMetrics() {
                  @Override
                  public void eventsLost(long count) {
                    metricLosses.addAndGet(count);
                  }
                })
            .build());
    fillQueue(sink);
    for (int i = 0; i < 5; i++) {
      assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.OK);
    }
    assertThat(dispatcher.lostEvents()).isEqualTo(5);
    assertThat(metricLosses.get()).isEqualTo(5);
    sink.release();
    List<AuditEvent> events = sink.await(3);
    AuditEvent loss =
        events.stream()
            .filter(e -> e.getType() == AuditEvent.Type.EVENTS_LOST)
            .findFirst()
            .orElseThrow();
    assertThat(loss.getLostEvents()).isEqualTo(5);
  }

  @Test
  void shed_throwingSink_lossesCounted() throws Exception {
    TestSinks.Throwing sink = new TestSinks.Throwing();
    start(
        AuditDispatcher.newBuilder(sink)
            .policy(DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES)
            .queueCapacity(2)
            .build());
    for (int i = 0; i < 10; i++) {
      assertThat(codeOf(() -> stub().getPatient(request("x")))).isEqualTo(Status.Code.OK);
    }
    long written = sink.snapshot().size();
    assertThat(written).isZero();
    // The writer holds one batch (up to 2) and the queue 2 more: at least 6 of 10 shed, counted.
    assertThat(dispatcher.lostEvents()).isGreaterThanOrEqualTo(6);
    sink.failing = false;
    List<AuditEvent> events = sink.await((int) (10 - dispatcher.lostEvents()) + 1);
    long calls = events.stream().filter(e -> e.getType() == AuditEvent.Type.CALL).count();
    long reported =
        events.stream()
            .filter(e -> e.getType() == AuditEvent.Type.EVENTS_LOST)
            .mapToLong(AuditEvent::getLostEvents)
            .sum();
    assertThat(calls + reported).isEqualTo(10);
  }

  @Test
  void build_durableWithShedding_refused() {
    assertThatThrownBy(
            () ->
                AuditDispatcher.newBuilder(new TestSinks.Collecting())
                    .policy(DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES)
                    .durableBeforeResponse(true)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("BLOCK");
  }

  @Test
  void clientInterceptor_failClosedThrowingSink_outgoingCallUnavailable() throws Exception {
    TestSinks.Throwing sink = new TestSinks.Throwing();
    AuditDispatcher clientSide =
        AuditDispatcher.newBuilder(sink).policy(DeliveryPolicy.FAIL_CLOSED).build();
    start(AuditDispatcher.newBuilder(new TestSinks.Collecting()).build());
    try {
      AuditClientInterceptor audit =
          AuditClientInterceptor.newBuilder(clientSide, IDENTIFIER_KEY).build();
      server.blocking("ok", audit).getPatient(request("x"));
      Await.until("clientSide.sinkFailures() > 0", () -> clientSide.sinkFailures() > 0);
      assertThat(codeOf(() -> server.blocking("ok", audit).getPatient(request("x"))))
          .isEqualTo(Status.Code.UNAVAILABLE);
    } finally {
      sink.failing = false;
      clientSide.close();
    }
  }

  @Test
  void metrics_durableAndFailingSink_everyFigureReported() throws Exception {
    java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong synced = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong depthSamples =
        new java.util.concurrent.atomic.AtomicLong();
    TestSinks.Throwing sink = new TestSinks.Throwing();
    start(
        AuditDispatcher.newBuilder(sink)
            .durableBeforeResponse(true)
            .metrics(
                new AuditMetrics() {
                  @Override
                  public void queueDepth(int depth) {
                    depthSamples.incrementAndGet();
                  }

                  @Override
                  public void batchWritten(int events, long nanos) {
                    batches.addAndGet(events);
                  }

                  @Override
                  public void synced(int events, long nanos) {
                    synced.addAndGet(events);
                  }

                  @Override
                  public void sinkFailed() {
                    failed.incrementAndGet();
                  }
                })
            .build());
    Future<PatientRecord> call = callAsync();
    Await.until("failed.get() >= 2", () -> failed.get() >= 2);
    sink.failing = false;
    call.get();
    assertThat(batches.get()).isEqualTo(1);
    assertThat(synced.get()).isEqualTo(1);
    Await.until(
        "depthSamples.get() > 0",
        () -> depthSamples.get() > 0); // sampled just after the batch completes
    assertThat(dispatcher.syncBatches()).isEqualTo(1);
  }

  @Test
  void durable_concurrentEvents_shareOneFsync() throws Exception {
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger syncCalls =
        new java.util.concurrent.atomic.AtomicInteger();
    TestSinks.Collecting sink =
        new TestSinks.Collecting() {
          @Override
          public void sync() {
            if (syncCalls.incrementAndGet() == 1) {
              try {
                gate.await(); // hold the first fsync while nine more events queue up
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    dispatcher = AuditDispatcher.newBuilder(sink).durableBeforeResponse(true).build();
    AuditEvent e = AuditEvent.newBuilder().setSchema("hipaagrpc.audit/1").build();
    List<Future<Boolean>> calls = new java.util.ArrayList<>();
    calls.add(pool.submit(() -> dispatcher.submit(e)));
    Await.until("syncCalls.get() > 0", () -> syncCalls.get() > 0);
    for (int i = 0; i < 9; i++) {
      calls.add(pool.submit(() -> dispatcher.submit(e)));
    }
    Await.until("dispatcher.queueDepth() >= 9", () -> dispatcher.queueDepth() >= 9);
    gate.countDown();
    for (Future<Boolean> c : calls) {
      assertThat(c.get()).isTrue();
    }
    assertThat(sink.snapshot()).hasSize(10);
    assertThat(dispatcher.syncBatches()).isEqualTo(2); // ten durable events, two fsyncs
  }

  @Test
  void close_writerStuckInSink_countsQueuedEventsAsLostAndLeavesSinkOpen() throws Exception {
    TestSinks.Stalling sink = new TestSinks.Stalling();
    AuditDispatcher stuck =
        AuditDispatcher.newBuilder(sink).closeTimeout(java.time.Duration.ofMillis(50)).build();
    AuditEvent e = AuditEvent.newBuilder().setSchema("hipaagrpc.audit/1").build();
    try {
      assertThat(stuck.submit(e)).isTrue();
      Await.until(
          "sink.started.get() > 0",
          () -> sink.started.get() > 0); // the writer is now inside write(), held there
      assertThat(stuck.submit(e)).isTrue();
      assertThat(stuck.submit(e)).isTrue();

      stuck.close();

      // The two queued events will never be written: counted, not silently dropped; and the sink
      // was not closed under the writer that is still inside it.
      assertThat(stuck.lostEvents()).isEqualTo(2);
      assertThat(stuck.submit(e)).isFalse();
      assertThat(stuck.lostEvents()).isEqualTo(3);
    } finally {
      sink.release();
    }
  }
}
