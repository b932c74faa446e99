package dev.hipaagrpc.tls;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Allows one log line per period, so a flood of refusals (which an unauthenticated peer can cause)
 * costs bounded log volume; the rest go to DEBUG.
 */
final class LogLimiter {

  private final long periodNanos;
  private final LongSupplier nanoTime;
  private final AtomicLong next;

  LogLimiter(long periodNanos, LongSupplier nanoTime) {
    this.periodNanos = periodNanos;
    this.nanoTime = nanoTime;
    this.next = new AtomicLong(nanoTime.getAsLong());
  }

  static LogLimiter perMinute() {
    return new LogLimiter(TimeUnit.MINUTES.toNanos(1), System::nanoTime);
  }

  /** True at most once per period. */
  boolean tryAcquire() {
    long now = nanoTime.getAsLong();
    long n = next.get();
    return now - n >= 0 && next.compareAndSet(n, now + periodNanos);
  }
}
