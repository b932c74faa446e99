package dev.hipaagrpc.core;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call that a layer may close from another thread than the service's (the guard on the listener's
 * thread, the deadline cap on its own): every use is serialized, since ServerCall is not
 * thread-safe, the call is closed at most once, and sends after the close are dropped.
 */
class SerializedCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {

  private boolean closed; // guarded by this

  SerializedCall(ServerCall<ReqT, RespT> delegate) {
    super(delegate);
  }

  @Override
  public final synchronized void close(Status status, Metadata trailers) {
    if (!closed) {
      closed = true;
      super.close(status, trailers);
    }
  }

  @Override
  public final synchronized void sendHeaders(Metadata headers) {
    if (!closed) {
      super.sendHeaders(headers);
    }
  }

  @Override
  public final synchronized void sendMessage(RespT message) {
    if (!closed) {
      super.sendMessage(message);
    }
  }

  @Override
  public final synchronized void request(int numMessages) {
    if (!closed) {
      super.request(numMessages);
    }
  }

  @Override
  public final synchronized boolean isReady() {
    return !closed && super.isReady();
  }

  @Override
  public final synchronized void setMessageCompression(boolean enabled) {
    super.setMessageCompression(enabled);
  }

  @Override
  public final synchronized void setCompression(String compressor) {
    super.setCompression(compressor);
  }

  final synchronized boolean isClosed() {
    return closed;
  }
}
