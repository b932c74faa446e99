package dev.hipaagrpc.core;

import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The stack's deadline cap: how long a call may run, whatever deadline the client sent (or none);
 * grpc-java has no server-side knob for this. It sits inside audit, so a call that reaches the cap
 * is closed with {@code DEADLINE_EXCEEDED} through the audit layer and recorded so; its Context is
 * cancelled, so the service can stop work.
 *
 * <p>No timer is armed per call: calls share a {@link CoarseTimer} whose slices are 1/128 of the
 * cap (at most one second), so a call is closed at its cap or up to one slice earlier, never later.
 */
final class DeadlineCap implements SecurityLayer {

  static final String DESCRIPTION = "Deadline exceeded";

  /**
   * Closes capped calls off the timer thread: a close goes through audit, which may wait for its
   * record (durable mode, a full queue), and must not delay every other call's cap.
   */
  private static final class Closer {
    static final java.util.concurrent.ExecutorService INSTANCE =
        java.util.concurrent.Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "hipaagrpc-deadline-cap-close");
              t.setDaemon(true);
              return t;
            });
  }

  private static final class SharedTimer {
    static final ScheduledExecutorService INSTANCE = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "hipaagrpc-deadline-cap");
                t.setDaemon(true);
                return t;
              });
      timer.setRemoveOnCancelPolicy(true);
      return timer;
    }
  }

  private static final long MAX_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final long capNanos;
  private final ScheduledExecutorService timer;

  DeadlineCap(Duration cap) {
    this.capNanos = cap.toNanos();
    this.timer =
        new CoarseTimer(
            SharedTimer.INSTANCE, Math.max(1, Math.min(capNanos / 128, MAX_SLICE_NANOS)));
  }

  @Override
  public Slot slot() {
    return Slot.DEADLINE_CAP;
  }

  @Override
  public String describe() {
    return "deadline cap " + Duration.ofNanos(capNanos);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = Context.current();
    Deadline cap = Deadline.after(capNanos, TimeUnit.NANOSECONDS);
    Deadline current = ctx.getDeadline();
    if (current != null && current.isBefore(cap)) {
      return next.startCall(call, headers);
    }
    CallFacts facts = CallFacts.of(ctx);
    Context.CancellableContext capped = ctx.withDeadline(cap, timer);
    CappedCall<ReqT, RespT> cappedCall = new CappedCall<>(call, facts);
    capped.addListener(
        c -> {
          if (c.cancellationCause() instanceof TimeoutException) {
            Closer.INSTANCE.execute(cappedCall::closeOnCap);
          }
        },
        Runnable::run);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = Contexts.interceptCall(capped, cappedCall, headers, next);
    } catch (RuntimeException e) {
      capped.cancel(null);
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          capped.cancel(null);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          capped.cancel(null);
        }
      }
    };
  }

  /** Closes at the cap from the closer thread, serialized with the service's use of the call. */
  private static final class CappedCall<ReqT, RespT> extends SerializedCall<ReqT, RespT> {
    private final CallFacts facts;

    CappedCall(ServerCall<ReqT, RespT> delegate, CallFacts facts) {
      super(delegate);
      this.facts = facts;
    }

    void closeOnCap() {
      close(Refusals.status(Status.Code.DEADLINE_EXCEEDED, DESCRIPTION, facts), new Metadata());
    }
  }
}
