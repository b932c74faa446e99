package dev.hipaagrpc.core;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * Propagates the current call's correlation id to outgoing calls, so that one request can be
 * followed across services. Does nothing outside a server call.
 *
 * <p>Thread-safe and stateless.
 */
public final class CorrelationIdClientInterceptor implements ClientInterceptor {

  private static final CorrelationIdClientInterceptor INSTANCE =
      new CorrelationIdClientInterceptor();

  private CorrelationIdClientInterceptor() {}

  /** Returns the interceptor. */
  public static CorrelationIdClientInterceptor create() {
    return INSTANCE;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    // Read at call creation: that is where the caller's Context is current.
    String id = CorrelationId.current();
    ClientCall<ReqT, RespT> call = next.newCall(method, callOptions);
    if (id == null) {
      return call;
    }
    return new SimpleForwardingClientCall<ReqT, RespT>(call) {
      @Override
      public void start(Listener<RespT> responseListener, Metadata headers) {
        headers.discardAll(CorrelationId.HEADER);
        headers.put(CorrelationId.HEADER, id);
        super.start(responseListener, headers);
      }
    };
  }
}
