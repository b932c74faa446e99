package dev.hipaagrpc.core.internal;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a reload on the caller's executor at a fixed delay and keeps the schedule alive when one
 * attempt fails; the reload itself keeps the last good state (it swaps a volatile reference only
 * after the new state validated). Shared by TLS material, JWKS key sources and policy files.
 *
 * <p>Thread-safe.
 */
public final class PeriodicReload {

  private static final Logger logger = LoggerFactory.getLogger(PeriodicReload.class);

  private PeriodicReload() {}

  /**
   * Schedules {@code reload} every {@code period} (first run after one period) and returns a handle
   * whose {@code close()} cancels it without interrupting a run in progress.
   *
   * @param what what is reloaded, for the log (a constant such as {@code "trust material"})
   * @throws IllegalArgumentException if the period is not positive
   */
  public static Closeable schedule(
      Runnable reload, Duration period, ScheduledExecutorService executor, String what) {
    requireNonNull(reload, "reload");
    requireNonNull(period, "period");
    requireNonNull(executor, "executor");
    requireNonNull(what, "what");
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive");
    }
    long nanos = period.toNanos();
    ScheduledFuture<?> future =
        executor.scheduleWithFixedDelay(
            () -> {
              try {
                reload.run();
              } catch (RuntimeException e) {
                // Keep the schedule alive: a later tick may succeed. The class only: an
                // exception message may quote the material.
                logger.warn(
                    "Reloading {} failed unexpectedly ({}); keeping the last good state",
                    what,
                    e.getClass().getName());
              }
            },
            nanos,
            nanos,
            TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }
}
