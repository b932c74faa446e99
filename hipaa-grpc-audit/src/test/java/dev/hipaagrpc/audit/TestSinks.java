package dev.hipaagrpc.audit;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** Sinks for tests: one that collects, one that stalls until released, one that throws. */
final class TestSinks {

  private TestSinks() {}

  static class Collecting implements AuditSink {
    final List<AuditEvent> events = new ArrayList<>();
    final AtomicInteger syncs = new AtomicInteger();

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      add(batch);
    }

    final synchronized void add(List<AuditEvent> batch) {
      events.addAll(batch);
      notifyAll();
    }

    @Override
    public void sync() throws IOException {
      syncs.incrementAndGet();
    }

    synchronized List<AuditEvent> snapshot() {
      return new ArrayList<>(events);
    }

    /** Waits until at least n events arrived; fails after {@link Await#TIMEOUT}. */
    synchronized List<AuditEvent> await(int n) throws InterruptedException {
      long deadline = System.nanoTime() + Await.TIMEOUT.toNanos();
      while (events.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "only " + events.size() + " of " + n + " events arrived within " + Await.TIMEOUT);
        }
        wait(Math.max(1, Math.min(50, left / 1_000_000)));
      }
      return new ArrayList<>(events);
    }

    @Override
    public void close() {}
  }

  /** Blocks every write until {@link #release()}; counts writes that started. */
  static final class Stalling extends Collecting {
    final CountDownLatch released = new CountDownLatch(1);
    final AtomicInteger started = new AtomicInteger();

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      started.incrementAndGet();
      try {
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
      add(batch);
    }

    void release() {
      released.countDown();
    }
  }

  /** Throws on every write while failing; then collects. */
  static final class Throwing extends Collecting {
    volatile boolean failing = true;
    final AtomicInteger attempts = new AtomicInteger();

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      attempts.incrementAndGet();
      if (failing) {
        throw new IOException("disk on fire");
      }
      add(batch);
    }
  }
}
