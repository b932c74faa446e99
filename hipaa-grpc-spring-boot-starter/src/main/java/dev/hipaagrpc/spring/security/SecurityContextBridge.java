package dev.hipaagrpc.spring.security;

import dev.hipaagrpc.core.Principal;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;

/**
 * Puts the caller the stack authenticated into Spring Security's {@code SecurityContextHolder}
 * while the service handles the call, as a {@link HipaaGrpcAuthentication}, so that method security
 * ({@code @PreAuthorize}, {@code @PostAuthorize}) and {@code SecurityContextHolder.getContext()}
 * see it.
 *
 * <p>It runs inside the stack (the starter registers it as a Spring global server interceptor,
 * which Spring applies to each service, inside the stack's server-wide interceptor), so it only
 * ever sees calls the stack authenticated and authorized. The context is set for each listener
 * callback (grpc-java may run them on different threads) and the thread's previous context is
 * restored afterwards, so nothing leaks into the next call that thread serves. A call without a
 * principal (a method exempt from authentication, such as health) runs with an empty context.
 * Method security is an additional check inside the stack's policy, never a replacement: a denial
 * it throws ({@code AccessDeniedException}) is answered {@code PERMISSION_DENIED} by Spring gRPC's
 * security exception handler and audited with that status.
 *
 * <p>Thread-safe; uses the holder strategy current when it was created.
 */
public final class SecurityContextBridge implements ServerInterceptor {
  private final SecurityContextHolderStrategy holder;

  /** Creates the bridge over {@link SecurityContextHolder#getContextHolderStrategy()}. */
  public SecurityContextBridge() {
    this(SecurityContextHolder.getContextHolderStrategy());
  }

  /**
   * Creates the bridge over {@code holder}.
   *
   * @param holder the strategy Spring Security's method security reads
   */
  public SecurityContextBridge(SecurityContextHolderStrategy holder) {
    this.holder = holder;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Principal principal = Principal.current();
    SecurityContext context = holder.createEmptyContext();
    if (principal != null) {
      context.setAuthentication(new HipaaGrpcAuthentication(principal));
    }
    SecurityContext previous = holder.getContext();
    holder.setContext(context);
    ServerCall.Listener<ReqT> delegate;
    try {
      delegate = next.startCall(call, headers);
    } finally {
      holder.setContext(previous);
    }
    return new SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onMessage(ReqT message) {
        run(() -> super.onMessage(message));
      }

      @Override
      public void onHalfClose() {
        run(super::onHalfClose);
      }

      @Override
      public void onCancel() {
        run(super::onCancel);
      }

      @Override
      public void onComplete() {
        run(super::onComplete);
      }

      @Override
      public void onReady() {
        run(super::onReady);
      }

      private void run(Runnable callback) {
        SecurityContext before = holder.getContext();
        holder.setContext(context);
        try {
          callback.run();
        } finally {
          holder.setContext(before);
        }
      }
    };
  }
}
