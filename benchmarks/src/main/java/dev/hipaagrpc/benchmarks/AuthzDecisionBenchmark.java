package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.auth.authz.AuthorizationPolicy;
import dev.hipaagrpc.auth.authz.AuthorizationServerInterceptor;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.Principal;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one authorization decision ({@code interceptCall} up to handing the call to the service)
 * for policies of 5 and 5,000 rules, against a baseline measured in the same run.
 *
 * <p>The baseline is the straightforward engine grpc-java's {@code grpc-authz} uses (its {@code
 * AuthorizationServerInterceptor} over an RBAC engine that evaluates the deny policies, then the
 * allow policies, each with its own path and principal matchers, in order). {@code grpc-authz}
 * itself is not available from this build's repository, so the benchmark carries an equivalent
 * linear-scan engine ({@link LinearScanInterceptor}) over the same rules.
 *
 * <p>Policy shape: 10% deny rules and 90% allow rules, each on its own method of one of 50
 * services, any-of two roles. The allowed call's rule sits in the middle of the allow rules; the
 * denied call names a method no rule covers (the linear scan's worst case, and an attacker's
 * cheapest probe).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AuthzDecisionBenchmark {

  @Param({"5", "5000"})
  public int rules;

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          return new byte[0];
        }
      };

  private static final ServerCall.Listener<byte[]> NOOP = new ServerCall.Listener<byte[]>() {};
  private static final ServerCallHandler<byte[], byte[]> SERVICE = (call, headers) -> NOOP;

  private AuthorizationServerInterceptor compiled =
      AuthorizationServerInterceptor.create(
          AuthorizationPolicy.newBuilder("bench")
              .rule(AuthorizationPolicy.allow("x").methods("bench.S0/M0"))
              .build());
  private LinearScanInterceptor linear = new LinearScanInterceptor(List.of());
  private BenchCall allowedCall = new BenchCall("bench.S0/M0");
  private BenchCall deniedCall = new BenchCall("bench.Unlisted/Nothing");
  private final Metadata headers = new Metadata();
  private Context previous = Context.ROOT;

  @Setup
  public void setUp() {
    AuthorizationPolicy.Builder policy = AuthorizationPolicy.newBuilder("bench-" + rules);
    List<LinearRule> linearRules = new ArrayList<>();
    int denies = rules / 10;
    String allowedMethod = null;
    for (int i = 0; i < rules; i++) {
      String method = "bench.S" + (i % 50) + "/M" + i;
      String id = "r" + i;
      String[] roles = {"role-" + (i % 97), "nurse-" + i};
      boolean deny = i < denies;
      if (!deny && allowedMethod == null && i >= denies + (rules - denies) / 2) {
        allowedMethod = method;
        roles = new String[] {"role-" + (i % 97), "nurse"};
      }
      policy.rule(
          (deny ? AuthorizationPolicy.deny(id) : AuthorizationPolicy.allow(id))
              .methods(method)
              .anyRole(roles));
      linearRules.add(new LinearRule(id, deny, new String[] {method}, Set.of(roles)));
    }
    compiled = AuthorizationServerInterceptor.create(policy.build());
    linear = new LinearScanInterceptor(linearRules);
    allowedCall = new BenchCall(allowedMethod);

    Principal principal =
        Principal.newBuilder(
                "user-1", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fingerprint")
            .addRoles(List.of("clerk", "nurse"))
            .build();
    CallFacts facts = CallFacts.create(CorrelationId.generate());
    facts.principal(principal);
    previous = Context.current().withValue(CallFacts.CONTEXT_KEY, facts).attach();
  }

  @TearDown
  public void tearDown() {
    Context.current().detach(previous);
  }

  /** Floor: the service's handler called directly, no authorization at all. */
  @Benchmark
  public ServerCall.Listener<byte[]> noAuthorization() {
    return SERVICE.startCall(allowedCall, headers);
  }

  @Benchmark
  public ServerCall.Listener<byte[]> compiledAllowed() {
    return compiled.interceptCall(allowedCall, headers, SERVICE);
  }

  @Benchmark
  public ServerCall.Listener<byte[]> baselineLinearScanAllowed() {
    return linear.interceptCall(allowedCall, headers, SERVICE);
  }

  @Benchmark
  public ServerCall.Listener<byte[]> compiledDenied() {
    return compiled.interceptCall(deniedCall, headers, SERVICE);
  }

  @Benchmark
  public ServerCall.Listener<byte[]> baselineLinearScanDenied() {
    return linear.interceptCall(deniedCall, headers, SERVICE);
  }

  /** A rule as grpc-authz's RBAC engine holds it: path matchers and principal matchers. */
  static final class LinearRule {
    final String id;
    final boolean deny;
    final String[] paths; // exact "pkg.Svc/Method", or "pkg.Svc/" prefix for a whole service
    final Set<String> roles;

    LinearRule(String id, boolean deny, String[] paths, Set<String> roles) {
      this.id = id;
      this.deny = deny;
      this.paths = paths;
      this.roles = new HashSet<>(roles);
    }

    boolean matches(String path, Principal principal) {
      boolean pathMatches = false;
      for (String p : paths) {
        if (p.endsWith("/") ? path.startsWith(p) : path.equals(p)) {
          pathMatches = true;
          break;
        }
      }
      if (!pathMatches) {
        return false;
      }
      for (String role : principal.roles()) {
        if (roles.contains(role)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The straightforward interceptor: evaluate every deny rule, then the allow rules in order until
   * one matches (as grpc-authz's {@code AuthorizationServerInterceptor} does with its RBAC
   * engines); close with PERMISSION_DENIED otherwise.
   */
  static final class LinearScanInterceptor implements ServerInterceptor {
    private final LinearRule[] denies;
    private final LinearRule[] allows;

    LinearScanInterceptor(List<LinearRule> rules) {
      List<LinearRule> d = new ArrayList<>();
      List<LinearRule> a = new ArrayList<>();
      for (LinearRule r : rules) {
        (r.deny ? d : a).add(r);
      }
      denies = d.toArray(new LinearRule[0]);
      allows = a.toArray(new LinearRule[0]);
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Principal principal = Principal.current();
      String path = call.getMethodDescriptor().getFullMethodName();
      boolean allowed = false;
      if (principal != null) {
        allowed = true;
        for (LinearRule r : denies) {
          if (r.matches(path, principal)) {
            allowed = false;
            break;
          }
        }
        if (allowed) {
          allowed = false;
          for (LinearRule r : allows) {
            if (r.matches(path, principal)) {
              allowed = true;
              break;
            }
          }
        }
      }
      if (allowed) {
        return next.startCall(call, headers);
      }
      call.close(Status.PERMISSION_DENIED.withDescription("Access Denied"), new Metadata());
      return new ServerCall.Listener<ReqT>() {};
    }
  }

  /** The least a server call must do for an interceptor to run. */
  static final class BenchCall extends ServerCall<byte[], byte[]> {
    private final MethodDescriptor<byte[], byte[]> method;

    BenchCall(@Nullable String fullMethodName) {
      this.method =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(fullMethodName == null ? "bench.S0/M0" : fullMethodName)
              .setRequestMarshaller(BYTES)
              .setResponseMarshaller(BYTES)
              .build();
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(byte[] message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return Attributes.EMPTY;
    }

    @Override
    public MethodDescriptor<byte[], byte[]> getMethodDescriptor() {
      return method;
    }
  }
}
