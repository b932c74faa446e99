package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.List;

/**
 * A server interceptor that knows its place in the call path. Every hipaa-grpc server interceptor
 * implements it, and {@link SecurityStack} orders layers by {@link #slot()} and refuses a layer
 * given for another slot (an audit slot cannot take a masking interceptor).
 *
 * <p>To put a third-party interceptor in a slot, say so explicitly with {@link #of}: it then takes
 * the place, and the obligations, of ours (an authentication layer must record the principal with
 * {@link CallFacts#principal(Principal)}; a layer that refuses must close the call itself).
 *
 * <p>Implementations must be thread-safe: one instance serves every call.
 */
public interface SecurityLayer extends ServerInterceptor, PostureSource {

  /** The slots of the call path, outermost first. */
  enum Slot {
    /** Correlation id and the per-call {@link CallFacts}; always present. */
    CORRELATION,
    /** One audit event per call: outside everything that can end a call. */
    AUDIT,
    /** Caps how long a call may run (the stack's own, from {@code maxCallDuration}). */
    DEADLINE_CAP,
    /** Refuses calls that did not arrive over acceptable TLS; records the peer. */
    TRANSPORT_GUARD,
    /** Establishes the {@link Principal}. */
    AUTHENTICATION,
    /** Default-deny policy; records the {@link AccessDecision}. */
    AUTHORIZATION,
    /** Limits by caller and method. */
    RATE_LIMIT,
    /** Generic errors with the correlation id. */
    STATUS_SANITIZER,
    /** Validates requests before the service sees them. */
    VALIDATION,
    /** Response masking and write-side field rules: innermost, next to the service. */
    MASKING
  }

  /** The slot this layer belongs in. */
  Slot slot();

  /**
   * One line for the start-up summary: what this layer is and how it is configured (issuers, policy
   * version, sink, delivery policy…). Never a secret. Default: the class's simple name.
   */
  default String describe() {
    return getClass().getSimpleName();
  }

  /**
   * What this layer's live configuration evidences, for {@link SecurityStack#posture()}: issuers,
   * policy version and hash, sink and delivery policy… Never a secret. Default: nothing (the stack
   * still lists the layer with its {@link #describe()} line).
   */
  @Override
  default List<PostureItem> posture() {
    return List.of();
  }

  /**
   * Declares that {@code interceptor} fills {@code slot}. If the interceptor is a {@link
   * PostureSource}, its items are the layer's.
   *
   * @param description what the start-up summary prints for it (never a secret)
   */
  static SecurityLayer of(Slot slot, ServerInterceptor interceptor, String description) {
    requireNonNull(slot, "slot");
    requireNonNull(interceptor, "interceptor");
    requireNonNull(description, "description");
    if (interceptor instanceof SecurityLayer layer && layer.slot() != slot) {
      throw new IllegalArgumentException(
          description + " is a " + layer.slot() + " layer and cannot fill the " + slot + " slot");
    }
    return new SecurityLayer() {
      @Override
      public Slot slot() {
        return slot;
      }

      @Override
      public String describe() {
        return description;
      }

      @Override
      public List<PostureItem> posture() {
        return interceptor instanceof PostureSource p ? p.posture() : List.of();
      }

      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        return interceptor.interceptCall(call, headers, next);
      }
    };
  }
}
