package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@SuppressWarnings("FutureReturnValueIgnored") // the tests observe the tasks, not the futures
class CoarseTimerTest {

  private final ScheduledExecutorService real = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void tearDown() {
    real.shutdownNow();
  }

  @Test
  void schedule_runsNoLaterThanDue() throws Exception {
    CoarseTimer timer = new CoarseTimer(real, TimeUnit.MILLISECONDS.toNanos(50));
    long delay = TimeUnit.MILLISECONDS.toNanos(120);
    AtomicLong ranAt = new AtomicLong();
    CountDownLatch ran = new CountDownLatch(1);
    long due = System.nanoTime() + delay;
    timer.schedule(
        () -> {
          ranAt.set(System.nanoTime());
          ran.countDown();
        },
        delay,
        TimeUnit.NANOSECONDS);
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    // Early by at most one granularity; "late" only by the real timer's own latency, which this
    // test does not bound (shared machines).
    assertThat(ranAt.get()).isGreaterThanOrEqualTo(due - TimeUnit.MILLISECONDS.toNanos(50));
  }

  @Test
  void cancel_removesTheTask() throws Exception {
    CoarseTimer timer = new CoarseTimer(real, TimeUnit.MILLISECONDS.toNanos(10));
    AtomicInteger runs = new AtomicInteger();
    ScheduledFuture<?> cancelled =
        timer.schedule(
            () -> {
              runs.incrementAndGet();
            },
            1000,
            TimeUnit.MILLISECONDS);
    // Due a second from now, so the cancel below comes first even on a loaded machine; the later
    // task shows the timer went past the cancelled one's slice.
    CountDownLatch later = new CountDownLatch(1);
    timer.schedule(later::countDown, 1500, TimeUnit.MILLISECONDS);
    assertThat(cancelled.cancel(false)).isTrue();
    assertThat(cancelled.isCancelled()).isTrue();
    assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(runs).hasValue(0);
    assertThat(cancelled.cancel(false)).isFalse();
  }

  @Test
  void schedule_manyInOneSlice_eachRunsOnce() throws Exception {
    CoarseTimer timer = new CoarseTimer(real, TimeUnit.MILLISECONDS.toNanos(20));
    int n = 1000;
    CountDownLatch all = new CountDownLatch(n);
    AtomicInteger runs = new AtomicInteger();
    for (int i = 0; i < n; i++) {
      timer.schedule(
          () -> {
            runs.incrementAndGet();
            all.countDown();
          },
          i % 3,
          TimeUnit.MILLISECONDS);
    }
    assertThat(all.await(10, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(50);
    assertThat(runs).hasValue(n);
  }

  @Test
  void schedule_pastDue_runsAtOnce() throws Exception {
    CoarseTimer timer = new CoarseTimer(real, TimeUnit.SECONDS.toNanos(1));
    CountDownLatch ran = new CountDownLatch(1);
    timer.schedule(ran::countDown, -5, TimeUnit.MILLISECONDS);
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
  }
}
