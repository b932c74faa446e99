package dev.hipaagrpc.auth.ratelimit;

import io.grpc.ServerCall;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The listener of a call whose rate-limit decision is still out: it queues what the transport
 * delivers meanwhile (no message can arrive, since nothing has requested one yet: readiness, half
 * close, cancellation, completion) and replays it, in order, to the listener the decision produces.
 * After the replay events go straight through.
 */
final class PendingListener<ReqT> extends ServerCall.Listener<ReqT> {

  private final Object lock = new Object();
  // Null once drained; from then on `delegate` is set.
  private @Nullable List<Consumer<ServerCall.Listener<ReqT>>> pending = new ArrayList<>();
  private volatile ServerCall.@Nullable Listener<ReqT> delegate;

  /** Replays the queued events to {@code listener}, then passes later events straight to it. */
  void setDelegate(ServerCall.Listener<ReqT> listener) {
    while (true) {
      List<Consumer<ServerCall.Listener<ReqT>>> batch;
      synchronized (lock) {
        List<Consumer<ServerCall.Listener<ReqT>>> queued = pending;
        if (queued == null) {
          throw new IllegalStateException("delegate already set");
        }
        if (queued.isEmpty()) {
          pending = null;
          delegate = listener;
          return;
        }
        batch = queued;
        pending = new ArrayList<>();
      }
      // Outside the lock: an event arriving meanwhile queues behind this batch.
      for (Consumer<ServerCall.Listener<ReqT>> event : batch) {
        event.accept(listener);
      }
    }
  }

  private void deliver(Consumer<ServerCall.Listener<ReqT>> event) {
    ServerCall.Listener<ReqT> d = delegate;
    if (d == null) {
      synchronized (lock) {
        List<Consumer<ServerCall.Listener<ReqT>>> queued = pending;
        if (queued != null) {
          queued.add(event);
          return;
        }
        d = delegate;
      }
    }
    if (d != null) {
      event.accept(d);
    }
  }

  @Override
  public void onMessage(ReqT message) {
    deliver(l -> l.onMessage(message));
  }

  @Override
  public void onHalfClose() {
    deliver(ServerCall.Listener::onHalfClose);
  }

  @Override
  public void onCancel() {
    deliver(ServerCall.Listener::onCancel);
  }

  @Override
  public void onComplete() {
    deliver(ServerCall.Listener::onComplete);
  }

  @Override
  public void onReady() {
    deliver(ServerCall.Listener::onReady);
  }
}
