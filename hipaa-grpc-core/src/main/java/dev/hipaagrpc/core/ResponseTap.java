package dev.hipaagrpc.core;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The stack's innermost layer, next to the service: shows every response message, as the service
 * sent it, to the function a layer registered with {@link CallFacts#inspectResponses} (masking and
 * every other layer act on it only afterwards).
 */
final class ResponseTap implements ServerInterceptor {

  static final ResponseTap INSTANCE = new ResponseTap();

  private ResponseTap() {}

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    CallFacts facts = CallFacts.current();
    if (facts == null) {
      return next.startCall(call, headers);
    }
    return next.startCall(
        new SimpleForwardingServerCall<ReqT, RespT>(call) {
          @Override
          public void sendMessage(RespT message) {
            facts.responseSent(message);
            super.sendMessage(message);
          }
        },
        headers);
  }
}
