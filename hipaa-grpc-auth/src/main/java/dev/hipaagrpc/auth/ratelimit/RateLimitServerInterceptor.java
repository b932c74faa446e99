package dev.hipaagrpc.auth.ratelimit;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.MethodPatterns;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.protobuf.StatusProto;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token-bucket rate limits per caller and per method group, with limits set by role.
 *
 * <p>Each caller (issuer and subject of the {@link Principal} under {@link CallFacts#principal()})
 * has one bucket per method group. The limit of a bucket is, inside a {@linkplain
 * Builder#methodGroup method group}, the most generous {@linkplain Builder#methodGroupRoleLimit
 * role limit of that group} among the caller's roles, else the group's limit; outside any group,
 * the most generous {@linkplain Builder#roleLimit role limit} among the caller's roles, else the
 * {@linkplain Builder#defaultLimit default limit}. Calls without a principal share one bucket
 * ({@code anonymous}) under the default limit: install this interceptor inside authentication.
 *
 * <p>The decision is made in {@code interceptCall}, before any request message is read or
 * deserialized. Over the limit, the call is closed with {@code RESOURCE_EXHAUSTED}, the fixed
 * description {@code "Rate limit exceeded (correlation id: ...)"} and a {@code
 * google.rpc.RetryInfo} detail (in the {@code grpc-status-details-bin} trailer) saying when a
 * permit will be available. If the {@link RateLimitStore} fails, the call is refused with {@code
 * UNAVAILABLE}.
 *
 * <p>Thread-safe.
 */
public final class RateLimitServerInterceptor implements SecurityLayer {

  private static final Logger logger = LoggerFactory.getLogger(RateLimitServerInterceptor.class);
  private static final String DEFAULT_GROUP = "default";
  private static final String ANONYMOUS = "anonymous";

  private final Clock clock;
  private final RateLimitStore store;
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
    final Limit limit;

    Resolved(@Nullable Principal principal, String key, Limit limit) {
      this.principal = principal;
      this.key = key;
      this.limit = limit;
    }
  }

  private static final class Group {
    final String keyPrefix;
    final Limit limit;
    final Map<String, Limit> byRole;

    /**
     * The key and limit of recent principals, by identity: the verified-token cache hands back the
     * same Principal for the same token, so most calls find theirs here and build no string.
     * Direct-mapped; a collision only recomputes. Entries are immutable.
     */
    private final AtomicReferenceArray<Resolved> recent = new AtomicReferenceArray<>(RECENT);

    Group(String name, Limit limit, Map<String, Limit> byRole) {
      this.keyPrefix = name + '\n';
      this.limit = limit;
      this.byRole = Map.copyOf(byRole);
    }

    @SuppressWarnings("ReferenceEquality") // identity: the same verified token
    Resolved resolve(@Nullable Principal principal) {
      if (principal == null) {
        return new Resolved(principal, keyPrefix + ANONYMOUS, limit);
      }
      int slot = System.identityHashCode(principal) & (RECENT - 1);
      Resolved r = recent.get(slot);
      if (r != null && r.principal == principal) {
        return r;
      }
      r =
          new Resolved(
              principal,
              keyPrefix + principal.issuer() + '\n' + principal.subject(),
              limitFor(principal));
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
    this.store = b.store != null ? b.store : new TokenBuckets(b.maxBuckets);
    this.defaultGroup = new Group(DEFAULT_GROUP, b.defaultLimit, b.roleLimits);
    Map<String, Group> byMethod = new HashMap<>();
    Map<String, Group> byService = new HashMap<>();
    for (GroupSpec spec : b.groups.values()) {
      Group g = new Group(spec.name, spec.limit, spec.byRole);
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

  @Override
  public String describe() {
    return "RateLimitServerInterceptor: "
        + (groupsByMethod.size() + groupsByService.size())
        + " method groups, store "
        + store.getClass().getSimpleName();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    Principal principal = facts.principal();
    Group group = groupsByMethod.get(call.getMethodDescriptor().getFullMethodName());
    if (group == null) {
      String service = call.getMethodDescriptor().getServiceName();
      group = service == null ? null : groupsByService.get(service);
      if (group == null) {
        group = defaultGroup;
      }
    }
    Resolved resolved = group.resolve(principal);
    Limit limit = resolved.limit;
    long wait;
    try {
      wait = store.tryAcquire(resolved.key, limit.burst, limit.permitsPerSecond, clock.millis());
    } catch (RuntimeException e) {
      // The store's exception text may contain the key (issuer and subject): class name only.
      logger.warn(
          "rate limit store failed ({}); refusing the call (correlationId={})",
          e.getClass().getName(),
          facts.correlationId());
      return Refusals.refuse(call, Status.Code.UNAVAILABLE, "Rate limiter unavailable", facts);
    }
    if (wait <= 0) {
      // An outer layer that already made this context current also restores it for callbacks.
      return ctx.equals(Context.current())
          ? next.startCall(call, headers)
          : Contexts.interceptCall(ctx, call, headers, next);
    }
    logger.debug(
        "rate limit exceeded: method={} correlationId={}",
        call.getMethodDescriptor().getFullMethodName(),
        facts.correlationId());
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
            .setMessage(Refusals.description("Rate limit exceeded", facts))
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(wait / 1000)
                                .setNanos((int) (wait % 1000) * 1_000_000))
                        .build()))
            .build();
    StatusException exception = StatusProto.toStatusException(status);
    Metadata trailers = exception.getTrailers();
    return Refusals.refuse(
        call, exception.getStatus(), trailers != null ? trailers : new Metadata());
  }

  private static final class GroupSpec {
    final String name;
    final Limit limit;
    final String[] methods;
    final Map<String, Limit> byRole = new LinkedHashMap<>();

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
     * The bound on the default in-memory store's buckets. Default: 100,000 (a few MB).
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
     * @throws IllegalStateException if a method is in two groups, or both {@link #store} and {@link
     *     #maxBuckets} were set
     */
    public RateLimitServerInterceptor build() {
      if (store != null && maxBucketsSet) {
        throw new IllegalStateException(
            "maxBuckets bounds the default in-memory store only: bound your own store instead");
      }
      return new RateLimitServerInterceptor(this);
    }
  }
}
