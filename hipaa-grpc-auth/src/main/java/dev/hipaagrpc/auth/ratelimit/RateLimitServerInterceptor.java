package dev.hipaagrpc.auth.ratelimit;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.MethodPatterns;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Token-bucket rate limits per caller and per method group, with limits set by role, in this JVM or
 * in a store that replicas share.
 *
 * <p>Each caller (issuer and subject of the {@link Principal} under {@link CallFacts#principal()})
 * has one bucket per method group. The limit of a bucket is, inside a {@linkplain
 * Builder#methodGroup method group}, the most generous {@linkplain Builder#methodGroupRoleLimit
 * role limit of that group} among the caller's roles, else the group's limit; outside any group,
 * the most generous {@linkplain Builder#roleLimit role limit} among the caller's roles, else the
 * {@linkplain Builder#defaultLimit default limit}. Calls without a principal share one bucket
 * ({@code anonymous}) under the default limit: install this interceptor inside authentication.
 *
 * <p>The decision is made before any request message is read or deserialized: in {@code
 * interceptCall} for the in-memory store, or when a {@linkplain Builder#sharedStore shared store}
 * answers (the call waits without a thread and without asking for its request). Over the limit, the
 * call is closed with {@code RESOURCE_EXHAUSTED}, the fixed description {@code "Rate limit exceeded
 * (correlation id: ...)"} and a {@code google.rpc.RetryInfo} detail (in the {@code
 * grpc-status-details-bin} trailer) saying when a permit will be available.
 *
 * <p>When the store cannot decide (it throws, fails or times out), the call's {@link Priority}
 * applies: by default {@link Priority#LOCAL_FALLBACK} (a bucket in this JVM with the same limit);
 * {@link Priority#FAIL_CLOSED} refuses with {@code UNAVAILABLE}; {@link Priority#NEVER_LIMITED}
 * calls (break-glass by default) never consult a store. Such decisions are counted ({@link
 * #storeFailures()}) and logged at most once per {@linkplain Builder#storeFailureLogPeriod period}.
 *
 * <p>Thread-safe.
 */
public final class RateLimitServerInterceptor implements SecurityLayer {

  private static final Logger logger = LoggerFactory.getLogger(RateLimitServerInterceptor.class);
  private static final String DEFAULT_GROUP = "default";
  private static final String ANONYMOUS = "anonymous";

  /**
   * What a call of a method group (or a break-glass call) gets when the store cannot decide, and
   * whether it is limited at all.
   */
  public enum Priority {
    /**
     * Never limited and never refused by the limiter: no store is consulted. For break-glass (the
     * default for break-glass calls) and treatment paths whose delay would harm a patient.
     */
    NEVER_LIMITED,
    /**
     * Limited by the store; when the store cannot decide, by a bucket in this JVM with the same
     * limit (fail open to one replica's limit: N replicas admit at most N times the limit). The
     * default: clinical work continues through an outage and stays bounded.
     */
    LOCAL_FALLBACK,
    /** Limited by the store; when the store cannot decide, refused with {@code UNAVAILABLE}. */
    FAIL_CLOSED
  }

  private static final String OVER_LIMIT = "Rate limit exceeded";
  private static final String OVER_CONCURRENCY = "Concurrent call limit exceeded";
  private static final long CONCURRENCY_RETRY_MILLIS = 1_000;

  private final Clock clock;
  private final @Nullable RateLimitStore store;
  private final @Nullable AsyncRateLimitStore sharedStore;
  private final String storeName;
  private final TokenBuckets fallback;
  private final Executor executor;
  private final Priority breakGlassPriority;
  private final @Nullable InFlightCalls inFlight;
  private final long failureLogPeriodMillis;
  private final AtomicLong storeFailures = new AtomicLong();
  private final AtomicLong nextFailureLog = new AtomicLong(Long.MIN_VALUE);
  private final Group defaultGroup;
  private final Map<String, Group> groupsByMethod;
  private final Map<String, Group> groupsByService;

  private static final class Limit {
    final double permitsPerSecond;
    final long burst;

    Limit(double permitsPerSecond, long burst) {
      if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
        throw new IllegalArgumentException("permitsPerSecond must be positive and finite");
      }
      if (burst < 1) {
        throw new IllegalArgumentException("burst must be at least 1");
      }
      this.permitsPerSecond = permitsPerSecond;
      this.burst = burst;
    }

    boolean moreGenerousThan(Limit other) {
      return permitsPerSecond > other.permitsPerSecond
          || (permitsPerSecond == other.permitsPerSecond && burst > other.burst);
    }
  }

  private static final int RECENT = 64;

  /** A principal's bucket key and limit in one group. */
  private static final class Resolved {
    final @Nullable Principal principal;
    final String key;
    final String caller;
    final Limit limit;

    Resolved(@Nullable Principal principal, String key, String caller, Limit limit) {
      this.principal = principal;
      this.key = key;
      this.caller = caller;
      this.limit = limit;
    }
  }

  private static final class Group {
    final String keyPrefix;
    final Limit limit;
    final Priority priority;
    final Map<String, Limit> byRole;

    /**
     * The key and limit of recent principals, by identity: the verified-token cache hands back the
     * same Principal for the same token, so most calls find theirs here and build no string.
     * Direct-mapped; a collision only recomputes. Entries are immutable.
     */
    private final AtomicReferenceArray<Resolved> recent = new AtomicReferenceArray<>(RECENT);

    Group(String name, Limit limit, Priority priority, Map<String, Limit> byRole) {
      this.keyPrefix = name + '\n';
      this.limit = limit;
      this.priority = priority;
      this.byRole = Map.copyOf(byRole);
    }

    @SuppressWarnings("ReferenceEquality") // identity: the same verified token
    Resolved resolve(@Nullable Principal principal) {
      if (principal == null) {
        return new Resolved(principal, keyPrefix + ANONYMOUS, ANONYMOUS, limit);
      }
      int slot = System.identityHashCode(principal) & (RECENT - 1);
      Resolved r = recent.get(slot);
      if (r != null && r.principal == principal) {
        return r;
      }
      String caller = principal.issuer() + '\n' + principal.subject();
      r = new Resolved(principal, keyPrefix + caller, caller, limitFor(principal));
      recent.set(slot, r);
      return r;
    }

    Limit limitFor(@Nullable Principal principal) {
      Limit best = null;
      if (principal != null && !byRole.isEmpty()) {
        for (String role : principal.roles()) {
          Limit l = byRole.get(role);
          if (l != null && (best == null || l.moreGenerousThan(best))) {
            best = l;
          }
        }
      }
      return best != null ? best : limit;
    }
  }

  private RateLimitServerInterceptor(Builder b) {
    this.clock = b.clock;
    this.sharedStore = b.sharedStore;
    this.store =
        b.sharedStore != null ? null : b.store != null ? b.store : new TokenBuckets(b.maxBuckets);
    Object named = b.sharedStore != null ? b.sharedStore : this.store;
    this.storeName = named == null ? "none" : named.getClass().getSimpleName();
    this.fallback = new TokenBuckets(b.maxBuckets);
    Executor executor = b.executor;
    this.executor = executor != null ? executor : DefaultExecutor.INSTANCE;
    this.breakGlassPriority = b.breakGlassPriority;
    this.inFlight = b.maxConcurrentCalls > 0 ? new InFlightCalls(b.maxConcurrentCalls) : null;
    this.failureLogPeriodMillis = b.storeFailureLogPeriod.toMillis();
    this.defaultGroup = new Group(DEFAULT_GROUP, b.defaultLimit, b.defaultPriority, b.roleLimits);
    Map<String, Group> byMethod = new HashMap<>();
    Map<String, Group> byService = new HashMap<>();
    for (GroupSpec spec : b.groups.values()) {
      Priority p = spec.priority != null ? spec.priority : b.defaultPriority;
      Group g = new Group(spec.name, spec.limit, p, spec.byRole);
      for (String m : spec.methods) {
        if (m.endsWith("/*")) {
          putOnce(byService, m.substring(0, m.length() - 2), g, m);
        } else {
          putOnce(byMethod, m, g, m);
        }
      }
    }
    this.groupsByMethod = Map.copyOf(byMethod);
    this.groupsByService = Map.copyOf(byService);
  }

  private static void putOnce(Map<String, Group> map, String key, Group g, String pattern) {
    if (map.putIfAbsent(key, g) != null) {
      throw new IllegalStateException("method pattern '" + pattern + "' is in two method groups");
    }
  }

  /** Starts configuring a rate limiter. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public Slot slot() {
    return Slot.RATE_LIMIT;
  }

  /**
   * One {@code ratelimit.limits} item: method groups, store, break-glass priority, whether a
   * per-caller concurrency limit applies, and the store failures so far.
   */
  @Override
  public List<PostureItem> posture() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("methodGroups", groupsByMethod.size() + groupsByService.size());
    v.put("store", storeName);
    v.put("breakGlassPriority", breakGlassPriority.name());
    v.put("concurrencyLimitPerCaller", inFlight != null);
    v.put("storeFailures", storeFailures.get());
    return List.of(PostureItem.ok("ratelimit.limits", Safeguard.ACCESS_CONTROL, v));
  }

  @Override
  public String describe() {
    return "RateLimitServerInterceptor: "
        + (groupsByMethod.size() + groupsByService.size())
        + " method groups, store "
        + storeName
        + (inFlight != null ? ", concurrency limit per caller" : "");
  }

  /**
   * The number of decisions the store could not make (it threw, failed or timed out) since this
   * interceptor was built: calls that a {@link Priority#LOCAL_FALLBACK} bucket decided or that
   * {@link Priority#FAIL_CLOSED} refused. A metrics hook: poll it into a gauge or counter.
   */
  public long storeFailures() {
    return storeFailures.get();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Group group = groupsByMethod.get(call.getMethodDescriptor().getFullMethodName());
    if (group == null) {
      String service = call.getMethodDescriptor().getServiceName();
      group = service == null ? null : groupsByService.get(service);
      if (group == null) {
        group = defaultGroup;
      }
    }
    AccessDecision decision = facts.decision();
    Priority priority =
        decision != null && decision.outcome() == AccessDecision.Outcome.BREAK_GLASS
            ? breakGlassPriority
            : group.priority;
    if (priority == Priority.NEVER_LIMITED) {
      return proceed(ctx, call, headers, next);
    }
    Resolved resolved = group.resolve(facts.principal());
    Limit limit = resolved.limit;
    Decision<ReqT, RespT> d = new Decision<>(ctx, facts, call, headers, next, resolved, priority);
    RateLimitStore local = store;
    if (local != null) {
      long wait;
      try {
        wait = local.tryAcquire(resolved.key, limit.burst, limit.permitsPerSecond, clock.millis());
      } catch (RuntimeException e) {
        return d.storeFailed(e);
      }
      return d.decided(wait);
    }
    CompletableFuture<Long> answer;
    try {
      answer =
          requireNonNull(sharedStore)
              .acquire(resolved.key, limit.burst, limit.permitsPerSecond, clock.millis())
              .toCompletableFuture();
    } catch (RuntimeException e) {
      return d.storeFailed(e);
    }
    if (answer.isDone()) {
      try {
        return d.complete(answer.join(), null);
      } catch (CompletionException | CancellationException e) {
        return d.complete(null, e);
      }
    }
    PendingListener<ReqT> pending = new PendingListener<>();
    var unused =
        answer.whenComplete(
            (wait, error) -> {
              Runnable resume =
                  () -> {
                    // The rest of the call starts here, on another thread: keep its log lines'
                    // correlation id (as the correlation layer does on the call's own threads).
                    String previous = MDC.get(CorrelationId.MDC_KEY);
                    MDC.put(CorrelationId.MDC_KEY, d.facts.correlationId());
                    try {
                      pending.setDelegate(d.completeOrFail(wait, error));
                    } finally {
                      if (previous == null) {
                        MDC.remove(CorrelationId.MDC_KEY);
                      } else {
                        MDC.put(CorrelationId.MDC_KEY, previous);
                      }
                    }
                  };
              try {
                executor.execute(resume);
              } catch (RejectedExecutionException e) {
                resume.run(); // an executor shutting down must not strand the call
              }
            });
    return pending;
  }

  /** One call's decision, made now or when the shared store answers. */
  private final class Decision<ReqT, RespT> {
    final Context ctx;
    final CallFacts facts;
    final ServerCall<ReqT, RespT> call;
    final Metadata headers;
    final ServerCallHandler<ReqT, RespT> next;
    final Resolved resolved;
    final Priority priority;

    Decision(
        Context ctx,
        CallFacts facts,
        ServerCall<ReqT, RespT> call,
        Metadata headers,
        ServerCallHandler<ReqT, RespT> next,
        Resolved resolved,
        Priority priority) {
      this.ctx = ctx;
      this.facts = facts;
      this.call = call;
      this.headers = headers;
      this.next = next;
      this.resolved = resolved;
      this.priority = priority;
    }

    ServerCall.Listener<ReqT> complete(@Nullable Long wait, @Nullable Throwable error) {
      if (ctx.isCancelled()) {
        // The caller left (deadline, cancellation) while the store answered: nothing to start.
        return Refusals.ignoring();
      }
      if (error != null || wait == null) {
        return storeFailed(error);
      }
      return decided(wait);
    }

    /**
     * {@link #complete} off the transport's thread: what the inner layers throw from {@code
     * startCall} ends the call here as grpc would have ended it there ({@code UNKNOWN}), instead of
     * leaving it to its deadline.
     */
    ServerCall.Listener<ReqT> completeOrFail(@Nullable Long wait, @Nullable Throwable error) {
      try {
        return complete(wait, error);
      } catch (RuntimeException e) {
        logger.warn(
            "call failed to start after the rate-limit decision ({}; correlationId={})",
            e.getClass().getName(),
            facts.correlationId());
        try {
          return Refusals.refuse(call, Status.Code.UNKNOWN, "Internal error", facts);
        } catch (RuntimeException alreadyClosed) {
          return Refusals.ignoring();
        }
      }
    }

    ServerCall.Listener<ReqT> storeFailed(@Nullable Throwable error) {
      countStoreFailure(error, facts);
      if (priority == Priority.FAIL_CLOSED) {
        return Refusals.refuse(call, Status.Code.UNAVAILABLE, "Rate limiter unavailable", facts);
      }
      Limit limit = resolved.limit;
      return decided(
          fallback.tryAcquire(resolved.key, limit.burst, limit.permitsPerSecond, clock.millis()));
    }

    ServerCall.Listener<ReqT> decided(long wait) {
      if (wait > 0) {
        logger.debug(
            "rate limit exceeded: method={} correlationId={}",
            call.getMethodDescriptor().getFullMethodName(),
            facts.correlationId());
        return Exhausted.refuse(call, OVER_LIMIT, wait, facts);
      }
      InFlightCalls calls = inFlight;
      if (calls == null) {
        return proceed(ctx, call, headers, next);
      }
      String caller = resolved.caller;
      if (!calls.tryEnter(caller)) {
        return Exhausted.refuse(call, OVER_CONCURRENCY, CONCURRENCY_RETRY_MILLIS, facts);
      }
      try {
        return calls.releasingOnEnd(proceed(ctx, call, headers, next), caller);
      } catch (RuntimeException | Error e) {
        calls.exit(caller);
        throw e;
      }
    }
  }

  private void countStoreFailure(@Nullable Throwable error, CallFacts facts) {
    long failures = storeFailures.incrementAndGet();
    long now = clock.millis();
    long due = nextFailureLog.get();
    if (now >= due && nextFailureLog.compareAndSet(due, now + failureLogPeriodMillis)) {
      Throwable cause =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      // Class name only: a store's exception text may carry the key or its address.
      logger.warn(
          "rate limit store cannot decide ({}): {} decisions without it so far; LOCAL_FALLBACK"
              + " calls use this replica's buckets, FAIL_CLOSED calls are refused; next report in"
              + " {} s at the earliest (correlationId={})",
          cause == null ? "no answer" : cause.getClass().getName(),
          failures,
          failureLogPeriodMillis / 1000,
          facts.correlationId());
    }
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> proceed(
      Context ctx,
      ServerCall<ReqT, RespT> call,
      Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    // An outer layer that already made this context current also restores it for callbacks.
    return ctx.equals(Context.current())
        ? next.startCall(call, headers)
        : Contexts.interceptCall(ctx, call, headers, next);
  }

  private static final class GroupSpec {
    final String name;
    final Limit limit;
    final String[] methods;
    final Map<String, Limit> byRole = new LinkedHashMap<>();
    @Nullable Priority priority; // null: the builder's default priority

    GroupSpec(String name, Limit limit, String[] methods) {
      this.name = name;
      this.limit = limit;
      this.methods = methods;
    }
  }

  /** Configures a {@link RateLimitServerInterceptor}. Not thread-safe. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private @Nullable RateLimitStore store;
    private @Nullable AsyncRateLimitStore sharedStore;
    private @Nullable Executor executor;
    private Priority defaultPriority = Priority.LOCAL_FALLBACK;
    private Priority breakGlassPriority = Priority.NEVER_LIMITED;
    private int maxConcurrentCalls;
    private Duration storeFailureLogPeriod = Duration.ofMinutes(1);
    private int maxBuckets = 100_000;
    private boolean maxBucketsSet;
    private Limit defaultLimit = new Limit(50, 100);
    private final Map<String, Limit> roleLimits = new LinkedHashMap<>();
    private final Map<String, GroupSpec> groups = new LinkedHashMap<>();

    private Builder() {}

    /**
     * The limit of callers with no more specific limit, outside method groups. Default: 50 permits
     * per second, burst 100.
     *
     * @throws IllegalArgumentException unless {@code permitsPerSecond > 0} and {@code burst >= 1}
     */
    public Builder defaultLimit(double permitsPerSecond, long burst) {
      this.defaultLimit = new Limit(permitsPerSecond, burst);
      return this;
    }

    /**
     * The limit of callers holding {@code role}, outside method groups; a caller with several
     * limited roles gets the most generous. Default: none.
     */
    public Builder roleLimit(String role, double permitsPerSecond, long burst) {
      roleLimits.put(requireNonBlank(role, "role"), new Limit(permitsPerSecond, burst));
      return this;
    }

    /**
     * A method group: calls to these methods ({@code pkg.Service/Method} or {@code pkg.Service/*})
     * draw on a separate bucket per caller, with this limit. Default: no groups.
     */
    public Builder methodGroup(
        String group, double permitsPerSecond, long burst, String... methods) {
      requireNonBlank(group, "group");
      if (group.equals(DEFAULT_GROUP) || groups.containsKey(group)) {
        throw new IllegalArgumentException("method group '" + group + "' already exists");
      }
      if (methods.length == 0) {
        throw new IllegalArgumentException("method group '" + group + "' names no methods");
      }
      for (String m : methods) {
        if (!MethodPatterns.matches(requireNonNull(m, "method"))) {
          throw new IllegalArgumentException(
              "'" + m + "' is not 'pkg.Service/Method' or 'pkg.Service/*'");
        }
      }
      groups.put(group, new GroupSpec(group, new Limit(permitsPerSecond, burst), methods.clone()));
      return this;
    }

    /** The limit, inside method group {@code group}, of callers holding {@code role}. */
    public Builder methodGroupRoleLimit(
        String group, String role, double permitsPerSecond, long burst) {
      GroupSpec spec = groups.get(group);
      if (spec == null) {
        throw new IllegalArgumentException("no method group '" + group + "': add it first");
      }
      spec.byRole.put(requireNonBlank(role, "role"), new Limit(permitsPerSecond, burst));
      return this;
    }

    /** The clock that refills buckets. Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Where buckets live. Default: {@link RateLimitStore#inMemory} of {@link #maxBuckets}. */
    public Builder store(RateLimitStore store) {
      this.store = requireNonNull(store, "store");
      return this;
    }

    /**
     * Keeps buckets in a store that replicas share (Redis: {@code RedisRateLimitStore} of module
     * {@code hipaa-grpc-ratelimit-redis}), answered asynchronously; when it cannot decide, each
     * call's {@link Priority} applies, and {@link #maxBuckets} bounds the local fallback buckets.
     * Default: none (buckets in memory).
     */
    public Builder sharedStore(AsyncRateLimitStore store) {
      this.sharedStore = requireNonNull(store, "store");
      return this;
    }

    /**
     * Where a call continues when the shared store answers (the layers inside this one and the
     * service's {@code startCall} run there). Pass the server's executor. Default: daemon threads
     * created on demand and dropped after a minute idle.
     */
    public Builder executor(Executor executor) {
      this.executor = requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The priority of calls outside method groups, and of groups without {@link
     * #methodGroupPriority}. Default: {@link Priority#LOCAL_FALLBACK}.
     *
     * @throws IllegalArgumentException for {@link Priority#NEVER_LIMITED}: that would remove every
     *     limit; give it to named method groups instead
     */
    public Builder defaultPriority(Priority priority) {
      if (requireNonNull(priority, "priority") == Priority.NEVER_LIMITED) {
        throw new IllegalArgumentException(
            "NEVER_LIMITED as the default removes every limit: give it to method groups instead");
      }
      this.defaultPriority = priority;
      return this;
    }

    /** The priority of method group {@code group}. Default: {@link #defaultPriority}. */
    public Builder methodGroupPriority(String group, Priority priority) {
      GroupSpec spec = groups.get(group);
      if (spec == null) {
        throw new IllegalArgumentException("no method group '" + group + "': add it first");
      }
      spec.priority = requireNonNull(priority, "priority");
      return this;
    }

    /**
     * The priority of break-glass calls (authorization recorded a {@code BREAK_GLASS} decision),
     * whatever their method group. Default: {@link Priority#NEVER_LIMITED}: emergency access is
     * recorded and reviewed afterwards, never delayed.
     *
     * @throws IllegalArgumentException for {@link Priority#FAIL_CLOSED}: a store outage must never
     *     refuse emergency access
     */
    public Builder breakGlassPriority(Priority priority) {
      if (requireNonNull(priority, "priority") == Priority.FAIL_CLOSED) {
        throw new IllegalArgumentException(
            "break-glass must not fail closed: a store outage would refuse emergency access");
      }
      this.breakGlassPriority = priority;
      return this;
    }

    /**
     * Also limits each caller to {@code max} calls in flight at once on this replica (across method
     * groups; {@link Priority#NEVER_LIMITED} calls are not counted). A call over the bound is
     * refused with {@code RESOURCE_EXHAUSTED}, {@code "Concurrent call limit exceeded (correlation
     * id: ...)"} and a one-second {@code RetryInfo}. Default: no concurrency limit.
     *
     * @throws IllegalArgumentException if {@code max < 1}
     */
    public Builder maxConcurrentCallsPerCaller(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("max must be at least 1");
      }
      this.maxConcurrentCalls = max;
      return this;
    }

    /**
     * The least time between two log lines about store failures (each carries the count so far).
     * Default: one minute.
     *
     * @throws IllegalArgumentException unless positive
     */
    public Builder storeFailureLogPeriod(Duration period) {
      if (requireNonNull(period, "period").isNegative() || period.isZero()) {
        throw new IllegalArgumentException("period must be positive");
      }
      this.storeFailureLogPeriod = period;
      return this;
    }

    /**
     * The bound on the default in-memory store's buckets, and on the local fallback buckets of a
     * {@link #sharedStore}. Default: 100,000 (a few MB).
     *
     * @throws IllegalArgumentException if below 16
     */
    public Builder maxBuckets(int maxBuckets) {
      if (maxBuckets < 16) {
        throw new IllegalArgumentException("maxBuckets must be at least 16");
      }
      this.maxBuckets = maxBuckets;
      this.maxBucketsSet = true;
      return this;
    }

    /**
     * Returns the interceptor.
     *
     * @throws IllegalStateException if a method is in two groups, both {@link #store} and {@link
     *     #maxBuckets} or both {@link #store} and {@link #sharedStore} were set
     */
    public RateLimitServerInterceptor build() {
      if (store != null && sharedStore != null) {
        throw new IllegalStateException("set store or sharedStore, not both");
      }
      if (store != null && maxBucketsSet) {
        throw new IllegalStateException(
            "maxBuckets bounds the default in-memory store only: bound your own store instead");
      }
      return new RateLimitServerInterceptor(this);
    }
  }
}
