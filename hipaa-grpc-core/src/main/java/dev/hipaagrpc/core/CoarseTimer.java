package dev.hipaagrpc.core;

import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The deadline cap's timer: what {@link io.grpc.Context#withDeadline} needs of a scheduler
 * (one-shot {@link #schedule(Runnable, long, TimeUnit)} and the returned future's {@code cancel}),
 * at the cost of two concurrent-set operations per call instead of a timer-queue insert and removal
 * under a lock that, on a quiet server, also wakes the timer thread for every call.
 *
 * <p>Tasks are grouped by the slice of {@code granularity} their due time falls in; each slice has
 * one real timer task at its <em>start</em>, so a task runs up to one granularity early and never
 * late (beyond the timer thread's own latency). Cancelled tasks leave their slice at once. Only the
 * methods the deadline cap uses are supported; the rest throw {@link
 * UnsupportedOperationException}. Thread-safe.
 */
final class CoarseTimer extends AbstractExecutorService implements ScheduledExecutorService {

  /** What {@code Context.withDeadline} needs, and all this timer offers. */
  private static final String ONE_SHOT_ONLY =
      "CoarseTimer runs one-shot Runnables only (for Context.withDeadline)";

  private final ScheduledExecutorService timer;
  private final long granularityNanos;
  private final ConcurrentHashMap<Long, Slice> slices = new ConcurrentHashMap<>();
  private volatile @Nullable Slice last; // the slice most calls land in: no map lookup

  CoarseTimer(ScheduledExecutorService timer, long granularityNanos) {
    if (granularityNanos <= 0) {
      throw new IllegalArgumentException("granularity must be positive");
    }
    this.timer = timer;
    this.granularityNanos = granularityNanos;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    long due = System.nanoTime() + unit.toNanos(delay);
    long index = Math.floorDiv(due, granularityNanos);
    Slice slice = last;
    if (slice == null || slice.index != index) {
      slice = slices.computeIfAbsent(index, this::open);
      last = slice;
    }
    Task task = new Task(command, slice);
    slice.tasks.add(task);
    if (slice.fired && slice.tasks.remove(task)) {
      timer.execute(command); // the slice fired while we were adding: run now, never late
    }
    return task;
  }

  private Slice open(long index) {
    Slice slice = new Slice(index);
    long delay = index * granularityNanos - System.nanoTime();
    // The slice's own task is never cancelled; a failure of fire() has nothing to report to.
    var unused = timer.schedule(() -> fire(slice), Math.max(0, delay), TimeUnit.NANOSECONDS);
    return slice;
  }

  private void fire(Slice slice) {
    slice.fired = true;
    slices.remove(slice.index, slice);
    // A task added concurrently is either seen here or sees `fired`; remove() picks one runner.
    // A concurrent set's iterator tolerates removal; each task is removed (and run) once.
    for (java.util.Iterator<Task> it = slice.tasks.iterator(); it.hasNext(); ) {
      Task t = it.next();
      if (slice.tasks.remove(t)) {
        try {
          t.command.run();
        } catch (RuntimeException e) {
          // One task's failure must not cost the others their deadline; Context's never throws.
        }
      }
    }
  }

  /** The tasks due within one granularity. */
  private static final class Slice {
    final long index;
    final Set<Task> tasks = ConcurrentHashMap.newKeySet();
    volatile boolean fired;

    Slice(long index) {
      this.index = index;
    }
  }

  /** One scheduled command; identity equality, as the set needs. */
  private static final class Task implements ScheduledFuture<Object> {
    final Runnable command;
    private final Slice slice;
    private volatile boolean cancelled;

    Task(Runnable command, Slice slice) {
      this.command = command;
      this.slice = slice;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (slice.tasks.remove(this)) {
        cancelled = true;
        return true;
      }
      return false;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return cancelled || slice.fired;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(0, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public @Nullable Object get() {
      throw new UnsupportedOperationException(ONE_SHOT_ONLY);
    }

    @Override
    public @Nullable Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException(ONE_SHOT_ONLY);
    }
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException(ONE_SHOT_ONLY);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException(ONE_SHOT_ONLY);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException(ONE_SHOT_ONLY);
  }

  @Override
  public void execute(Runnable command) {
    timer.execute(command);
  }

  @Override
  public void shutdown() {
    throw new UnsupportedOperationException("shared timer");
  }

  @Override
  public List<Runnable> shutdownNow() {
    throw new UnsupportedOperationException("shared timer");
  }

  @Override
  public boolean isShutdown() {
    return false;
  }

  @Override
  public boolean isTerminated() {
    return false;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return false;
  }
}
