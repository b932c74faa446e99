package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Masks every response message by the caller's roles before it is serialized ("minimum necessary",
 * 45 CFR 164.502(b)), for unary and streaming calls, and enforces the write rules of every request
 * message.
 *
 * <p>Write rules: a request message that sets a field the caller may not set ({@code
 * (hipaagrpc.masking.write_rule)}: {@code output_only}, or {@code read_only_for} one of the
 * caller's roles) is refused, never cleared: the call is closed {@code PERMISSION_DENIED} "Access
 * denied (correlation id: ...)" before the service sees the message, and the refusal is recorded in
 * {@link CallFacts#decision} as a DENY with rule id {@code write-rule:<request type>/<field path>}
 * (field names only, never a value), so the audit event names it. Refusing rather than silently
 * clearing keeps a client from believing a write happened that did not.
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

  /** The redactor's posture: strict mode and the services it covers, tokenizer, opt-outs. */
  @Override
  public List<PostureItem> posture() {
    return redactor.posture();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Principal principal = facts.principal();
    MaskingCall<ReqT, RespT> masking = new MaskingCall<>(call, redactor, principal, facts);
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(ctx, masking, headers, next);
    return new WriteRuleListener<>(listener, masking, redactor, principal, facts);
  }

  /** The rule id recorded for a refused write: schema names only. */
  static String writeRuleId(Message request, String path) {
    return WRITE_RULE_PREFIX + request.getDescriptorForType().getFullName() + "/" + path;
  }

  private static final String WRITE_RULE_PREFIX = "write-rule:";

  private static final class WriteRuleListener<ReqT> extends RequestCheckingListener<ReqT> {
    private final MaskingCall<ReqT, ?> call;
    private final Redactor redactor;
    private final @Nullable Principal principal;
    private final CallFacts facts;

    WriteRuleListener(
        ServerCall.Listener<ReqT> delegate,
        MaskingCall<ReqT, ?> call,
        Redactor redactor,
        @Nullable Principal principal,
        CallFacts facts) {
      super(delegate);
      this.call = call;
      this.redactor = redactor;
      this.principal = principal;
      this.facts = facts;
    }

    @Override
    boolean admit(Message proto) {
      String path;
      try {
        path = redactor.forbiddenField(proto, principal);
      } catch (RuntimeException e) {
        call.fail("the request's write rules could not be applied", e);
        return false;
      }
      if (path == null) {
        return true;
      }
      facts.decision(
          AccessDecision.deny(
              writeRuleId(proto, path), proto.getDescriptorForType().getFile().getName()));
      log.debug(
          "{} refused: the request sets {} which the caller may not set (correlation id: {})",
          call.getMethodDescriptor().getFullMethodName(),
          writeRuleId(proto, path),
          facts.correlationId());
      RefusalSummary.record(Status.Code.PERMISSION_DENIED, facts);
      call.refuse(Refusals.status(Status.Code.PERMISSION_DENIED, "Access denied", facts));
      return false;
    }
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

    /** Closes the call with a refusal of ours; the service's later sends are dropped. */
    void refuse(Status status) {
      failed = true;
      super.close(status, new Metadata());
    }

    void fail(String why, @Nullable RuntimeException e) {
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
