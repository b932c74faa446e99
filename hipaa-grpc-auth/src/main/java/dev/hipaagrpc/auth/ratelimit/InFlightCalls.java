package dev.hipaagrpc.auth.ratelimit;

import io.grpc.ForwardingServerCallListener;
import io.grpc.ServerCall;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-caller counts of calls in flight on this replica, against one bound. An entry exists only
 * while its caller has a call in flight, so the table never holds more entries than there are
 * calls.
 */
final class InFlightCalls {

  private final int max;
  private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

  InFlightCalls(int max) {
    this.max = max;
  }

  /** Counts one more call of {@code caller}; false (and nothing counted) when at the bound. */
  boolean tryEnter(String caller) {
    boolean[] entered = {false};
    counts.compute(
        caller,
        (k, n) -> {
          int current = n == null ? 0 : n;
          if (current >= max) {
            return n;
          }
          entered[0] = true;
          return current + 1;
        });
    return entered[0];
  }

  void exit(String caller) {
    counts.computeIfPresent(caller, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The number of callers with a call in flight (for tests). */
  int callers() {
    return counts.size();
  }

  /**
   * Wraps {@code listener} so that the call is uncounted once, when it completes or is cancelled.
   */
  <ReqT> ServerCall.Listener<ReqT> releasingOnEnd(
      ServerCall.Listener<ReqT> listener, String caller) {
    AtomicBoolean released = new AtomicBoolean();
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release();
        }
      }

      private void release() {
        if (released.compareAndSet(false, true)) {
          exit(caller);
        }
      }
    };
  }
}
