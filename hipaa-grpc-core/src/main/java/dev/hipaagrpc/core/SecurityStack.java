package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import io.grpc.BindableService;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Puts hipaa-grpc's server interceptors in the canonical order, whatever order they are given in.
 *
 * <p>The order, outermost first: correlation, audit, transport guard, authentication,
 * authorization, rate limit, status sanitizer, masking, then the service. Audit is outside
 * authentication so that every denial is audited; the sanitizer is outside masking and inside
 * everything that produces denials, so that every error leaving the server is generic. grpc-java
 * runs the interceptor added <em>last</em> first ({@link ServerBuilder#intercept} and {@link
 * ServerInterceptors#intercept} alike), which makes a hand-written stack easy to get backwards;
 * this class removes that trap.
 *
 * <pre>{@code
 * SecurityStack stack = SecurityStack.newBuilder()
 *     .audit(audit).transportGuard(guard).authentication(authn).authorization(authz)
 *     .rateLimit(limits).statusSanitizer(sanitizer).masking(masking)
 *     .build();
 * stack.applyTo(serverBuilder);            // or stack.wrap(service) per service
 * }</pre>
 *
 * <p>The correlation layer ({@link CorrelationIdServerInterceptor}) is always included. Every other
 * layer is optional; a missing one is simply skipped.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class SecurityStack {

  /** The layers, outermost first. */
  enum Layer {
    CORRELATION,
    AUDIT,
    TRANSPORT_GUARD,
    AUTHENTICATION,
    AUTHORIZATION,
    RATE_LIMIT,
    STATUS_SANITIZER,
    MASKING
  }

  private final List<ServerInterceptor> outermostFirst;

  private SecurityStack(List<ServerInterceptor> outermostFirst) {
    this.outermostFirst = Collections.unmodifiableList(outermostFirst);
  }

  /** Starts a stack; the correlation layer is already in it. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The interceptors, outermost first. Unmodifiable. */
  public List<ServerInterceptor> interceptors() {
    return outermostFirst;
  }

  /** Wraps one service so that its calls pass through the stack in canonical order. */
  public ServerServiceDefinition wrap(ServerServiceDefinition service) {
    // interceptForward runs the first element first: outermost first, as held.
    return ServerInterceptors.interceptForward(requireNonNull(service, "service"), outermostFirst);
  }

  /** Wraps one service so that its calls pass through the stack in canonical order. */
  public ServerServiceDefinition wrap(BindableService service) {
    return wrap(requireNonNull(service, "service").bindService());
  }

  /**
   * Installs the stack on a server builder as global interceptors, in canonical order. Call it
   * after any interceptor that must run inside ours, and before any that must run outside.
   */
  public <T extends ServerBuilder<T>> T applyTo(T serverBuilder) {
    requireNonNull(serverBuilder, "serverBuilder");
    // ServerBuilder.intercept: the interceptor added last runs first.
    for (int i = outermostFirst.size() - 1; i >= 0; i--) {
      serverBuilder.intercept(outermostFirst.get(i));
    }
    return serverBuilder;
  }

  /** Collects the layers. Each setter may be called at most once. Not thread-safe. */
  public static final class Builder {
    private final Map<Layer, ServerInterceptor> layers = new EnumMap<>(Layer.class);

    private Builder() {
      layers.put(Layer.CORRELATION, CorrelationIdServerInterceptor.create());
    }

    private Builder set(Layer layer, ServerInterceptor interceptor) {
      requireNonNull(interceptor, layer.name().toLowerCase(java.util.Locale.ROOT));
      if (layers.containsKey(layer) && layer != Layer.CORRELATION) {
        throw new IllegalStateException(layer + " layer is already set");
      }
      layers.put(layer, interceptor);
      return this;
    }

    /** Replaces the default correlation layer (for example to share one instance). */
    public Builder correlation(ServerInterceptor interceptor) {
      return set(Layer.CORRELATION, interceptor);
    }

    /** The audit layer: outside authentication, so denials are audited. */
    public Builder audit(ServerInterceptor interceptor) {
      return set(Layer.AUDIT, interceptor);
    }

    /** The transport guard: refuses calls that did not arrive over TLS. */
    public Builder transportGuard(ServerInterceptor interceptor) {
      return set(Layer.TRANSPORT_GUARD, interceptor);
    }

    /** The authentication layer: establishes the {@link Principal}. */
    public Builder authentication(ServerInterceptor interceptor) {
      return set(Layer.AUTHENTICATION, interceptor);
    }

    /** The authorization layer: default-deny policy. */
    public Builder authorization(ServerInterceptor interceptor) {
      return set(Layer.AUTHORIZATION, interceptor);
    }

    /** The rate limiter. */
    public Builder rateLimit(ServerInterceptor interceptor) {
      return set(Layer.RATE_LIMIT, interceptor);
    }

    /** The status sanitizer: generic errors with the correlation id. */
    public Builder statusSanitizer(ServerInterceptor interceptor) {
      return set(Layer.STATUS_SANITIZER, interceptor);
    }

    /** The response masking layer: innermost, next to the service. */
    public Builder masking(ServerInterceptor interceptor) {
      return set(Layer.MASKING, interceptor);
    }

    /** Returns the immutable stack. */
    public SecurityStack build() {
      return new SecurityStack(new ArrayList<>(layers.values()));
    }
  }
}
