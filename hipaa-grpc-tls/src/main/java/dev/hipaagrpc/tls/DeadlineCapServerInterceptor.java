package dev.hipaagrpc.tls;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Caps how long a call may run, whatever deadline the client sent (or none): grpc-java has no
 * server-side knob for this. A call that reaches the cap is closed with {@code DEADLINE_EXCEEDED}
 * and its Context is cancelled, so the service can stop work.
 */
final class DeadlineCapServerInterceptor implements ServerInterceptor {

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

  private final long capNanos;
  private final @Nullable ScheduledExecutorService scheduler;

  DeadlineCapServerInterceptor(long capNanos, @Nullable ScheduledExecutorService scheduler) {
    this.capNanos = capNanos;
    this.scheduler = scheduler;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    // Deliberately no CallFacts here: this limit is installed on the server builder and may run
    // before the correlation layer, which must be the one to create the facts (it honours an
    // incoming x-correlation-id only when it creates them).
    Context ctx = Context.current();
    Deadline cap = Deadline.after(capNanos, TimeUnit.NANOSECONDS);
    Deadline current = ctx.getDeadline();
    if (current != null && current.isBefore(cap)) {
      return Contexts.interceptCall(ctx, call, headers, next);
    }
    ScheduledExecutorService timer = scheduler != null ? scheduler : SharedTimer.INSTANCE;
    Context.CancellableContext capped = ctx.withDeadline(cap, timer);
    CappedCall<ReqT, RespT> cappedCall = new CappedCall<>(call);
    capped.addListener(
        c -> {
          if (c.cancellationCause() instanceof TimeoutException) {
            cappedCall.closeOnCap();
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

  /**
   * Serializes the application's use of the call with the timer's close: ServerCall is not
   * thread-safe, and the timer fires on its own thread.
   */
  private static final class CappedCall<ReqT, RespT>
      extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
    private boolean closed;

    CappedCall(ServerCall<ReqT, RespT> delegate) {
      super(delegate);
    }

    synchronized void closeOnCap() {
      if (!closed) {
        closed = true;
        delegate()
            .close(Status.DEADLINE_EXCEEDED.withDescription("Deadline exceeded"), new Metadata());
      }
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(RespT message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void request(int numMessages) {
      if (!closed) {
        super.request(numMessages);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !closed && super.isReady();
    }

    @Override
    public synchronized void setMessageCompression(boolean enabled) {
      super.setMessageCompression(enabled);
    }

    @Override
    public synchronized void setCompression(String compressor) {
      super.setCompression(compressor);
    }
  }
}
