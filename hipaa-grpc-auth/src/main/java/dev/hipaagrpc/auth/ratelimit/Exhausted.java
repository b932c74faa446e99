package dev.hipaagrpc.auth.ratelimit;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.StatusException;
import io.grpc.protobuf.StatusProto;

/**
 * The limiter's refusal: {@code RESOURCE_EXHAUSTED} with a fixed description and a {@code
 * google.rpc.RetryInfo} detail saying when to retry.
 */
final class Exhausted {

  private Exhausted() {}

  static <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call, String fixed, long wait, CallFacts facts) {
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
            .setMessage(Refusals.description(fixed, facts))
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(wait / 1000)
                                .setNanos((int) (wait % 1000) * 1_000_000))
                        .build()))
            .build();
    StatusException exception = StatusProto.toStatusException(status);
    Metadata trailers = exception.getTrailers();
    return Refusals.refuse(
        call, exception.getStatus(), trailers != null ? trailers : new Metadata());
  }
}
