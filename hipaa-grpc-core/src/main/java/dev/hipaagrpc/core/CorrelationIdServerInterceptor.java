package dev.hipaagrpc.core;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * Gives every call a correlation id and a {@link CallFacts} holder; install it outermost.
 *
 * <p>Accepts the caller's {@code x-correlation-id} when {@link CorrelationId#isAcceptable} says so,
 * else generates one; exposes it through {@link CorrelationId#current()} and {@link
 * CallFacts#current()}; and returns it in the response headers (or in the trailers of a call that
 * fails before sending headers). While the call's code runs on a thread (interception, and each
 * listener callback, which is where a unary service runs), the id is in SLF4J's MDC under {@link
 * CorrelationId#MDC_KEY}, and the thread's previous value is restored afterwards.
 *
 * <p>Thread-safe and stateless; one instance serves any number of services.
 */
public final class CorrelationIdServerInterceptor implements SecurityLayer {

  private static final CorrelationIdServerInterceptor INSTANCE =
      new CorrelationIdServerInterceptor();

  private CorrelationIdServerInterceptor() {}

  /** Returns the interceptor. */
  public static CorrelationIdServerInterceptor create() {
    return INSTANCE;
  }

  @Override
  public Slot slot() {
    return Slot.CORRELATION;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context context = Context.current();
    CallFacts facts = CallFacts.CONTEXT_KEY.get(context);
    if (facts == null) {
      String incoming = headers.get(CorrelationId.HEADER);
      String id =
          incoming != null && CorrelationId.isAcceptable(incoming)
              ? incoming
              : CorrelationId.generate();
      facts = CallFacts.create(id);
      context = context.withValue(CallFacts.CONTEXT_KEY, facts);
    }
    String id = facts.correlationId();
    String previous = MDC.get(CorrelationId.MDC_KEY);
    MDC.put(CorrelationId.MDC_KEY, id);
    try {
      return new MdcListener<>(
          Contexts.interceptCall(context, new EchoingCall<>(call, id), headers, next), id);
    } finally {
      restore(previous);
    }
  }

  private static void restore(@Nullable String previous) {
    if (previous == null) {
      MDC.remove(CorrelationId.MDC_KEY);
    } else {
      MDC.put(CorrelationId.MDC_KEY, previous);
    }
  }

  /** Puts the correlation id in the MDC around every callback. */
  private static final class MdcListener<ReqT>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
    private final String id;

    MdcListener(ServerCall.Listener<ReqT> delegate, String id) {
      super(delegate);
      this.id = id;
    }

    private @Nullable String enter() {
      String previous = MDC.get(CorrelationId.MDC_KEY);
      MDC.put(CorrelationId.MDC_KEY, id);
      return previous;
    }

    @Override
    public void onMessage(ReqT message) {
      String previous = enter();
      try {
        super.onMessage(message);
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onHalfClose() {
      String previous = enter();
      try {
        super.onHalfClose();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onCancel() {
      String previous = enter();
      try {
        super.onCancel();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onComplete() {
      String previous = enter();
      try {
        super.onComplete();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onReady() {
      String previous = enter();
      try {
        super.onReady();
      } finally {
        restore(previous);
      }
    }
  }

  /** Puts the id on whichever of headers or trailers-only response the call sends. */
  private static final class EchoingCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    private final String id;
    // ServerCall methods are serialized by contract, but not always on the same thread.
    private volatile boolean headersSent;

    EchoingCall(ServerCall<ReqT, RespT> delegate, String id) {
      super(delegate);
      this.id = id;
    }

    @Override
    public void sendHeaders(Metadata headers) {
      headers.discardAll(CorrelationId.HEADER);
      headers.put(CorrelationId.HEADER, id);
      headersSent = true;
      super.sendHeaders(headers);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (!headersSent) {
        trailers.discardAll(CorrelationId.HEADER);
        trailers.put(CorrelationId.HEADER, id);
      }
      super.close(status, trailers);
    }
  }
}
