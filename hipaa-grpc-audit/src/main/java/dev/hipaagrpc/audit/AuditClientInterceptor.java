package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Source;
import dev.hipaagrpc.audit.proto.Target;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.KeyedIdentifier;
import dev.hipaagrpc.core.Principal;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Records one {@code CLIENT_CALL} audit event for every outgoing call a service makes, with the
 * principal on whose behalf it was made (the current server call's caller, if any), the authority
 * and method called, the status code, message counts and bytes, and latency.
 *
 * <p>Under {@link DeliveryPolicy#FAIL_CLOSED} an outgoing call is cancelled before it starts when
 * the audit pipeline cannot accept events, and a call whose event cannot be queued completes with
 * {@code UNAVAILABLE} instead of its real status (a unary stub sees the failure, not the response).
 * Under durable-before-response the final status is delivered to the application only once the
 * event is on disk.
 *
 * <p>Thread-safe; one instance serves any number of channels.
 */
public final class AuditClientInterceptor implements ClientInterceptor {

  // No correlation id: an outgoing call may have none, and the description stays on this side.
  private static final Status UNAVAILABLE =
      Status.UNAVAILABLE.withDescription("Audit unavailable for outgoing call");

  private final AuditDispatcher dispatcher;
  private final EventFactory factory;

  private AuditClientInterceptor(Builder b) {
    this.dispatcher = b.dispatcher;
    this.factory =
        new EventFactory(
            KeyedIdentifier.create(b.identifierKey), b.headers.build(), b.hashAllSubjects, b.clock);
  }

  /**
   * Starts an interceptor.
   *
   * @param dispatcher where events go
   * @param identifierKey the audit identifier key (at least 32 bytes); copied
   * @throws IllegalArgumentException if the key is shorter than 32 bytes
   */
  public static Builder newBuilder(AuditDispatcher dispatcher, byte[] identifierKey) {
    return new Builder(
        requireNonNull(dispatcher, "dispatcher"),
        Crypto.requireKey(requireNonNull(identifierKey, "identifierKey"), "identifierKey"));
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    return new AuditingClientCall<>(next.newCall(method, callOptions), method, next.authority());
  }

  private final class AuditingClientCall<ReqT, RespT>
      extends SimpleForwardingClientCall<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;
    private final String authority;
    private final long startNanos = System.nanoTime();
    private final @Nullable Principal principal = Principal.current();
    private final @Nullable CallFacts serverFacts = CallFacts.current();
    private final AtomicLong reqMsgs = new AtomicLong();
    private final AtomicLong reqBytes = new AtomicLong();
    private final AtomicLong respMsgs = new AtomicLong();
    private final AtomicLong respBytes = new AtomicLong();
    private volatile boolean refused;

    AuditingClientCall(
        ClientCall<ReqT, RespT> delegate, MethodDescriptor<ReqT, RespT> method, String authority) {
      super(delegate);
      this.method = method;
      this.authority = authority;
    }

    @Override
    public void start(Listener<RespT> responseListener, Metadata headers) {
      AuditEvent.Builder prototype =
          AuditEvent.newBuilder()
              .setTraceId(TraceParent.traceId(headers))
              .putAllHeaders(factory.recordedHeaders(headers));
      String outgoingId = headers.get(CorrelationId.HEADER);
      CallFacts facts = serverFacts;
      String correlationId =
          facts != null
              ? facts.correlationId()
              : outgoingId != null && CorrelationId.isAcceptable(outgoingId) ? outgoingId : "";
      super.start(
          new AuditingListener(responseListener, prototype.buildPartial(), correlationId), headers);
      if (dispatcher.policy() == DeliveryPolicy.FAIL_CLOSED && !dispatcher.admitsCalls()) {
        refused = true;
        dispatcher.countRefused();
        super.cancel("audit unavailable", null);
      }
    }

    @Override
    public void sendMessage(ReqT message) {
      if (refused) {
        return; // the call was cancelled at start; the application learns it from onClose.
      }
      reqMsgs.incrementAndGet();
      reqBytes.addAndGet(AuditServerInterceptor.sizeOf(message));
      super.sendMessage(message);
    }

    @Override
    public void halfClose() {
      if (!refused) {
        super.halfClose();
      }
    }

    @Override
    public void request(int numMessages) {
      if (!refused) {
        super.request(numMessages);
      }
    }

    private final class AuditingListener extends SimpleForwardingClientCallListener<RespT> {
      private final AuditEvent prototype;
      private final String correlationId;

      AuditingListener(
          ClientCall.Listener<RespT> delegate, AuditEvent prototype, String correlationId) {
        super(delegate);
        this.prototype = prototype;
        this.correlationId = correlationId;
      }

      @Override
      public void onMessage(RespT message) {
        respMsgs.incrementAndGet();
        respBytes.addAndGet(AuditServerInterceptor.sizeOf(message));
        super.onMessage(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        if (refused) {
          super.onClose(UNAVAILABLE, new Metadata());
          return;
        }
        AuditEvent.Builder b = factory.newEvent(AuditEvent.Type.CLIENT_CALL).mergeFrom(prototype);
        b.setCorrelationId(correlationId);
        factory.actor(b, principal, null);
        b.setSource(Source.newBuilder().setAuthority(authority));
        b.setTarget(
            Target.newBuilder()
                .setService(AuditServerInterceptor.nullToEmpty(method.getServiceName()))
                .setMethod(AuditServerInterceptor.nullToEmpty(method.getBareMethodName()))
                .setAction(EventFactory.action(null, method))
                .setMethodType(method.getType().name()));
        EventFactory.outcome(b, status);
        b.setTraffic(
            EventFactory.traffic(reqMsgs.get(), reqBytes.get(), respMsgs.get(), respBytes.get()));
        b.setLatencyMicros((System.nanoTime() - startNanos) / 1000);
        AuditEvent event = b.build();
        // Should durability not be confirmed in time, the record says what the application saw.
        if (dispatcher.deliver(
            event,
            () -> {
              AuditEvent.Builder refused = event.toBuilder();
              EventFactory.outcome(refused, UNAVAILABLE);
              return refused.build();
            })) {
          super.onClose(status, trailers);
        } else {
          super.onClose(UNAVAILABLE, new Metadata());
        }
      }
    }
  }

  /** Configures an {@link AuditClientInterceptor}. Not thread-safe. */
  public static final class Builder {
    private final AuditDispatcher dispatcher;
    private final byte[] identifierKey;
    private final HeaderAllowList.Builder headers = new HeaderAllowList.Builder();
    private boolean hashAllSubjects;
    private Clock clock = Clock.systemUTC();

    private Builder(AuditDispatcher dispatcher, byte[] identifierKey) {
      this.dispatcher = dispatcher;
      this.identifierKey = identifierKey;
    }

    /**
     * Adds outgoing request headers whose values are recorded. Default: none. Same rules as {@link
     * AuditServerInterceptor.Builder#recordHeaders}.
     *
     * @throws IllegalArgumentException for binary or credential-carrying headers
     */
    public Builder recordHeaders(String... names) {
      for (String name : names) {
        headers.add(requireNonNull(name, "name"));
      }
      return this;
    }

    /** Records every actor subject as a keyed hash. Default false. */
    public Builder hashAllSubjects(boolean hashAll) {
      this.hashAllSubjects = hashAll;
      return this;
    }

    /** Sets the clock that timestamps events. Default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Returns the interceptor. */
    public AuditClientInterceptor build() {
      return new AuditClientInterceptor(this);
    }
  }
}
