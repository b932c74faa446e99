package dev.hipaagrpc.audit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded waiting for tests: polls a condition until it holds or a deadline passes. */
final class Await {

  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private Await() {}

  /**
   * Returns once {@code condition} holds; fails naming {@code what} if it does not within {@link
   * #TIMEOUT}.
   */
  static void until(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + TIMEOUT + " waiting until " + what);
      }
      Thread.sleep(5);
    }
  }
}
