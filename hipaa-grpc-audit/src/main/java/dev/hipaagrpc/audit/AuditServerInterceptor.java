package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Source;
import dev.hipaagrpc.audit.proto.Target;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.KeyedIdentifier;
import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Records one audit event for every server call (164.312(b)), including calls that authentication
 * or authorization refused.
 *
 * <p>Install it right inside the correlation interceptor and outside every other hipaa-grpc
 * interceptor: {@code correlation -> audit -> transport guard -> authentication -> authorization ->
 * ...}. It reads the call's {@link CallFacts} when the call closes, so a denied or unauthenticated
 * call is audited with whatever identity was known.
 *
 * <p>Each event holds: time, event id, correlation id, W3C trace id, the actor (subject, kind,
 * roles, authentication method, credential fingerprint, the service it came through, or the
 * authentication failure code), source address and TLS peer, target service/method/action, resource
 * type and the keyed hash of the patient id, the status code (never the description), the
 * authorization decision, purpose of use and break-glass reason, masked field count, message counts
 * and bytes, and latency. Message bodies are never read; request headers only through the
 * allow-list. Every call produces exactly one event: a call the client cancels (or whose own
 * deadline passes) before it was closed produces a {@code CALL_CANCELLED} event with {@code
 * CANCELLED} (or {@code DEADLINE_EXCEEDED}); a call already closed records the status it was closed
 * with; a second audit layer on the same call records nothing ({@link CallFacts#claimAudit()}).
 *
 * <p>The actor's subject is recorded as is for workforce users and workloads (164.312(a)(2)(i)
 * needs the user's id), and as a keyed hash when the caller may be a patient: a principal with a
 * SMART patient context or a {@code Patient/...} / {@code RelatedPerson/...} fhirUser, any
 * unauthenticated caller, or every caller when {@link Builder#hashAllSubjects(boolean)} is set. The
 * source IP address follows the same rule.
 *
 * <p>Under {@link DeliveryPolicy#FAIL_CLOSED} or durable-before-response, a unary response (headers
 * and message) is held until the call's event is accepted (or durable), and replaced by {@code
 * UNAVAILABLE} if it is not; a streaming response's messages flow, but its final status is held the
 * same way. No thread waits while a response is held: the service's {@code close} returns, and the
 * dispatcher's verdict (in durable mode, from the writer's fsync) releases it.
 *
 * <p>Thread-safe; one instance serves any number of services.
 */
public final class AuditServerInterceptor implements SecurityLayer {

  private static final String UNAVAILABLE = "Audit unavailable";

  private final AuditDispatcher dispatcher;
  private final EventFactory factory;
  private final boolean holdResponses;

  private AuditServerInterceptor(Builder b) {
    this.dispatcher = b.dispatcher;
    this.factory =
        new EventFactory(
            KeyedIdentifier.create(b.identifierKey), b.headers.build(), b.hashAllSubjects, b.clock);
    this.holdResponses =
        dispatcher.policy() == DeliveryPolicy.FAIL_CLOSED || dispatcher.durableBeforeResponse();
  }

  /**
   * Starts an interceptor.
   *
   * @param dispatcher where events go
   * @param identifierKey the audit identifier key (at least 32 bytes) under which patient ids and
   *     patient-facing subjects are written as {@link KeyedIdentifier}s; the same key lets {@link
   *     AccessReport} find a patient's accesses. Copied.
   * @throws IllegalArgumentException if the key is shorter than 32 bytes
   */
  public static Builder newBuilder(AuditDispatcher dispatcher, byte[] identifierKey) {
    return new Builder(
        requireNonNull(dispatcher, "dispatcher"),
        Crypto.requireKey(requireNonNull(identifierKey, "identifierKey"), "identifierKey"));
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    if (!facts.claimAudit()) {
      // Another audit layer of this call records it: one event per call, never two.
      return Contexts.interceptCall(ctx, call, headers, next);
    }
    CallState state = new CallState(call, facts, headers);
    if (dispatcher.policy() == DeliveryPolicy.FAIL_CLOSED && !dispatcher.admitsCalls()) {
      Status refused = unavailable(facts);
      dispatcher.offerBestEffort(state.event(AuditEvent.Type.CALL, refused));
      dispatcher.countRefused();
      return Refusals.refuse(call, refused, new Metadata());
    }
    boolean hold = holdResponses && call.getMethodDescriptor().getType().serverSendsOneMessage();
    AuditingCall<ReqT, RespT> auditing = new AuditingCall<>(call, state, hold);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = Contexts.interceptCall(ctx, auditing, headers, next);
    } catch (RuntimeException | Error e) {
      // grpc-java closes such a call itself with UNKNOWN, past our AuditingCall: record what the
      // caller gets, then let it propagate as before.
      if (state.claimRecord()) {
        dispatcher.deliverDetached(state.event(AuditEvent.Type.CALL, Status.UNKNOWN));
      }
      throw e;
    }
    return new AuditingListener<>(listener, state);
  }

  @Override
  public Slot slot() {
    return Slot.AUDIT;
  }

  @Override
  public String describe() {
    return "AuditServerInterceptor: " + dispatcher.describe();
  }

  /** The dispatcher's and the sink's posture: sink, delivery policy, health, chain. */
  @Override
  public List<PostureItem> posture() {
    return dispatcher.posture();
  }

  private static Status unavailable(CallFacts facts) {
    return Refusals.status(Status.Code.UNAVAILABLE, UNAVAILABLE, facts);
  }

  /** What one call has done so far. Counters are atomics: listener and call threads differ. */
  private final class CallState {
    final long startNanos = System.nanoTime();
    final CallFacts facts;
    final MethodDescriptor<?, ?> method;
    final String traceId;
    final Map<String, String> recordedHeaders;
    final java.net.@Nullable SocketAddress remote;
    final AtomicLong reqMsgs = new AtomicLong();
    final AtomicLong reqBytes = new AtomicLong();
    final AtomicLong respMsgs = new AtomicLong();
    final AtomicLong respBytes = new AtomicLong();
    // Set when the application threw from a listener callback: grpc-java then cancels the
    // stream with UNKNOWN without going through our ServerCall, so the event is ours to write.
    volatile boolean threw;
    volatile boolean closed;
    // Exactly one event per call: whichever path records first (close, cancel, completion past
    // us, a thrown start) wins; every other path records nothing.
    private final java.util.concurrent.atomic.AtomicBoolean recorded =
        new java.util.concurrent.atomic.AtomicBoolean();

    boolean claimRecord() {
      return recorded.compareAndSet(false, true);
    }

    CallState(ServerCall<?, ?> call, CallFacts facts, Metadata headers) {
      this.facts = facts;
      this.method = call.getMethodDescriptor();
      this.remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      // Headers are read now, once: the event keeps only allow-listed values and the trace id.
      this.traceId = TraceParent.traceId(headers);
      this.recordedHeaders = factory.recordedHeaders(headers);
    }

    AuditEvent event(AuditEvent.Type type, Status status) {
      AuditEvent.Builder b = factory.newEvent(type).setTraceId(traceId);
      if (!recordedHeaders.isEmpty()) {
        b.putAllHeaders(recordedHeaders);
      }
      Principal p = facts.principal();
      b.setCorrelationId(facts.correlationId());
      factory.actor(b, p, facts.authenticationFailure());
      Source.Builder s = Source.newBuilder().setAddress(factory.address(remote, p));
      PeerIdentity peer = facts.peer();
      if (peer != null) {
        String spiffe = peer.spiffeId();
        if (spiffe != null) {
          s.setPeerSpiffeId(spiffe);
        }
        s.setPeerCertificateSha256(peer.sha256Hex());
      }
      b.setSource(s);
      b.setTarget(
          Target.newBuilder()
              .setService(nullToEmpty(method.getServiceName()))
              .setMethod(nullToEmpty(method.getBareMethodName()))
              .setAction(EventFactory.action(facts.action(), method))
              .setMethodType(method.getType().name()));
      factory.facts(b, facts);
      EventFactory.outcome(b, status);
      b.setTraffic(
          EventFactory.traffic(reqMsgs.get(), reqBytes.get(), respMsgs.get(), respBytes.get()));
      b.setLatencyMicros((System.nanoTime() - startNanos) / 1000);
      return b.build();
    }
  }

  static String nullToEmpty(@Nullable String s) {
    return s == null ? "" : s;
  }

  static long sizeOf(Object message) {
    return message instanceof com.google.protobuf.MessageLite m ? m.getSerializedSize() : 0;
  }

  /**
   * Holds the response of a call whose event must be accepted (or durable) first. The release may
   * come from the dispatcher's release thread after the application's close returned, so the held
   * state and every forwarded close are serialized on this object; sends happen on the
   * application's thread before its close, and the dispatcher's queue orders them before the
   * release.
   */
  private final class AuditingCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT>
      implements AuditDispatcher.Completion {
    private final CallState state;
    private final boolean hold;
    private @Nullable Metadata heldHeaders;
    private @Nullable RespT heldMessage;
    private @Nullable Status heldStatus;
    private @Nullable Metadata heldTrailers;
    private boolean closed; // guarded by this

    AuditingCall(ServerCall<ReqT, RespT> delegate, CallState state, boolean hold) {
      super(delegate);
      this.state = state;
      this.hold = hold;
    }

    // Every method is synchronized with complete(), which may run on the dispatcher's release
    // thread: grpc-java's ServerCall must never be used from two threads at once, and nothing
    // reaches it after the first close (also when this interceptor is used outside the stack).

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (closed) {
        return;
      }
      if (hold) {
        heldHeaders = headers;
      } else {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(RespT message) {
      if (closed) {
        return;
      }
      state.respMsgs.incrementAndGet();
      state.respBytes.addAndGet(sizeOf(message));
      if (hold && heldMessage == null) {
        heldMessage = message;
      } else {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void request(int numMessages) {
      if (!closed) {
        super.request(numMessages);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !closed && super.isReady();
    }

    @Override
    public synchronized void setMessageCompression(boolean enabled) {
      if (!closed) {
        super.setMessageCompression(enabled);
      }
    }

    @Override
    public synchronized void setCompression(String compressor) {
      if (!closed) {
        super.setCompression(compressor);
      }
    }

    @Override
    public void close(Status status, Metadata trailers) {
      synchronized (this) {
        if (closed) {
          // The first close wins: the call is closing with its held outcome, or already closed.
          return;
        }
        closed = true;
        state.closed = true;
        if (!state.claimRecord()) {
          // Already recorded (the client cancelled first): one event per call.
          heldHeaders = null;
          heldMessage = null;
          super.close(status, trailers);
          return;
        }
        heldStatus = status;
        heldTrailers = trailers;
      }
      // Outside the lock: the verdict may come at once, on this thread.
      dispatcher.deliver(
          state.event(AuditEvent.Type.CALL, status),
          () -> state.event(AuditEvent.Type.CALL, unavailable(state.facts)),
          this);
    }

    /** The dispatcher's verdict: release the held response, or replace it by UNAVAILABLE. */
    @Override
    public synchronized void complete(boolean release) {
      Metadata h = heldHeaders;
      RespT m = heldMessage;
      Status status = requireNonNull(heldStatus);
      Metadata trailers = requireNonNull(heldTrailers);
      heldHeaders = null;
      heldMessage = null;
      heldStatus = null;
      heldTrailers = null;
      if (release) {
        if (h != null) {
          super.sendHeaders(h);
        }
        if (m != null) {
          super.sendMessage(m);
        }
        super.close(status, trailers);
      } else {
        // The response is never released without its audit record.
        super.close(unavailable(state.facts), new Metadata());
      }
    }
  }

  private final class AuditingListener<ReqT> extends SimpleForwardingServerCallListener<ReqT> {
    private final CallState state;

    AuditingListener(ServerCall.Listener<ReqT> delegate, CallState state) {
      super(delegate);
      this.state = state;
    }

    @Override
    public void onMessage(ReqT message) {
      state.reqMsgs.incrementAndGet();
      state.reqBytes.addAndGet(sizeOf(message));
      try {
        super.onMessage(message);
      } catch (RuntimeException | Error e) {
        state.threw = true;
        throw e;
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (RuntimeException | Error e) {
        state.threw = true;
        throw e;
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (RuntimeException | Error e) {
        state.threw = true;
        throw e;
      }
    }

    @Override
    public void onComplete() {
      try {
        super.onComplete();
      } finally {
        if (!state.closed && state.claimRecord()) {
          // Completed without a close through us: grpc-java closed the stream itself with
          // UNKNOWN ("Application error processing RPC"), e.g. a request that did not parse on a
          // service that is not wrapped, or a listener that threw.
          dispatcher.deliverDetached(state.event(AuditEvent.Type.CALL, Status.UNKNOWN));
        }
      }
    }

    @Override
    public void onCancel() {
      try {
        super.onCancel();
      } finally {
        if (state.closed || !state.claimRecord()) {
          // Closed through us and recorded with the status we sent (the transport then failed to
          // deliver it), or recorded by a concurrent close: one event per call.
        } else if (state.threw) {
          // The service threw; the client sees UNKNOWN. Record that, not a client cancel.
          dispatcher.deliverDetached(state.event(AuditEvent.Type.CALL, Status.UNKNOWN));
        } else {
          Deadline deadline = Context.current().getDeadline();
          if (deadline != null && deadline.isExpired()) {
            // The client's own deadline passed: it saw DEADLINE_EXCEEDED.
            dispatcher.deliverDetached(
                state.event(AuditEvent.Type.CALL_CANCELLED, Status.DEADLINE_EXCEEDED));
          } else {
            dispatcher.deliverDetached(
                state.event(AuditEvent.Type.CALL_CANCELLED, Status.CANCELLED));
          }
        }
      }
    }
  }

  /** Configures an {@link AuditServerInterceptor}. Not thread-safe. */
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
     * Adds request headers whose values are recorded (printable ASCII, first 128 characters).
     * Default: none. Choose headers that carry no PHI, such as {@code user-agent}.
     *
     * @throws IllegalArgumentException for binary headers and for headers that carry credentials
     *     ({@code authorization}, {@code cookie}, names containing {@code token}, {@code secret},
     *     {@code password} or {@code session}, and similar)
     */
    public Builder recordHeaders(String... names) {
      for (String name : names) {
        headers.add(requireNonNull(name, "name"));
      }
      return this;
    }

    /**
     * Records every actor subject and source address as a keyed hash, not only those of callers
     * that may be patients. Default false.
     */
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
    public AuditServerInterceptor build() {
      return new AuditServerInterceptor(this);
    }
  }
}
