package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.SecurityLayer.Slot;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the call path: hipaa-grpc's layers in the canonical order, whatever order they are given in,
 * applied once to a server.
 *
 * <p>The order, outermost first: correlation, audit, (the stack's call guard), deadline cap,
 * transport guard, authentication, authorization, rate limit, status sanitizer, validation,
 * masking, then the service. Audit is outside everything that can end a call, so every exit is
 * recorded with the status the caller saw; the sanitizer is inside everything that produces
 * denials, so every error leaving the server is generic.
 *
 * <pre>{@code
 * SecurityStack stack = SecurityStack.newBuilder()
 *     .audit(audit).transportGuard(guard).authentication(authn).authorization(authz)
 *     .rateLimit(limits).statusSanitizer(sanitizer).masking(masking)
 *     .exemptFromAuthentication(SecurityStack.HEALTH)      // probes carry no token
 *     .build();
 * ServerBuilder<?> server = Grpc.newServerBuilderForPort(8443, credentials);
 * stack.applyTo(server);                          // every call through the stack, once
 * server.addService(stack.wrap(patientRecords));  // and strict request parsing for this service
 * }</pre>
 *
 * <h2>One model: applied to the server, services wrapped for strict parsing</h2>
 *
 * <p>{@link #applyTo} installs the stack on the server builder: a server-wide interceptor runs it
 * for every call of every service (so a health or reflection service added without a second thought
 * is still authenticated, authorized and audited), and a fallback handler answers unknown methods
 * and unregistered services {@code UNIMPLEMENTED} <em>after</em> authentication, audited (so
 * methods cannot be enumerated unseen). {@link #wrap} additionally gives a service's methods
 * guarded request parsing: a request that does not parse, is over {@link
 * Builder#maxRequestMessageBytes}, or is a second message on a unary method is refused through the
 * audit layer with a clear status and the correlation id, instead of grpc-java's unaudited {@code
 * UNKNOWN}. A wrapped service runs the stack exactly once whether or not the stack is also applied;
 * wrapping twice or applying twice to one builder is refused; and the audit layer records at most
 * one event per call even if installed a second time by hand ({@link CallFacts#claimAudit()}).
 *
 * <h2>Required layers</h2>
 *
 * <p>{@link Builder#build()} refuses a stack without audit, transport guard, authentication or
 * authorization unless each absence is opted into by its {@code allowUnsafeWithout...} method.
 * Health checks and similar methods are exempted explicitly ({@link
 * Builder#exemptFromAuthentication}, {@link Builder#exemptFromAudit}); nothing is exempt by
 * default. gRPC reflection is an ordinary service: it is refused unless the policy allows it.
 *
 * <p>Instances are immutable and thread-safe. Build logs one INFO summary of the assembled stack
 * (layers in order with their configuration, exemptions, opt-outs); it contains no secret.
 */
public final class SecurityStack {

  private static final Logger logger = LoggerFactory.getLogger(SecurityStack.class);

  /** The gRPC health service, for {@link Builder#exemptFromAuthentication}. */
  public static final String HEALTH = "grpc.health.v1.Health/*";

  /** Default for {@link Builder#maxRequestMessageBytes}: 4 MiB, grpc-java's own default. */
  public static final int DEFAULT_MAX_REQUEST_MESSAGE_BYTES = 4 * 1024 * 1024;

  /** Default for {@link Builder#maxCallDuration}: 5 minutes. */
  public static final Duration DEFAULT_MAX_CALL_DURATION = Duration.ofMinutes(5);

  private static final Pattern METHOD_PATTERN =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*/(\\*|[A-Za-z_][A-Za-z0-9_]*)");
  private static final int CHAIN_CACHE_BOUND = 10_000;

  // Builders a stack was applied to; identity semantics (ServerBuilder does not override equals).
  private static final Set<Object> APPLIED = Collections.newSetFromMap(new WeakHashMap<>());

  private final Map<Slot, SecurityLayer> layers; // outermost first, present ones only
  private final Map<String, EnumSet<Slot>> exemptions; // pattern -> slots skipped
  private final int maxRequestMessageBytes;
  private final String summary;
  private final ServerInterceptor[] fullChain;
  private final List<CallObserver> observers;
  private final EnumSet<Slot> optedOut;
  private final Duration maxCallDuration;
  private final List<PostureSource> postureSources;
  private final ConcurrentMap<String, ServerInterceptor[]> chains = new ConcurrentHashMap<>();

  private SecurityStack(Builder b) {
    this.layers = Collections.unmodifiableMap(new EnumMap<>(b.layers));
    Map<String, EnumSet<Slot>> ex = new LinkedHashMap<>();
    b.exemptions.forEach((k, v) -> ex.put(k, EnumSet.copyOf(v)));
    this.exemptions = Collections.unmodifiableMap(ex);
    this.maxRequestMessageBytes = b.maxRequestMessageBytes;
    this.observers = List.copyOf(b.observers);
    this.optedOut = EnumSet.copyOf(b.optedOut);
    this.maxCallDuration = b.maxCallDuration;
    this.postureSources = List.copyOf(b.postureSources);
    this.fullChain = chainSkipping(EnumSet.noneOf(Slot.class));
    this.summary = summarize(b);
  }

  /** Starts a stack; the correlation layer and the deadline cap are already in it. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The layers, outermost first. Unmodifiable. */
  public List<SecurityLayer> layers() {
    return List.copyOf(layers.values());
  }

  /** The start-up summary logged by {@link Builder#build()}: layers, exemptions, opt-outs. */
  public String summary() {
    return summary;
  }

  /**
   * Makes a posture report from the configuration as it is now: the stack's own items (layers in
   * order, each start-up check and whether it was opted out of, exemptions, request size and call
   * duration caps), then every layer's {@link SecurityLayer#posture()} outermost first, then the
   * {@linkplain Builder#postureFrom other sources} in the order they were added. A source that
   * throws contributes one {@code posture.source_failed} item (WARN) instead. Safe to call at any
   * time from any thread; it reads the layers' live state (a reloaded policy, a rotated
   * certificate), so each call may differ.
   */
  public PostureReport posture() {
    return posture(Clock.systemUTC());
  }

  /** {@link #posture()} with the given clock for {@code generatedAt}. */
  public PostureReport posture(Clock clock) {
    requireNonNull(clock, "clock");
    List<PostureItem> items = new ArrayList<>(StackPosture.items(this));
    for (SecurityLayer layer : layers.values()) {
      StackPosture.collect(layer, items);
    }
    for (PostureSource source : postureSources) {
      StackPosture.collect(source, items);
    }
    return new PostureReport(clock.instant(), items);
  }

  Map<Slot, SecurityLayer> layersBySlot() {
    return layers;
  }

  Map<String, EnumSet<Slot>> exemptions() {
    return exemptions;
  }

  Set<Slot> optedOut() {
    return optedOut;
  }

  int maxRequestMessageBytes() {
    return maxRequestMessageBytes;
  }

  Duration maxCallDuration() {
    return maxCallDuration;
  }

  /**
   * Wraps one service so that its calls pass through the stack in canonical order, with guarded
   * request parsing (see the class javadoc).
   *
   * @throws IllegalStateException if the service was already wrapped by a stack
   */
  public ServerServiceDefinition wrap(ServerServiceDefinition service) {
    requireNonNull(service, "service");
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guard(method);
      descriptor.addMethod(guarded.getMethodDescriptor());
      methods.add(guarded);
    }
    ServerServiceDefinition.Builder wrapped = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> m : methods) {
      wrapped.addMethod(m);
    }
    return wrapped.build();
  }

  /** Wraps one service; see {@link #wrap(ServerServiceDefinition)}. */
  public ServerServiceDefinition wrap(BindableService service) {
    return wrap(requireNonNull(service, "service").bindService());
  }

  /**
   * Installs the stack on a server builder: a server-wide interceptor that runs the stack for every
   * call not already running it through a {@linkplain #wrap wrapped} service, and a fallback
   * handler registry that authenticates, audits and answers {@code UNIMPLEMENTED} to unknown
   * methods. It replaces any fallback registry set before. Interceptors added to the builder before
   * this call run inside the stack, next to the service; those added after run outside it, and for
   * {@linkplain #wrap wrapped} services their listeners may see, in {@code onMessage}, a marker
   * object that is not of the request type where a request did not parse (the stack refuses that
   * call right after): such an interceptor must not cast request messages to their concrete type.
   *
   * @throws IllegalStateException if a stack was already applied to this builder
   */
  public <T extends ServerBuilder<T>> T applyTo(T serverBuilder) {
    requireNonNull(serverBuilder, "serverBuilder");
    synchronized (APPLIED) {
      if (!APPLIED.add(serverBuilder)) {
        throw new IllegalStateException(
            "a SecurityStack is already applied to this server builder; apply one stack once");
      }
    }
    serverBuilder.intercept(new ServerWide());
    serverBuilder.fallbackHandlerRegistry(new UnknownMethodRegistry(this));
    return serverBuilder;
  }

  /** The interceptors for a call of {@code fullMethodName}, outermost first. */
  ServerInterceptor[] chainFor(String fullMethodName) {
    if (exemptions.isEmpty()) {
      return fullChain;
    }
    ServerInterceptor[] chain = chains.get(fullMethodName);
    if (chain != null) {
      return chain;
    }
    EnumSet<Slot> skipped = EnumSet.noneOf(Slot.class);
    String service = MethodDescriptor.extractFullServiceName(fullMethodName);
    for (Map.Entry<String, EnumSet<Slot>> e : exemptions.entrySet()) {
      String pattern = e.getKey();
      boolean matches =
          pattern.endsWith("/*")
              ? pattern.substring(0, pattern.length() - 2).equals(service)
              : pattern.equals(fullMethodName);
      if (matches) {
        skipped.addAll(e.getValue());
      }
    }
    chain = skipped.isEmpty() ? fullChain : chainSkipping(skipped);
    if (chains.size() < CHAIN_CACHE_BOUND) { // bounded: names come from the server's own services
      chains.put(fullMethodName, chain);
    }
    return chain;
  }

  /** The chain for unknown methods: up to and including authentication, never exempt. */
  ServerInterceptor[] unknownMethodChain() {
    List<ServerInterceptor> chain = new ArrayList<>();
    for (ServerInterceptor i : fullChain) {
      chain.add(i instanceof ObservingInterceptor ? new ObservingInterceptor(observers, false) : i);
      if (i instanceof SecurityLayer l && l.slot() == Slot.AUTHENTICATION) {
        break;
      }
    }
    return chain.toArray(new ServerInterceptor[0]);
  }

  private ServerInterceptor[] chainSkipping(Set<Slot> skipped) {
    List<ServerInterceptor> chain = new ArrayList<>();
    for (SecurityLayer layer : layers.values()) {
      if (skipped.contains(layer.slot())) {
        continue;
      }
      chain.add(layer);
      if (layer.slot() == Slot.AUDIT) {
        chain.add(CallGuard.INSTANCE);
      }
    }
    if (!layers.containsKey(Slot.AUDIT) || skipped.contains(Slot.AUDIT)) {
      // Still turn every transport-level exit into a proper close, right after correlation.
      chain.add(1, CallGuard.INSTANCE);
    }
    // Innermost: layers that must see responses as the service sent them (before masking).
    chain.add(ResponseTap.INSTANCE);
    if (!observers.isEmpty()) {
      // Right inside correlation: outside audit and the guard, so it sees the final status.
      chain.add(1, new ObservingInterceptor(observers, true));
    }
    return chain.toArray(new ServerInterceptor[0]);
  }

  static <ReqT, RespT> ServerCallHandler<ReqT, RespT> chain(
      ServerInterceptor[] outermostFirst, ServerCallHandler<ReqT, RespT> handler) {
    ServerCallHandler<ReqT, RespT> h = handler;
    for (int i = outermostFirst.length - 1; i >= 0; i--) {
      ServerInterceptor interceptor = outermostFirst[i];
      ServerCallHandler<ReqT, RespT> next = h;
      h = (call, headers) -> interceptor.interceptCall(call, headers, next);
    }
    return h;
  }

  private <ReqT, RespT> ServerMethodDefinition<ReqT, RespT> guard(
      ServerMethodDefinition<ReqT, RespT> method) {
    MethodDescriptor<ReqT, RespT> md = method.getMethodDescriptor();
    if (md.getRequestMarshaller() instanceof GuardedMarshaller) {
      throw new IllegalStateException(
          md.getServiceName() + " is already wrapped by a SecurityStack; wrap a service once");
    }
    MethodDescriptor<ReqT, RespT> guarded =
        md.toBuilder(
                new GuardedMarshaller<>(md.getRequestMarshaller(), maxRequestMessageBytes),
                md.getResponseMarshaller())
            .build();
    ServerCallHandler<ReqT, RespT> service = method.getServerCallHandler();
    ServerCallHandler<ReqT, RespT> chained = chain(chainFor(md.getFullMethodName()), service);
    return ServerMethodDefinition.create(
        guarded,
        (call, headers) -> {
          // Applied to the server, the stack already ran outside (and inside every interceptor
          // added to the builder before it): run it once.
          CallFacts facts = CallFacts.current();
          return facts != null && facts.inSecurityStack()
              ? service.startCall(call, headers)
              : chained.startCall(call, headers);
        });
  }

  /**
   * Runs the stack for every call, wrapped services included (their handler then skips it), so that
   * interceptors added to the builder before {@link #applyTo} sit inside the stack.
   */
  private final class ServerWide implements ServerInterceptor {
    // The chained handler per method, built once: grpc-java passes the same handler for a method
    // on every call unless interceptors were added to the builder before the stack (then their
    // handler is new per call, and the chain is built per call as before).
    private final ConcurrentMap<MethodDescriptor<?, ?>, Chained<?, ?>> chained =
        new ConcurrentHashMap<>();

    @Override
    // unchecked: the map holds, per descriptor, handlers of its own types; identity: "the same
    // handler as when the chain was built"
    @SuppressWarnings({"unchecked", "ReferenceEquality"})
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      MethodDescriptor<ReqT, RespT> md = call.getMethodDescriptor();
      if (md.getRequestMarshaller() instanceof UnknownMethodRegistry.RawMarshaller) {
        return next.startCall(call, headers); // the unknown-method handler runs its own chain
      }
      Chained<ReqT, RespT> c = (Chained<ReqT, RespT>) chained.get(md);
      if (c == null || c.next != next) {
        c = new Chained<>(next, chain(chainFor(md.getFullMethodName()), next));
        if (chained.size() < CHAIN_CACHE_BOUND) { // bounded: the server's own methods
          chained.put(md, c);
        }
      }
      return c.handler.startCall(call, headers);
    }
  }

  /** A method's handler with the stack in front of it. Immutable. */
  private static final class Chained<ReqT, RespT> {
    final ServerCallHandler<ReqT, RespT> next;
    final ServerCallHandler<ReqT, RespT> handler;

    Chained(ServerCallHandler<ReqT, RespT> next, ServerCallHandler<ReqT, RespT> handler) {
      this.next = next;
      this.handler = handler;
    }
  }

  private String summarize(Builder b) {
    StringJoiner order = new StringJoiner(" -> ");
    for (SecurityLayer layer : layers.values()) {
      order.add(
          layer.slot().name().toLowerCase(java.util.Locale.ROOT) + "[" + layer.describe() + "]");
    }
    StringBuilder s = new StringBuilder("hipaa-grpc SecurityStack: ").append(order);
    s.append("; max request message ").append(maxRequestMessageBytes).append(" bytes");
    if (!exemptions.isEmpty()) {
      s.append("; exemptions ").append(exemptions);
    }
    if (!b.optedOut.isEmpty()) {
      s.append("; UNSAFE opt-outs: no ").append(b.optedOut);
    }
    return s.toString();
  }

  /** Collects the layers. Each setter may be called at most once. Not thread-safe. */
  public static final class Builder {
    private final Map<Slot, SecurityLayer> layers = new EnumMap<>(Slot.class);
    private final Map<String, EnumSet<Slot>> exemptions = new LinkedHashMap<>();
    private final EnumSet<Slot> optedOut = EnumSet.noneOf(Slot.class);
    private int maxRequestMessageBytes = DEFAULT_MAX_REQUEST_MESSAGE_BYTES;
    private Duration maxCallDuration = DEFAULT_MAX_CALL_DURATION;
    private final List<CallObserver> observers = new ArrayList<>();
    private final List<PostureSource> postureSources = new ArrayList<>();

    private Builder() {
      layers.put(Slot.CORRELATION, CorrelationIdServerInterceptor.create());
    }

    private Builder set(Slot slot, SecurityLayer layer) {
      requireNonNull(layer, slot.name().toLowerCase(java.util.Locale.ROOT));
      if (layer.slot() != slot) {
        throw new IllegalArgumentException(
            layer.describe()
                + " is a "
                + layer.slot()
                + " layer and cannot fill the "
                + slot
                + " slot");
      }
      if (layers.containsKey(slot) && slot != Slot.CORRELATION) {
        throw new IllegalStateException(slot + " layer is already set");
      }
      layers.put(slot, layer);
      return this;
    }

    /**
     * Adds an observer told once about every call when it ends (metrics, tracing); see {@link
     * CallObserver}. Default: none (and then no per-call cost).
     */
    public Builder observe(CallObserver observer) {
      observers.add(requireNonNull(observer, "observer"));
      return this;
    }

    /**
     * Adds a source of {@linkplain #posture() posture} items that is not a layer: the TLS server
     * credentials ({@code MtlsServerCredentials.posture(credentials)}), a certificate expiry
     * monitor, an audit log. Asked each time a report is made, after the layers, in the order
     * added. Default: none.
     */
    public Builder postureFrom(PostureSource source) {
      postureSources.add(requireNonNull(source, "source"));
      return this;
    }

    /** Replaces the default correlation layer (for example to share one instance). */
    public Builder correlation(SecurityLayer layer) {
      return set(Slot.CORRELATION, layer);
    }

    /** The audit layer: outside everything that can end a call, so every exit is audited. */
    public Builder audit(SecurityLayer layer) {
      return set(Slot.AUDIT, layer);
    }

    /** The transport guard: refuses calls that did not arrive over acceptable TLS. */
    public Builder transportGuard(SecurityLayer layer) {
      return set(Slot.TRANSPORT_GUARD, layer);
    }

    /** The authentication layer: establishes the {@link Principal}. */
    public Builder authentication(SecurityLayer layer) {
      return set(Slot.AUTHENTICATION, layer);
    }

    /** The authorization layer: default-deny policy. */
    public Builder authorization(SecurityLayer layer) {
      return set(Slot.AUTHORIZATION, layer);
    }

    /** The rate limiter. */
    public Builder rateLimit(SecurityLayer layer) {
      return set(Slot.RATE_LIMIT, layer);
    }

    /** The status sanitizer: generic errors with the correlation id. */
    public Builder statusSanitizer(SecurityLayer layer) {
      return set(Slot.STATUS_SANITIZER, layer);
    }

    /** The request validation layer: after authorization, before the service. */
    public Builder validation(SecurityLayer layer) {
      return set(Slot.VALIDATION, layer);
    }

    /** The masking layer: innermost, next to the service. */
    public Builder masking(SecurityLayer layer) {
      return set(Slot.MASKING, layer);
    }

    /**
     * The longest a call may run, whatever deadline the client asked for (default 5 minutes); calls
     * at the cap are closed {@code DEADLINE_EXCEEDED} through the audit layer.
     */
    public Builder maxCallDuration(Duration maxCallDuration) {
      requireNonNull(maxCallDuration, "maxCallDuration");
      if (maxCallDuration.isNegative() || maxCallDuration.isZero()) {
        throw new IllegalArgumentException("maxCallDuration must be positive");
      }
      this.maxCallDuration = maxCallDuration;
      return this;
    }

    /**
     * The largest request message a {@linkplain SecurityStack#wrap wrapped} service accepts
     * (default {@value #DEFAULT_MAX_REQUEST_MESSAGE_BYTES}); larger ones are refused {@code
     * RESOURCE_EXHAUSTED} and audited. Keep the transport's own {@code maxInboundMessageSize} at
     * least this large: the transport refuses past the interceptors, unaudited.
     */
    public Builder maxRequestMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxRequestMessageBytes must be positive");
      }
      this.maxRequestMessageBytes = bytes;
      return this;
    }

    /**
     * Lets calls of the given methods through without authentication and authorization (for example
     * {@link SecurityStack#HEALTH}, whose probes carry no token). They are still audited and still
     * pass the transport guard.
     *
     * @param methodPatterns full method names ({@code pkg.Service/Method}) or whole services
     *     ({@code pkg.Service/*})
     */
    public Builder exemptFromAuthentication(String... methodPatterns) {
      return exempt(methodPatterns, EnumSet.of(Slot.AUTHENTICATION, Slot.AUTHORIZATION));
    }

    /**
     * Does not audit calls of the given methods (for example frequent health probes). Only methods
     * also {@linkplain #exemptFromAuthentication exempt from authentication} may be exempt from
     * audit: a method that serves a caller's identity serves PHI.
     */
    public Builder exemptFromAudit(String... methodPatterns) {
      return exempt(methodPatterns, EnumSet.of(Slot.AUDIT));
    }

    private Builder exempt(String[] patterns, EnumSet<Slot> slots) {
      requireNonNull(patterns, "methodPatterns");
      for (String p : patterns) {
        requireNonNull(p, "methodPattern");
        if (!METHOD_PATTERN.matcher(p).matches()) {
          throw new IllegalArgumentException(
              "exemption must be pkg.Service/Method or pkg.Service/*, got: " + p);
        }
        exemptions.computeIfAbsent(p, k -> EnumSet.noneOf(Slot.class)).addAll(slots);
      }
      return this;
    }

    /**
     * DANGEROUS: builds a stack without an audit layer. Calls then leave no audit record, which 45
     * CFR 164.312(b) requires for every system that holds PHI. Only for a service that serves no
     * PHI at all.
     */
    public Builder allowUnsafeWithoutAudit() {
      optedOut.add(Slot.AUDIT);
      return this;
    }

    /**
     * DANGEROUS: builds a stack without the transport guard. Calls that arrived over plaintext or
     * an unacceptable TLS session are then served. Only behind a proxy that terminates TLS on the
     * same host and that you trust with PHI.
     */
    public Builder allowUnsafeWithoutTransportGuard() {
      optedOut.add(Slot.TRANSPORT_GUARD);
      return this;
    }

    /**
     * DANGEROUS: builds a stack without authentication. Every caller is then anonymous; policies
     * that require a role or a scope refuse everything, and any that do not serve everyone.
     */
    public Builder allowUnsafeWithoutAuthentication() {
      optedOut.add(Slot.AUTHENTICATION);
      return this;
    }

    /**
     * DANGEROUS: builds a stack without authorization. Every authenticated caller may then call
     * every method: no default deny, no patient or tenant scoping, no break-glass record.
     */
    public Builder allowUnsafeWithoutAuthorization() {
      optedOut.add(Slot.AUTHORIZATION);
      return this;
    }

    /**
     * Returns the immutable stack and logs its summary.
     *
     * @throws IllegalStateException if a required layer (audit, transport guard, authentication,
     *     authorization) is missing and not opted out, if an opt-out contradicts a layer that is
     *     set, or if an audit exemption is not also an authentication exemption
     */
    public SecurityStack build() {
      for (Slot slot : optedOut) {
        if (layers.containsKey(slot)) {
          throw new IllegalStateException(
              "the " + slot + " layer is set and also opted out; remove one of the two");
        }
      }
      for (StackPosture.RequiredLayer required : StackPosture.REQUIRED) {
        if (!layers.containsKey(required.slot()) && !optedOut.contains(required.slot())) {
          throw new IllegalStateException(required.refusal());
        }
      }
      for (Map.Entry<String, EnumSet<Slot>> e : exemptions.entrySet()) {
        if (e.getValue().contains(Slot.AUDIT) && !e.getValue().contains(Slot.AUTHENTICATION)) {
          throw new IllegalStateException(
              "exemptFromAudit(\""
                  + e.getKey()
                  + "\") needs exemptFromAuthentication for the same methods: an authenticated"
                  + " call must be audited");
        }
      }
      layers.put(Slot.DEADLINE_CAP, new DeadlineCap(maxCallDuration));
      SecurityStack stack = new SecurityStack(this);
      layers.remove(Slot.DEADLINE_CAP);
      if (optedOut.isEmpty()) {
        logger.info("{}", stack.summary());
      } else {
        logger.warn("{}", stack.summary());
      }
      return stack;
    }
  }
}
