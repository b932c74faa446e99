package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Masks every response message by the caller's roles before it is serialized ("minimum necessary",
 * 45 CFR 164.502(b)), for unary and streaming calls.
 *
 * <p>The caller is the {@link Principal} in {@link dev.hipaagrpc.core.CallFacts#principal()} when
 * the call starts (put there by authentication); with none, everything sensitive is masked. The
 * number of values hidden is added to {@link CallFacts#addMaskedFields} for the audit layer.
 *
 * <p>Fail closed: if a response cannot be masked (its type has an option the {@link Redactor}
 * refuses) or is not a protobuf message, it is not sent; the call is closed with {@code INTERNAL}
 * "Internal error (correlation id: ...)", later messages are dropped, and {@link
 * ServerCall#isCancelled()} turns true so a streaming handler can stop. Install it innermost (after
 * the status sanitizer).
 *
 * <p>Thread-safe and stateless apart from the redactor's plan cache.
 */
public final class MaskingServerInterceptor implements SecurityLayer {

  private static final Logger log = LoggerFactory.getLogger(MaskingServerInterceptor.class);

  private final Redactor redactor;

  private MaskingServerInterceptor(Redactor redactor) {
    this.redactor = redactor;
  }

  /** Returns an interceptor that masks responses with {@code redactor}. */
  public static MaskingServerInterceptor create(Redactor redactor) {
    return new MaskingServerInterceptor(requireNonNull(redactor, "redactor"));
  }

  @Override
  public Slot slot() {
    return Slot.MASKING;
  }

  @Override
  public String describe() {
    return "MaskingServerInterceptor";
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Principal principal = facts.principal();
    return Contexts.interceptCall(
        ctx, new MaskingCall<>(call, redactor, principal, facts), headers, next);
  }

  private static final class MaskingCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    private final Redactor redactor;
    private final @Nullable Principal principal;
    private final CallFacts facts;
    // ServerCall methods are serialized but may run on different threads.
    private volatile boolean failed;

    MaskingCall(
        ServerCall<ReqT, RespT> delegate,
        Redactor redactor,
        @Nullable Principal principal,
        CallFacts facts) {
      super(delegate);
      this.redactor = redactor;
      this.principal = principal;
      this.facts = facts;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void sendMessage(RespT message) {
      if (failed) {
        return;
      }
      if (!(message instanceof Message proto)) {
        fail("the response is not a protobuf message", null);
        return;
      }
      RespT masked = message;
      try {
        // The zero-cost path: a type with nothing sensitive allocates nothing here.
        if (!redactor.inert(proto)) {
          Masker.Counter counter = new Masker.Counter();
          masked = (RespT) redactor.redact(proto, principal, counter);
          if (counter.count > 0) {
            facts.addMaskedFields(counter.count);
          }
        }
      } catch (RuntimeException e) {
        fail("the response could not be masked", e);
        return;
      }
      super.sendMessage(masked);
    }

    private void fail(String why, @Nullable RuntimeException e) {
      failed = true;
      // Option errors name schema elements only; other exceptions are reported by class alone.
      String detail =
          e == null
              ? ""
              : e instanceof PlanCompiler.OptionException oe
                  ? ": " + oe.getMessage()
                  : ": " + e.getClass().getName();
      log.error(
          "{} {}; response withheld (correlation id: {}){}",
          getMethodDescriptor().getFullMethodName(),
          why,
          facts.correlationId(),
          detail);
      super.close(Refusals.status(Status.Code.INTERNAL, "Internal error", facts), new Metadata());
    }

    @Override
    public void sendHeaders(Metadata headers) {
      if (failed) {
        return;
      }
      super.sendHeaders(headers);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (failed) {
        return;
      }
      super.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return failed || super.isCancelled();
    }
  }
}
