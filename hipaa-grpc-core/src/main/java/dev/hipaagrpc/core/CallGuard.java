package dev.hipaagrpc.core;

import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stack's own layer directly inside audit: turns every way grpc-java would end a call behind
 * the interceptors' backs into a close that audit sees, with a fixed description and the
 * correlation id.
 *
 * <ul>
 *   <li>a request that did not parse → {@code INVALID_ARGUMENT "Malformed request"};
 *   <li>a request over the size limit → {@code RESOURCE_EXHAUSTED "Request too large"};
 *   <li>a second request message on a method that takes one → {@code INTERNAL "Too many request
 *       messages"};
 *   <li>an exception thrown by any inner layer or the service, while starting the call or from any
 *       listener callback → {@code INTERNAL "Internal error"} (the cause kept server-side).
 * </ul>
 *
 * <p>Each refusal is counted in the stack's once-a-minute refusal summary and logged at DEBUG in
 * one line without the payload; a failure is logged at WARN with the exception's class only.
 */
final class CallGuard implements ServerInterceptor {

  private static final Logger logger = LoggerFactory.getLogger(CallGuard.class);

  static final String MALFORMED = "Malformed request";
  static final String TOO_LARGE = "Request too large";
  static final String TOO_MANY = "Too many request messages";
  static final String INTERNAL = "Internal error";

  static final CallGuard INSTANCE = new CallGuard();

  private CallGuard() {}

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    CallFacts facts = CallFacts.of(io.grpc.Context.current());
    facts.markInSecurityStack();
    ClosingCall<ReqT, RespT> guarded = new ClosingCall<>(call);
    ServerCall.Listener<ReqT> delegate;
    try {
      delegate = next.startCall(guarded, headers);
    } catch (RuntimeException e) {
      guarded.fail(facts, e, "starting the call");
      return Refusals.ignoring();
    }
    return new GuardListener<>(delegate, guarded, facts);
  }

  /** The guard's view of the call: closes from the listener's thread, serialized with sends. */
  static final class ClosingCall<ReqT, RespT> extends SerializedCall<ReqT, RespT> {

    ClosingCall(ServerCall<ReqT, RespT> delegate) {
      super(delegate);
    }

    void refuse(Status.Code code, String reason, String fixed, CallFacts facts) {
      RefusalSummary.record(code, reason);
      close(Refusals.status(code, fixed, facts), new Metadata());
    }

    void fail(CallFacts facts, RuntimeException e, String where) {
      logger.warn(
          "{} failed while {} ({}); answered INTERNAL (correlation id {})",
          getMethodDescriptor().getFullMethodName(),
          where,
          e.getClass().getName(),
          facts.correlationId());
      if (!isClosed()) {
        close(Refusals.status(Status.Code.INTERNAL, INTERNAL, facts).withCause(e), new Metadata());
      }
    }
  }

  private static final class GuardListener<ReqT> extends ServerCall.Listener<ReqT> {
    private final ServerCall.Listener<ReqT> delegate;
    private final ClosingCall<ReqT, ?> call;
    private final CallFacts facts;
    private final boolean oneRequest;
    private boolean sawRequest; // listener callbacks are serialized
    private boolean refused;

    GuardListener(ServerCall.Listener<ReqT> delegate, ClosingCall<ReqT, ?> call, CallFacts facts) {
      this.delegate = delegate;
      this.call = call;
      this.facts = facts;
      this.oneRequest = call.getMethodDescriptor().getType().clientSendsOneMessage();
    }

    @Override
    public void onMessage(ReqT message) {
      if (refused || call.isClosed()) {
        return;
      }
      if ((Object) message instanceof GuardedMarshaller.Marker marker) {
        if (marker == GuardedMarshaller.Marker.TOO_LARGE) {
          refuse(Status.Code.RESOURCE_EXHAUSTED, "request_too_large", TOO_LARGE);
        } else {
          refuse(Status.Code.INVALID_ARGUMENT, "malformed_request", MALFORMED);
        }
        return;
      }
      if (oneRequest && sawRequest) {
        refuse(Status.Code.INTERNAL, "too_many_messages", TOO_MANY);
        return;
      }
      sawRequest = true;
      try {
        delegate.onMessage(message);
      } catch (RuntimeException e) {
        failed(e, "handling a request message");
      }
    }

    private void refuse(Status.Code code, String reason, String fixed) {
      refused = true;
      // Each refusal is counted in the once-a-minute WARN summary (Refusals.status); the line of
      // this call is a detail, at DEBUG, so a flood of malformed requests cannot flood the log.
      logger.debug(
          "Refused {}: {} (correlation id {})",
          call.getMethodDescriptor().getFullMethodName(),
          fixed,
          facts.correlationId());
      call.refuse(code, reason, fixed, facts);
    }

    private void failed(RuntimeException e, String where) {
      refused = true;
      call.fail(facts, e, where);
    }

    @Override
    public void onHalfClose() {
      if (refused) {
        return;
      }
      try {
        delegate.onHalfClose();
      } catch (RuntimeException e) {
        failed(e, "handling the half-close");
      }
    }

    @Override
    public void onCancel() {
      try {
        delegate.onCancel();
      } catch (RuntimeException e) {
        logger.warn(
            "{}: onCancel threw ({}) (correlation id {})",
            call.getMethodDescriptor().getFullMethodName(),
            e.getClass().getName(),
            facts.correlationId());
      }
    }

    @Override
    public void onComplete() {
      try {
        delegate.onComplete();
      } catch (RuntimeException e) {
        logger.warn(
            "{}: onComplete threw ({}) (correlation id {})",
            call.getMethodDescriptor().getFullMethodName(),
            e.getClass().getName(),
            facts.correlationId());
      }
    }

    @Override
    public void onReady() {
      if (refused) {
        return;
      }
      try {
        delegate.onReady();
      } catch (RuntimeException e) {
        failed(e, "handling onReady");
      }
    }
  }
}
