package dev.hipaagrpc.core;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stack's layer right inside correlation when observers are registered: tells each {@link
 * CallObserver} once how the call ended (its close, or the client's cancellation).
 */
final class ObservingInterceptor implements ServerInterceptor {
  private static final Logger logger = LoggerFactory.getLogger(ObservingInterceptor.class);
  private static final Set<Class<?>> FAILED = ConcurrentHashMap.newKeySet();
  static final String UNKNOWN_METHOD = "unknown";

  private final List<CallObserver> observers;
  private final boolean knownMethods;

  /**
   * @param knownMethods whether the calls are of the server's own methods; the unknown-method chain
   *     reports {@link #UNKNOWN_METHOD} instead of the name a caller chose
   */
  ObservingInterceptor(List<CallObserver> observers, boolean knownMethods) {
    this.observers = List.copyOf(observers);
    this.knownMethods = knownMethods;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    CallFacts facts = CallFacts.of(io.grpc.Context.current());
    @Nullable Object[] states = new Object[observers.size()];
    for (int i = 0; i < states.length; i++) {
      CallObserver o = observers.get(i);
      try {
        states[i] = o.onCallStart(facts);
      } catch (RuntimeException e) {
        failed(o, e);
      }
    }
    Ending ending =
        new Ending(
            knownMethods ? call.getMethodDescriptor().getFullMethodName() : UNKNOWN_METHOD,
            facts,
            states,
            System.nanoTime());
    ServerCall.Listener<ReqT> delegate =
        next.startCall(
            new SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                // A close after the client went away reaches nobody: the caller saw CANCELLED.
                ending.end(isCancelled() ? Status.Code.CANCELLED : status.getCode());
                super.close(status, trailers);
              }
            },
            headers);
    return new SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onCancel() {
        ending.end(Status.Code.CANCELLED);
        super.onCancel();
      }
    };
  }

  private static void failed(CallObserver o, RuntimeException e) {
    if (FAILED.add(o.getClass())) {
      logger.warn(
          "Call observer {} threw {}; observing never changes a call (logged once)",
          o.getClass().getName(),
          e.getClass().getSimpleName());
    }
  }

  /** One call's end, reported once. */
  private final class Ending extends AtomicBoolean {
    private static final long serialVersionUID = 1L;
    private final String method;
    private final transient CallFacts facts;
    private final transient @Nullable Object[] states;
    private final long startNanos;

    Ending(String method, CallFacts facts, @Nullable Object[] states, long startNanos) {
      this.method = method;
      this.facts = facts;
      this.states = states;
      this.startNanos = startNanos;
    }

    void end(Status.Code code) {
      if (!compareAndSet(false, true)) {
        return;
      }
      Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
      for (int i = 0; i < observers.size(); i++) {
        CallObserver o = observers.get(i);
        try {
          o.onCallEnd(new CallObserver.CallEnd(method, code, duration, facts, states[i]));
        } catch (RuntimeException e) {
          failed(o, e);
        }
      }
    }
  }
}
