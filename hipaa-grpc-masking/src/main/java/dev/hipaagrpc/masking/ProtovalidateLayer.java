package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import build.buf.protovalidate.ValidationResult;
import build.buf.protovalidate.Validator;
import build.buf.protovalidate.ValidatorFactory;
import build.buf.protovalidate.Violation;
import build.buf.protovalidate.exceptions.ValidationException;
import build.buf.validate.FieldPathElement;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates every request message with <a
 * href="https://github.com/bufbuild/protovalidate-java">protovalidate-java</a> ({@code
 * build.buf:protovalidate}, an optional dependency: add it to use this class) against the {@code
 * buf.validate} rules in its {@code .proto}, in the stack's {@link Slot#VALIDATION} slot (after
 * authorization, before masking and the service).
 *
 * <p>A message that breaks a rule never reaches the service: the call is closed {@code
 * INVALID_ARGUMENT} "Invalid request (correlation id: ...)" with a {@code google.rpc.BadRequest}
 * detail, one field violation per rule broken: the field path by field names and list indexes only
 * (map keys are request values and are left out, {@code tags[]}), and protovalidate's message as
 * the description. The {@link StatusSanitizerServerInterceptor} outside passes that detail on only
 * after dropping every violation that echoes a value of the request. A validator that cannot run (a
 * rule that does not compile) closes the call {@code INTERNAL}; the server log names only the
 * method and the exception class.
 *
 * <p>Thread-safe; the validator's compiled rules are cached per message type.
 */
public final class ProtovalidateLayer implements SecurityLayer {

  private static final Logger log = LoggerFactory.getLogger(ProtovalidateLayer.class);

  /** At most this many violations are reported per message. */
  static final int MAX_VIOLATIONS = 32;

  private final Validator validator;

  private ProtovalidateLayer(Validator validator) {
    this.validator = validator;
  }

  /** Returns a layer with protovalidate's default validator. */
  public static ProtovalidateLayer create() {
    return new ProtovalidateLayer(ValidatorFactory.newBuilder().build());
  }

  /** Returns a layer over {@code validator} (for example one built with extra rule descriptors). */
  public static ProtovalidateLayer create(Validator validator) {
    return new ProtovalidateLayer(requireNonNull(validator, "validator"));
  }

  @Override
  public Slot slot() {
    return Slot.VALIDATION;
  }

  @Override
  public String describe() {
    return "ProtovalidateLayer";
  }

  /** One {@code validation.protovalidate} item: requests are validated before the service. */
  @Override
  public List<PostureItem> posture() {
    return List.of(
        PostureItem.ok("validation.protovalidate", Safeguard.INTEGRITY, "requests validated"));
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(ctx, call, headers, next);
    return new ValidatingListener<>(listener, call, facts);
  }

  private final class ValidatingListener<ReqT> extends RequestCheckingListener<ReqT> {
    private final ServerCall<ReqT, ?> call;
    private final CallFacts facts;

    ValidatingListener(ServerCall.Listener<ReqT> delegate, ServerCall<ReqT, ?> call, CallFacts f) {
      super(delegate);
      this.call = call;
      this.facts = f;
    }

    @Override
    boolean admit(Message proto) {
      ValidationResult result;
      try {
        result = validator.validate(proto);
      } catch (ValidationException | RuntimeException e) {
        log.error(
            "{}: the request could not be validated (correlation id: {}): {}",
            call.getMethodDescriptor().getFullMethodName(),
            facts.correlationId(),
            e.getClass().getName());
        call.close(Refusals.status(Status.Code.INTERNAL, "Internal error", facts), new Metadata());
        return false;
      }
      if (result.isSuccess()) {
        return true;
      }
      com.google.rpc.Status details =
          com.google.rpc.Status.newBuilder()
              .setCode(Status.Code.INVALID_ARGUMENT.value())
              .setMessage(Refusals.description("Invalid request", facts))
              .addDetails(Any.pack(badRequest(result)))
              .build();
      RefusalSummary.record(Status.Code.INVALID_ARGUMENT, "invalid_request");
      Status status = Refusals.status(Status.Code.INVALID_ARGUMENT, "Invalid request", facts);
      call.close(status, StatusProto.toStatusRuntimeException(details).getTrailers());
      return false;
    }
  }

  static BadRequest badRequest(ValidationResult result) {
    BadRequest.Builder b = BadRequest.newBuilder();
    for (Violation v : result.getViolations()) {
      if (b.getFieldViolationsCount() >= MAX_VIOLATIONS) {
        break;
      }
      build.buf.validate.Violation proto = v.toProto();
      b.addFieldViolations(
          BadRequest.FieldViolation.newBuilder()
              .setField(path(proto))
              .setDescription(proto.getMessage().isEmpty() ? proto.getRuleId() : proto.getMessage())
              .setReason(proto.getRuleId()));
    }
    return b.build();
  }

  /** {@code contacts[2].phone}; map keys are request values, so a map subscript is {@code []}. */
  private static String path(build.buf.validate.Violation v) {
    StringBuilder sb = new StringBuilder();
    for (FieldPathElement e : v.getField().getElementsList()) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append(e.getFieldName());
      if (e.hasIndex()) {
        sb.append('[').append(e.getIndex()).append(']');
      } else if (e.getSubscriptCase() != FieldPathElement.SubscriptCase.SUBSCRIPT_NOT_SET) {
        sb.append("[]");
      }
    }
    return sb.toString();
  }
}
