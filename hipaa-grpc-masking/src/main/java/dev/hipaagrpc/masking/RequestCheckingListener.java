package dev.hipaagrpc.masking;

import com.google.protobuf.Message;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ServerCall;

/**
 * A listener that checks each request message before the service sees it: once {@link #admit}
 * refuses one (and has closed the call), no further message, half-close or readiness reaches the
 * service. Shared by the write rules and the validation layer.
 *
 * <p>Listener callbacks are serialized by grpc-java but may run on different threads.
 */
abstract class RequestCheckingListener<ReqT> extends SimpleForwardingServerCallListener<ReqT> {
  private volatile boolean refused;

  RequestCheckingListener(ServerCall.Listener<ReqT> delegate) {
    super(delegate);
  }

  /**
   * Returns whether {@code request} may reach the service; when it returns false, it has closed the
   * call with the refusal.
   */
  abstract boolean admit(Message request);

  @Override
  public final void onMessage(ReqT message) {
    if (refused) {
      return;
    }
    if (message instanceof Message proto && !admit(proto)) {
      refused = true;
      return;
    }
    super.onMessage(message);
  }

  @Override
  public final void onHalfClose() {
    if (!refused) {
      super.onHalfClose();
    }
  }

  @Override
  public final void onReady() {
    if (!refused) {
      super.onReady();
    }
  }
}
