package dev.hipaagrpc.audit;

import static dev.hipaagrpc.core.internal.Checks.requirePositive;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Safeguard;
import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves audit events from calls to an {@link AuditSink} through a bounded queue and one writer
 * thread, under an explicit {@link DeliveryPolicy}.
 *
 * <pre>{@code
 * AuditDispatcher dispatcher = AuditDispatcher.newBuilder(sink)
 *     .policy(DeliveryPolicy.FAIL_CLOSED)
 *     .durableBeforeResponse(true)
 *     .build();
 * }</pre>
 *
 * <p>The writer drains the queue in batches and writes each batch with one {@link AuditSink#write}
 * call; in durable-before-response mode it then calls {@link AuditSink#sync()} once for the batch
 * (group commit) and only then releases the calls waiting on those events. No thread waits for
 * that: the interceptor holds a call's response and the writer's completion releases it (on the
 * release executor, one task per batch). A failing sink is retried with backoff, never skipped:
 * events the queue accepted are not dropped, and none is written twice.
 *
 * <p>Thread-safe. {@link #close()} stops accepting events, drains the queue (waiting up to the
 * close timeout for a failing sink), and closes the sink.
 */
public final class AuditDispatcher implements Closeable {

  private static final Logger logger = LoggerFactory.getLogger(AuditDispatcher.class);
  private static final long LINGER_NANOS = 1_000_000L;

  private final AuditSink sink;
  private final DeliveryPolicy policy;
  private final boolean durable;
  private final Duration durableTimeout;
  private final long durableTimeoutNanos;
  private final Duration closeTimeout;
  private final int maxBatch;
  private final AuditMetrics metrics;
  private final ArrayBlockingQueue<Entry> queue;
  private final AtomicLong outcomeMismatches = new AtomicLong();
  private final Thread writer;
  private final boolean reportsLosses;
  // Durable mode only: watches durable timeouts, and releases held calls unless the user gave an
  // executor for that.
  private final @Nullable ScheduledThreadPoolExecutor watchdog;
  private final @Nullable Executor releaseExecutor;

  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong lostReported = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile boolean sinkHealthy = true;
  private volatile boolean closing;
  private volatile long lastLossLogNanos;
  // The batch the writer holds (durable mode), for the watchdog; null between batches.
  private volatile Entry @Nullable [] inHand;

  private AuditDispatcher(Builder b) {
    this.sink = b.sink;
    this.policy = b.policy;
    this.durable = b.durable;
    this.durableTimeout = b.durableTimeout;
    this.durableTimeoutNanos = b.durableTimeout.toNanos();
    this.closeTimeout = b.closeTimeout;
    this.maxBatch = b.maxBatch;
    this.metrics = new GuardedMetrics(b.metrics);
    this.queue = new ArrayBlockingQueue<>(b.capacity);
    this.reportsLosses = policy == DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES;
    if (durable) {
      ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, b.threadFactory);
      long tick = Math.max(1_000_000L, Math.min(100_000_000L, durableTimeoutNanos / 8));
      // An exception would end a periodic task silently: expire() catches its own.
      var unused = w.scheduleWithFixedDelay(this::expire, tick, tick, TimeUnit.NANOSECONDS);
      this.watchdog = w;
      this.releaseExecutor = b.releaseExecutor != null ? b.releaseExecutor : w;
    } else {
      this.watchdog = null;
      this.releaseExecutor = null;
    }
    this.writer = b.threadFactory.newThread(this::run);
    writer.start();
  }

  /**
   * Starts a dispatcher for {@code sink}. Defaults: {@link DeliveryPolicy#BLOCK}, queue capacity
   * 8192, batches of at most 1024, not durable-before-response, durable timeout 10 s, close timeout
   * 10 s, no metrics, a daemon writer thread named {@code hipaagrpc-audit-writer} (and in durable
   * mode a second one that watches the durable timeout and releases held responses).
   */
  public static Builder newBuilder(AuditSink sink) {
    return new Builder(requireNonNull(sink, "sink"));
  }

  /** The delivery policy. */
  public DeliveryPolicy policy() {
    return policy;
  }

  /** Whether responses wait until their event is durable. */
  public boolean durableBeforeResponse() {
    return durable;
  }

  /** Events waiting to be written. */
  public int queueDepth() {
    return queue.size();
  }

  /** Events discarded so far (shedding mode, or undeliverable at close); 0 otherwise. */
  public long lostEvents() {
    return lost.get();
  }

  /** How many times the sink threw. */
  public long sinkFailures() {
    return failures.get();
  }

  /** Events written to the sink. */
  public long writtenEvents() {
    return written.get();
  }

  /** Syncs performed (each a group commit of one batch). */
  public long syncBatches() {
    return syncs.get();
  }

  /** Calls refused or failed with UNAVAILABLE because their event could not be accepted. */
  public long refusedCalls() {
    return refused.get();
  }

  /** Whether the last write to the sink succeeded. */
  public boolean sinkHealthy() {
    return sinkHealthy;
  }

  /** One line for the stack's start-up summary: sink, policy, durability. No secret. */
  String describe() {
    return "sink="
        + sink.getClass().getSimpleName()
        + ", policy="
        + policy
        + (durable ? ", durable before response (timeout " + durableTimeout + ")" : "")
        + ", capacity="
        + (queue.remainingCapacity() + queue.size());
  }

  /**
   * {@code audit.sink}, {@code audit.delivery} (policy, durable before response and its timeout,
   * queue capacity; UNSAFE when events may be shed) and {@code audit.health} (sink healthy, events
   * written, lost, calls refused, sink failures; WARN when the sink is failing or an event was
   * lost), then the sink's own items.
   */
  List<PostureItem> posture() {
    List<PostureItem> items = new ArrayList<>();
    items.add(
        PostureItem.ok("audit.sink", Safeguard.AUDIT_CONTROLS, sink.getClass().getSimpleName()));
    Map<String, Object> delivery = new LinkedHashMap<>();
    delivery.put("policy", policy.name());
    delivery.put("durableBeforeResponse", durable);
    delivery.put("durableTimeoutMillis", durableTimeout.toMillis());
    delivery.put("queueCapacity", queue.remainingCapacity() + queue.size());
    items.add(
        reportsLosses
            ? PostureItem.unsafe(
                "audit.delivery",
                Safeguard.AUDIT_CONTROLS,
                delivery,
                policy
                    + ": events are shed (counted, logged, recorded) when the sink cannot keep"
                    + " up")
            : PostureItem.ok("audit.delivery", Safeguard.AUDIT_CONTROLS, delivery));
    Map<String, Object> health = new LinkedHashMap<>();
    health.put("sinkHealthy", sinkHealthy);
    health.put("writtenEvents", written.get());
    health.put("lostEvents", lost.get());
    health.put("refusedCalls", refused.get());
    health.put("sinkFailures", failures.get());
    items.add(
        !sinkHealthy || lost.get() > 0
            ? PostureItem.warn(
                "audit.health",
                Safeguard.AUDIT_CONTROLS,
                health,
                sinkHealthy ? "events were lost" : "the last write to the sink failed")
            : PostureItem.ok("audit.health", Safeguard.AUDIT_CONTROLS, health));
    items.addAll(sink.posture());
    return items;
  }

  /** FAIL_CLOSED admission: whether a new call may start. */
  boolean admitsCalls() {
    return !closing && sinkHealthy && queue.remainingCapacity() > 0;
  }

  void countRefused() {
    refused.incrementAndGet();
    metrics.callRefused();
  }

  /** Offers without waiting, counting a loss; for the event of a call refused at admission. */
  void offerBestEffort(AuditEvent event) {
    if (closing || !queue.offer(new Entry(event, null, null, 0))) {
      // Typically the queue is full: that is why the call was refused. Never silent.
      recordLoss(1);
    }
  }

  /**
   * Records an event that did not come from an interceptor (an application-level action, a batch
   * job), under the same policy as calls: waits for queue room under {@link DeliveryPolicy#BLOCK},
   * and in durable-before-response mode until the event is synced.
   *
   * <p>False always means the event was not recorded, so the caller may retry without writing it
   * twice: when the durable timeout passes while the event is still queued it is withdrawn; once
   * the writer holds it, this waits for the write's outcome.
   *
   * @return true if the event was accepted (and synced, if durable); false if it was refused
   *     ({@link DeliveryPolicy#FAIL_CLOSED} with a full queue, the durable timeout passed before
   *     the writer took it, or the dispatcher is closed). Under shedding a discarded event returns
   *     true and is counted.
   */
  public boolean submit(AuditEvent event) {
    return await(deliverAsync(requireNonNull(event, "event"), null));
  }

  /**
   * As {@link #submit}, without waiting: the future completes with what {@link #submit} would
   * return, on the caller's thread when that is known at once, else once the event is synced
   * (durable mode, on the release executor) or withdrawn at the durable timeout.
   */
  public CompletableFuture<Boolean> submitAsync(AuditEvent event) {
    return deliverAsync(requireNonNull(event, "event"), null);
  }

  /**
   * Delivers the event of a call under the policy, waiting as {@link #submit} does; returns whether
   * the call may release its outcome (false: it must fail with UNAVAILABLE).
   */
  boolean deliver(AuditEvent event) {
    return await(deliverAsync(event, null));
  }

  /** As {@link #deliver(AuditEvent, Supplier, Completion)}, waiting for the outcome. */
  boolean deliver(AuditEvent event, Supplier<AuditEvent> ifRefused) {
    return await(deliverAsync(event, ifRefused));
  }

  private static boolean await(CompletableFuture<Boolean> f) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return f.get();
        } catch (InterruptedException e) {
          // The outcome must be known (a false must mean "not written"): keep waiting; the
          // watchdog and close() bound the wait.
          interrupted = true;
        } catch (ExecutionException e) {
          return false;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private CompletableFuture<Boolean> deliverAsync(
      AuditEvent event, @Nullable Supplier<AuditEvent> ifRefused) {
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    deliver(event, ifRefused, f::complete);
    return f;
  }

  /** Receives whether a call may release its outcome; called exactly once per delivery. */
  interface Completion {
    void complete(boolean release);
  }

  /**
   * Delivers {@code event} for a call whose response is held until {@code done} says whether to
   * release it (true) or to close the call with {@code UNAVAILABLE} (false). Nothing waits: {@code
   * done} runs on this thread when the outcome is known at once (not durable, or refused), else on
   * the release executor once the event's batch is synced, or on the watchdog at the durable
   * timeout.
   *
   * <p>{@code ifRefused} builds the same event recording the {@code UNAVAILABLE} the caller gets
   * when durability is not confirmed in time (null: withdraw the event instead). When the durable
   * timeout passes while the event is still queued, it is replaced in place by that event, so the
   * record says what the caller saw. When the writer already took it, the call waits up to one more
   * durable timeout for the sync; if that also passes, the caller is refused while the record keeps
   * the service's status, and the mismatch is counted and logged.
   */
  void deliver(AuditEvent event, @Nullable Supplier<AuditEvent> ifRefused, Completion done) {
    Entry entry =
        durable
            ? new Entry(event, done, ifRefused, System.nanoTime() + durableTimeoutNanos)
            : new Entry(event, null, null, 0);
    boolean accepted;
    if (closing) {
      accepted = false;
    } else {
      switch (policy) {
        case BLOCK -> accepted = put(entry, null);
        case FAIL_CLOSED -> accepted = queue.offer(entry);
        default -> {
          accepted = queue.offer(entry);
          if (!accepted) {
            recordLoss(1);
            done.complete(true);
            return;
          }
        }
      }
    }
    if (!accepted || orphaned(entry)) {
      // The caller refuses the call, but its event is not in the queue: a streamed response may
      // already be out, so this is a loss, counted and reported like any other.
      recordLoss(1);
      if (entry.fire()) {
        countRefused();
        done.complete(false);
      }
      return;
    }
    if (!durable) {
      done.complete(true);
    }
  }

  /**
   * Calls refused {@code UNAVAILABLE} after their record was written but before its sync was
   * confirmed: the only case where a record's status differs from what the caller saw.
   */
  public long outcomeMismatches() {
    return outcomeMismatches.get();
  }

  /**
   * Delivers an event that no call waits on (a cancellation). Blocks up to the durable timeout
   * under every policy but shedding; if it still cannot be queued it is counted and logged as lost.
   */
  void deliverDetached(AuditEvent event) {
    Entry entry = new Entry(event, null, null, 0);
    boolean accepted;
    if (closing) {
      accepted = false;
    } else if (policy == DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES) {
      accepted = queue.offer(entry);
    } else {
      accepted = put(entry, durableTimeout);
    }
    if (!accepted || orphaned(entry)) {
      recordLoss(1);
    }
  }

  private boolean put(Entry entry, @Nullable Duration timeout) {
    try {
      if (timeout == null) {
        // Back-pressure without end, except that a closing dispatcher stops taking events.
        while (!queue.offer(entry, 100, TimeUnit.MILLISECONDS)) {
          if (closing) {
            return false;
          }
        }
        return true;
      }
      return queue.offer(entry, timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void recordLoss(long count) {
    long total = lost.addAndGet(count);
    metrics.eventsLost(count);
    long now = System.nanoTime();
    // Loud but bounded: one ERROR line per second at most, always with the running total.
    if (now - lastLossLogNanos > 1_000_000_000L) {
      lastLossLogNanos = now;
      logger.error("AUDIT EVENTS LOST: {} events were not recorded so far", total);
    }
  }

  /**
   * The watchdog's tick (durable mode): refuses the calls whose durable timeout passed. A queued
   * event is replaced in place by the record of the refusal (or withdrawn, for {@link #submit}); an
   * event the writer holds gets one more durable timeout for its sync.
   */
  private void expire() {
    try {
      expireNow();
    } catch (RuntimeException e) {
      logger.warn("audit durable-timeout check failed ({})", e.getClass().getName());
    }
  }

  private void expireNow() {
    long now = System.nanoTime();
    // Every held entry is checked: detached events (cancellations, best-effort) have no deadline
    // and may sit at the head while the sink fails, and under BLOCK an entry's deadline is set
    // before it waits to be queued, so queue order is not deadline order. At most the queue's
    // capacity per tick.
    for (Entry e : queue) {
      if (e.done != null && now - e.deadline >= 0) {
        expireQueued(e);
      }
    }
    Entry[] held = inHand;
    if (held != null) {
      for (Entry e : held) {
        if (e.done != null
            && e.ifRefused != null
            && e.state == Entry.TAKEN
            && now - e.deadline - durableTimeoutNanos >= 0
            && e.fire()) {
          outcomeMismatches.incrementAndGet();
          logger.warn(
              "Audit sync not confirmed within twice the durable timeout; the call is refused"
                  + " UNAVAILABLE while its record, already written, keeps the service's status"
                  + " (correlation id {})",
              e.event.getCorrelationId());
          countRefused();
          complete(e, false);
        }
      }
    }
  }

  private void expireQueued(Entry e) {
    if (e.state != Entry.QUEUED) {
      return;
    }
    Supplier<AuditEvent> ifRefused = e.ifRefused;
    int next;
    if (ifRefused == null) {
      next = Entry.WITHDRAWN;
    } else {
      // Not yet written: record what the caller will see instead, in the event's place.
      e.replacement = ifRefused.get();
      next = Entry.REPLACED;
    }
    if (Entry.STATE.compareAndSet(e, Entry.QUEUED, next) && e.fire()) {
      countRefused();
      complete(e, false);
    }
  }

  private void run() {
    List<Entry> batch = new ArrayList<>(maxBatch);
    List<AuditEvent> events = new ArrayList<>(maxBatch + 1);
    while (true) {
      Entry first;
      try {
        first = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        first = null;
        if (!closing) {
          continue;
        }
      }
      if (first == null) {
        if (closing && queue.isEmpty()) {
          break;
        }
        idle();
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, maxBatch - 1);
      events.clear();
      int waiting = 0;
      for (Entry e : batch) {
        AuditEvent toWrite = e.take();
        if (toWrite != null) {
          events.add(toWrite);
        }
        if (e.done != null) {
          waiting++;
        }
      }
      Entry[] held = null;
      if (waiting > 0) {
        held = new Entry[waiting];
        int i = 0;
        for (Entry e : batch) {
          if (e.done != null) {
            held[i++] = e;
          }
        }
        inHand = held;
      }
      AuditEvent loss = lossReport();
      if (loss != null) {
        events.add(loss);
      }
      boolean ok = events.isEmpty() || writeWithRetry(events);
      if (ok) {
        written.addAndGet(events.size() - (loss != null ? 1 : 0));
        if (loss != null) {
          lostReported.addAndGet(loss.getLostEvents());
        }
      } else {
        // Only at close, after the close timeout: counted and logged, never silent.
        recordLoss(events.size() - (loss != null ? 1 : 0));
      }
      if (held != null) {
        inHand = null;
        release(held, ok);
      }
      metrics.queueDepth(queue.size());
      int size = batch.size();
      batch.clear();
      if (!durable && size < maxBatch && !closing) {
        // Linger briefly so that the next events accumulate: while the writer is parked rather
        // than waiting on the queue, callers enqueue without waking it (no futex per call).
        // Durable mode does not linger: its callers are waiting for the sync.
        LockSupport.parkNanos(LINGER_NANOS);
      }
    }
  }

  /** Tells the batch's held calls, off the writer thread: one task for the whole batch. */
  private void release(Entry[] held, boolean written) {
    Runnable task =
        () -> {
          for (Entry e : held) {
            if (e.fire()) {
              if (!written) {
                countRefused();
              }
              complete(e, written);
            }
          }
        };
    try {
      requireNonNull(releaseExecutor).execute(task);
    } catch (RejectedExecutionException e) {
      task.run(); // after close: answer anyway, never leave a call held
    }
  }

  private static void complete(Entry e, boolean release) {
    try {
      requireNonNull(e.done).complete(release);
    } catch (RuntimeException ex) {
      // One call's release must not keep the others of its batch held.
      logger.warn("audit release of a held call failed ({})", ex.getClass().getName());
    }
  }

  private @Nullable AuditEvent lossReport() {
    if (!reportsLosses) {
      return null;
    }
    long unreported = lost.get() - lostReported.get();
    if (unreported <= 0) {
      return null;
    }
    return EventFactory.newEvent(AuditEvent.Type.EVENTS_LOST, Clock.systemUTC())
        .setLostEvents(unreported)
        .build();
  }

  private void idle() {
    try {
      sink.idle();
    } catch (IOException | RuntimeException e) {
      failed(e);
    }
  }

  private boolean writeWithRetry(List<AuditEvent> events) {
    long backoffMillis = 10;
    long giveUpAt = Long.MAX_VALUE;
    // Once written, a batch is never written again: only its sync is retried, so a failing sync
    // cannot record the batch twice.
    boolean written = false;
    while (true) {
      try {
        long t1 = System.nanoTime();
        if (!written) {
          sink.write(events);
          written = true;
          long t0 = t1;
          t1 = System.nanoTime();
          metrics.batchWritten(events.size(), t1 - t0);
        }
        if (durable) {
          sink.sync();
          syncs.incrementAndGet();
          metrics.synced(events.size(), System.nanoTime() - t1);
        }
        sinkHealthy = true;
        return true;
      } catch (IOException | RuntimeException e) {
        failed(e);
      }
      if (closing) {
        long now = System.nanoTime();
        if (giveUpAt == Long.MAX_VALUE) {
          giveUpAt = now + closeTimeout.toNanos();
        } else if (now - giveUpAt > 0) {
          return false;
        }
      }
      try {
        Thread.sleep(backoffMillis);
      } catch (InterruptedException e) {
        // An accepted event is never given up on because of an interrupt; only the close
        // timeout ends the retries.
      }
      backoffMillis = Math.min(backoffMillis * 2, 1000);
    }
  }

  private void failed(Exception e) {
    sinkHealthy = false;
    failures.incrementAndGet();
    metrics.sinkFailed();
    // The exception type only: messages of sink exceptions may quote data or paths.
    logger.warn("audit sink failed ({}); retrying", e.getClass().getName());
  }

  /**
   * Stops accepting events, writes what is queued (waiting up to the close timeout if the sink is
   * failing; anything still unwritten is counted as lost and logged), then closes the sink.
   *
   * @throws IOException if closing the sink fails
   */
  @Override
  public void close() throws IOException {
    if (closing) {
      return;
    }
    closing = true;
    // No interrupt: interrupting a thread in FileChannel I/O closes the channel under the sink.
    // The writer polls with a short timeout and sees the flag.
    try {
      writer.join(closeTimeout.toMillis() * 2 + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      // Still inside the sink (a stalled disk): closing the sink under it would corrupt the
      // chain. Leave both; the queued events are reported as lost by drainAfterClose.
      logger.error("audit writer did not stop within the close timeout; sink left open");
      drainAfterClose();
      return;
    }
    drainAfterClose();
    ScheduledThreadPoolExecutor w = watchdog;
    if (w != null) {
      w.shutdown(); // releases already handed to it still run
    }
    sink.close();
  }

  /** Counts whatever is still queued after the writer stopped as lost, and fails its waiters. */
  private void drainAfterClose() {
    List<Entry> left = new ArrayList<>();
    queue.drainTo(left);
    if (!left.isEmpty()) {
      recordLoss(left.size());
      for (Entry e : left) {
        Completion done = e.done;
        if (done != null && e.fire()) {
          countRefused();
          done.complete(false);
        }
      }
    }
  }

  /**
   * After a producer enqueued: if the dispatcher closed meanwhile and its writer is gone, nobody
   * will write the entry. Takes it back so that the caller can count it; false if it is in hand.
   */
  private boolean orphaned(Entry entry) {
    return closing && !writer.isAlive() && queue.remove(entry);
  }

  /** A queued event, and for a held call its fate: taken as is, replaced, or withdrawn. */
  private static final class Entry {
    static final int QUEUED = 0;
    static final int TAKEN = 1;
    static final int REPLACED = 2;
    static final int WITHDRAWN = 3;
    static final AtomicIntegerFieldUpdater<Entry> STATE =
        AtomicIntegerFieldUpdater.newUpdater(Entry.class, "state");
    private static final AtomicIntegerFieldUpdater<Entry> FIRED =
        AtomicIntegerFieldUpdater.newUpdater(Entry.class, "fired");

    final AuditEvent event;
    // Null when nobody waits on the entry (not durable, detached).
    final @Nullable Completion done;
    final @Nullable Supplier<AuditEvent> ifRefused;
    // System.nanoTime() at which the durable wait ends.
    final long deadline;
    volatile int state;
    volatile int fired;
    // Set before state becomes REPLACED.
    @Nullable AuditEvent replacement;

    Entry(
        AuditEvent event,
        @Nullable Completion done,
        @Nullable Supplier<AuditEvent> ifRefused,
        long deadline) {
      this.event = event;
      this.done = done;
      this.ifRefused = ifRefused;
      this.deadline = deadline;
    }

    /** The writer's take: the event to write, its replacement, or null if it was withdrawn. */
    @Nullable AuditEvent take() {
      if (done == null || STATE.compareAndSet(this, QUEUED, TAKEN)) {
        return event;
      }
      return state == REPLACED ? replacement : null;
    }

    /** Claims the one completion of this entry; true for the first caller only. */
    boolean fire() {
      return FIRED.compareAndSet(this, 0, 1);
    }
  }

  /** Configures an {@link AuditDispatcher}. Not thread-safe. */
  public static final class Builder {
    private final AuditSink sink;
    private DeliveryPolicy policy = DeliveryPolicy.BLOCK;
    private int capacity = 8192;
    private int maxBatch = 1024;
    private boolean durable;
    private Duration durableTimeout = Duration.ofSeconds(10);
    private Duration closeTimeout = Duration.ofSeconds(10);
    private AuditMetrics metrics = new AuditMetrics() {};
    private @Nullable Executor releaseExecutor;
    private ThreadFactory threadFactory =
        r -> {
          Thread t = new Thread(r, "hipaagrpc-audit-writer");
          t.setDaemon(true);
          return t;
        };

    private Builder(AuditSink sink) {
      this.sink = sink;
    }

    /** Sets the delivery policy. Default {@link DeliveryPolicy#BLOCK}. */
    public Builder policy(DeliveryPolicy policy) {
      this.policy = requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Sets the queue capacity. Default 8192.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder queueCapacity(int capacity) {
      if (capacity <= 0) {
        throw new IllegalArgumentException("capacity must be positive");
      }
      this.capacity = capacity;
      return this;
    }

    /**
     * Sets the largest batch handed to the sink at once (and so shared by one sync). Default 1024.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder maxBatch(int maxBatch) {
      if (maxBatch <= 0) {
        throw new IllegalArgumentException("maxBatch must be positive");
      }
      this.maxBatch = maxBatch;
      return this;
    }

    /**
     * Releases a call's outcome only after its event is synced to disk; concurrent calls share one
     * sync per batch. Default false (events reach the operating system, not the disk, before the
     * response; the file sink syncs at every checkpoint).
     */
    public Builder durableBeforeResponse(boolean durable) {
      this.durable = durable;
      return this;
    }

    /**
     * How long a call waits for its event to be durable before failing with UNAVAILABLE; also how
     * long a cancellation event waits for queue room. Default 10 s.
     */
    public Builder durableTimeout(Duration timeout) {
      this.durableTimeout = requirePositive(timeout, "durableTimeout");
      return this;
    }

    /** How long {@link #close()} keeps retrying a failing sink. Default 10 s. */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = requirePositive(timeout, "closeTimeout");
      return this;
    }

    /** Sets the metrics hook. Default: none. */
    public Builder metrics(AuditMetrics metrics) {
      this.metrics = requireNonNull(metrics, "metrics");
      return this;
    }

    /**
     * Where held responses are released once their batch is synced (durable mode): one task per
     * batch, which releases each of its calls in turn (non-blocking sends). Default: the
     * dispatcher's own watchdog thread.
     */
    public Builder releaseExecutor(Executor executor) {
      this.releaseExecutor = requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Sets the factory of the writer thread (and in durable mode of the watchdog thread). Default:
     * daemon threads.
     */
    public Builder threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /**
     * Starts the dispatcher and its writer thread.
     *
     * @throws IllegalStateException if durable-before-response is combined with shedding: a
     *     response cannot both wait for its event and go ahead without it
     */
    public AuditDispatcher build() {
      if (durable && policy == DeliveryPolicy.INSECURE_SHED_AND_COUNT_LOSSES) {
        throw new IllegalStateException(
            "durableBeforeResponse(true) contradicts INSECURE_SHED_AND_COUNT_LOSSES: choose BLOCK"
                + " or FAIL_CLOSED for durable delivery");
      }
      return new AuditDispatcher(this);
    }
  }

  /**
   * A user's metrics hook must never stop the writer thread or make a written batch look failed
   * (which would write it twice): every callback's exception is logged by class and dropped.
   */
  private static final class GuardedMetrics implements AuditMetrics {
    private final AuditMetrics delegate;

    GuardedMetrics(AuditMetrics delegate) {
      this.delegate = delegate;
    }

    private static void failed(RuntimeException e) {
      logger.warn("audit metrics hook failed ({})", e.getClass().getName());
    }

    @Override
    public void queueDepth(int depth) {
      try {
        delegate.queueDepth(depth);
      } catch (RuntimeException e) {
        failed(e);
      }
    }

    @Override
    public void batchWritten(int events, long nanos) {
      try {
        delegate.batchWritten(events, nanos);
      } catch (RuntimeException e) {
        failed(e);
      }
    }

    @Override
    public void synced(int events, long nanos) {
      try {
        delegate.synced(events, nanos);
      } catch (RuntimeException e) {
        failed(e);
      }
    }

    @Override
    public void sinkFailed() {
      try {
        delegate.sinkFailed();
      } catch (RuntimeException e) {
        failed(e);
      }
    }

    @Override
    public void eventsLost(long count) {
      try {
        delegate.eventsLost(count);
      } catch (RuntimeException e) {
        failed(e);
      }
    }

    @Override
    public void callRefused() {
      try {
        delegate.callRefused();
      } catch (RuntimeException e) {
        failed(e);
      }
    }
  }
}
