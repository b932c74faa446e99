package dev.hipaagrpc.auth.authz;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import dev.hipaagrpc.auth.authz.proto.Policy;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Checks;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Default-deny access control (45 CFR 164.312(a)(1)): lets an authenticated call reach a method
 * only when the policy says so, and publishes the decision to the call's {@link CallFacts}.
 *
 * <p>Install it inside the authentication interceptor (which puts the caller's {@link Principal} in
 * {@link CallFacts#principal()}) and outside rate limiting, masking and the service. For each call
 * it:
 *
 * <ol>
 *   <li>refuses a call without a principal with {@code UNAUTHENTICATED};
 *   <li>reads {@value #PURPOSE_OF_USE_HEADER}: an HL7 PurposeOfUse code, published to the facts; an
 *       unknown code (or several values) is refused with {@code INVALID_ARGUMENT};
 *   <li>refuses the call if a DENY rule matches; else grants it if an ALLOW rule matches and, for a
 *       method that declares a FHIR resource and action, the caller's SMART on FHIR scopes grant
 *       that action; else, if the caller sent {@value #BREAK_GLASS_REASON_HEADER}, holds the
 *       break-glass permission, sent a configured reason and a rule lets break-glass reach the
 *       method, grants it as {@code BREAK_GLASS}; else refuses it ({@code PERMISSION_DENIED});
 *   <li>for a granted call to a method with a patient field, when the caller holds {@code patient/}
 *       scopes or a patient launch context and no {@code user/} or {@code system/} scope grants the
 *       method, checks on every request message that the field equals the caller's patient context;
 *       for a method with a tenant field, checks on every message that it equals the caller's
 *       tenant (break-glass included). A mismatch closes the call with {@code PERMISSION_DENIED}.
 * </ol>
 *
 * <p>Every refusal carries a fixed description plus the correlation id ({@code "Access denied
 * (correlation id: ...)"}), never anything from the request. The decision, with the policy version
 * and the deciding rule id, goes to {@link CallFacts#decision}; denials made by the interceptor
 * itself use the rule ids {@value AccessDecision#DEFAULT_DENY_RULE}, {@value #RULE_SMART_SCOPE},
 * {@value #RULE_BREAK_GLASS_REFUSED}, {@value #RULE_PATIENT_MISMATCH}, {@value
 * #RULE_TENANT_MISMATCH}, {@value #RULE_PURPOSE_OF_USE}, {@value #RULE_UNAUTHENTICATED} and {@value
 * #RULE_STEP_UP} (a user whose token's acr, amr or auth_time falls short of the method's step-up
 * requirement: {@code UNAUTHENTICATED} with an RFC 9470 {@code insufficient_user_authentication}
 * challenge in {@code www-authenticate}, asked only of calls that would otherwise be allowed).
 *
 * <p>The policy comes from up to three sources, combined into one: a policy built in code, a policy
 * file (reloadable with {@link #watchPolicyFile}), and {@code (hipaagrpc.auth.authz.access)}
 * options on the methods of the given services, whose {@code (hipaagrpc.core.action)} option says
 * what each method does. Rules from all sources are pooled (a DENY rule from any source wins over
 * an ALLOW rule from any source); rule ids must be unique across sources; a method's FHIR resource,
 * patient field and tenant field may be declared in several sources only if they agree. The
 * reported version is the code policy's and the file policy's versions joined by {@code +} (or
 * {@code method-options} when only options are used).
 *
 * <p>Thread-safe: the compiled policy is immutable and replaced atomically on reload.
 */
public final class AuthorizationServerInterceptor implements SecurityLayer {

  /** The request header carrying the caller's HL7 PurposeOfUse code. */
  public static final String PURPOSE_OF_USE_HEADER = "x-purpose-of-use";

  /** The request header carrying the break-glass reason code. */
  public static final String BREAK_GLASS_REASON_HEADER = "x-break-glass-reason";

  /** Rule id of a denial because a method's action is not granted by SMART scopes. */
  public static final String RULE_SMART_SCOPE = "smart-scope";

  /** Rule id of a refused break-glass attempt. */
  public static final String RULE_BREAK_GLASS_REFUSED = "break-glass-refused";

  /** Rule id of a denial because a request names another patient than the caller's context. */
  public static final String RULE_PATIENT_MISMATCH = "patient-mismatch";

  /** Rule id of a denial because a request names another tenant than the caller's. */
  public static final String RULE_TENANT_MISMATCH = "tenant-mismatch";

  /** Rule id of a refusal of an unknown or repeated purpose-of-use header. */
  public static final String RULE_PURPOSE_OF_USE = "invalid-purpose-of-use";

  /** Rule id of a refusal of a call that carries no principal. */
  public static final String RULE_UNAUTHENTICATED = "unauthenticated";

  /**
   * Rule id of a refusal of a user whose authentication falls short of the method's step-up
   * requirement (acr, amr, auth_time): {@code UNAUTHENTICATED} with an RFC 9470 challenge.
   */
  public static final String RULE_STEP_UP = "insufficient-user-authentication";

  static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);

  static final Metadata.Key<String> PURPOSE_KEY =
      Metadata.Key.of(PURPOSE_OF_USE_HEADER, Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> BREAK_GLASS_KEY =
      Metadata.Key.of(BREAK_GLASS_REASON_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private static final Logger logger =
      LoggerFactory.getLogger(AuthorizationServerInterceptor.class);
  // Never a real header value: gRPC refuses NUL in ASCII headers.
  private static final String MULTIPLE = "\u0000multiple";

  // Exactly one is set: a fixed plan, or the watcher of a policy file that holds the current one.
  private final @Nullable PolicyPlan fixedPlan;
  private final @Nullable PolicyFileWatcher watcher;
  private final Clock clock;

  private AuthorizationServerInterceptor(
      @Nullable PolicyPlan fixedPlan, @Nullable PolicyFileWatcher watcher, Clock clock) {
    this.fixedPlan = fixedPlan;
    this.watcher = watcher;
    this.clock = clock;
  }

  /** Starts configuring an interceptor. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Returns an interceptor enforcing {@code policy} alone. */
  public static AuthorizationServerInterceptor create(AuthorizationPolicy policy) {
    return newBuilder().policy(policy).build();
  }

  @Override
  public Slot slot() {
    return Slot.AUTHORIZATION;
  }

  @Override
  public String describe() {
    return "AuthorizationServerInterceptor: policy "
        + plan().version
        + " ("
        + plan().methodCount()
        + " methods and services with rules)"
        + (watcher != null ? ", watched file" : "");
  }

  /**
   * The policy as enforced now (after a file reload, the new one): {@code authz.policy} (version,
   * SHA-256 of the canonical policy and method options it was compiled from, rule and method
   * counts, whether a file is watched), {@code authz.default_deny} and {@code authz.break_glass}
   * (who may, with which reason codes).
   */
  @Override
  public List<PostureItem> posture() {
    PolicyPlan p = plan();
    Map<String, Object> policy = new LinkedHashMap<>();
    policy.put("version", p.version);
    policy.put("sha256", p.sha256);
    policy.put("rules", p.ruleCount);
    policy.put("methodsWithRules", p.methodCount());
    policy.put("source", watcher != null ? "watched file" : "fixed");
    Map<String, Object> breakGlass = new LinkedHashMap<>();
    breakGlass.put("enabled", !p.breakGlassRoles.isEmpty() || !p.breakGlassScopes.isEmpty());
    breakGlass.put("roles", new TreeSet<>(p.breakGlassRoles));
    breakGlass.put("scopes", new TreeSet<>(p.breakGlassScopes));
    breakGlass.put("reasons", new TreeSet<>(p.breakGlassReasons));
    breakGlass.put("audited", true);
    return List.of(
        PostureItem.ok("authz.policy", Safeguard.ACCESS_CONTROL, policy),
        PostureItem.ok(
            "authz.default_deny",
            Safeguard.ACCESS_CONTROL,
            Map.of("rule", AccessDecision.DEFAULT_DENY_RULE, "status", "PERMISSION_DENIED")),
        PostureItem.ok("authz.break_glass", Safeguard.EMERGENCY_ACCESS, breakGlass));
  }

  /** The version string of the policy currently enforced. */
  public String policyVersion() {
    return plan().version;
  }

  /**
   * Re-reads the policy file every {@code period} on {@code executor} and, when its content
   * changed, enforces the new policy. A file that cannot be read, does not parse or is invalid is
   * refused with a WARN log saying why, and the last good policy stays in force.
   *
   * @return closing it stops the reloads (the executor is not shut down)
   * @throws IllegalStateException if no policy file was configured
   * @throws IllegalArgumentException if the period is not positive
   */
  public Closeable watchPolicyFile(ScheduledExecutorService executor, Duration period) {
    requireNonNull(executor, "executor");
    requireNonNull(period, "period");
    PolicyFileWatcher w = watcher;
    if (w == null) {
      throw new IllegalStateException("no policy file: configure Builder.policyFile(path)");
    }
    return w.watch(executor, period);
  }

  /** Reloads the policy file now; returns whether a new policy took effect. */
  boolean reloadPolicyFile() {
    return requireNonNull(watcher, "watcher").reload();
  }

  private PolicyPlan plan() {
    PolicyFileWatcher w = watcher;
    return w != null ? w.plan() : requireNonNull(fixedPlan);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    PolicyPlan policy = plan();
    PolicyMethodPlan method = policy.lookup(call.getMethodDescriptor());
    if (method.fhirResource != null && method.action != null) {
      facts.resourceType(method.fhirResource);
      facts.action(method.action);
    }
    Principal principal = facts.principal();
    if (principal == null) {
      return refuse(
          call, facts, policy, RULE_UNAUTHENTICATED, Status.Code.UNAUTHENTICATED, AUTH_REQ);
    }
    String purpose = single(headers, PURPOSE_KEY);
    if (purpose != null) {
      if (MULTIPLE.equals(purpose) || !PurposeOfUseCodes.isKnown(purpose)) {
        return refuse(
            call, facts, policy, RULE_PURPOSE_OF_USE, Status.Code.INVALID_ARGUMENT, BAD_PURPOSE);
      }
      facts.purposeOfUse(purpose);
    }

    for (PolicyRule deny : method.denies) {
      if (deny.matches(principal, purpose)) {
        return refuse(call, facts, deny.decision, Status.Code.PERMISSION_DENIED, DENIED);
      }
    }
    PolicyRule allow = null;
    for (PolicyRule rule : method.allows) {
      if (rule.matches(principal, purpose)) {
        allow = rule;
        break;
      }
    }
    // SMART: which scope contexts grant this method's action.
    int smart =
        method.fhirResource != null || method.patientField != null
            ? SmartScope.evaluate(principal, method.fhirResource, method.smartPermission)
            : 0;
    boolean smartOk =
        method.fhirResource == null
            || (smart & (SmartScope.GRANTS_PATIENT | SmartScope.GRANTS_OTHER)) != 0;
    // Only granular scopes (SMART v2 queries) could grant it: decided on the request's values.
    boolean granular =
        !smartOk
            && (smart & SmartScope.GRANTS_IF_VALUES_MATCH) != 0
            && !method.searchParams.isEmpty();

    AccessDecision decision;
    boolean patientCheck = false;
    // Break-glass for a call granted only if its values match a granular scope: used when they
    // do not, so that holding a narrower scope never takes emergency access away.
    AccessDecision glassFallback = null;
    if (allow != null && (smartOk || granular)) {
      decision = allow.decision;
      // Restricted to the patient context when nothing broader than patient/ grants the call:
      // the caller holds patient/ scopes (or a patient launch context) and no user/ or system/
      // scope covers the method.
      patientCheck =
          method.patientField != null
              && ((smart & SmartScope.HOLDS_PATIENT) != 0 || principal.patient() != null)
              && (smart
                      & (method.fhirResource != null
                          ? SmartScope.GRANTS_OTHER
                          : SmartScope.HOLDS_OTHER))
                  == 0;
      if (granular) {
        String reason = single(headers, BREAK_GLASS_KEY);
        if (reason != null) {
          recordBreakGlassRequest(facts, policy, reason);
          glassFallback = breakGlassGrant(method, policy, principal, reason);
        }
      }
    } else {
      granular = false; // break-glass or nothing: no scope's values decide this call
      String reason = single(headers, BREAK_GLASS_KEY);
      if (reason != null) {
        recordBreakGlassRequest(facts, policy, reason);
      }
      if (reason == null) {
        AccessDecision denial =
            allow != null
                ? AccessDecision.deny(RULE_SMART_SCOPE, policy.version)
                : policy.defaultDeny;
        return refuse(call, facts, denial, Status.Code.PERMISSION_DENIED, DENIED);
      }
      AccessDecision glass = breakGlassGrant(method, policy, principal, reason);
      if (glass == null) {
        return refuse(
            call, facts, policy, RULE_BREAK_GLASS_REFUSED, Status.Code.PERMISSION_DENIED, DENIED);
      }
      decision = glass;
    }
    // With granular scopes the request decides: a matching user/ scope lifts the restriction,
    // and without a launch patient a patient-restricted request is refused there.
    if (patientCheck && !granular && principal.patient() == null) {
      return refuse(
          call, facts, policy, RULE_PATIENT_MISMATCH, Status.Code.PERMISSION_DENIED, DENIED);
    }
    if (method.tenantField != null && principal.tenant() == null) {
      return refuse(
          call, facts, policy, RULE_TENANT_MISMATCH, Status.Code.PERMISSION_DENIED, DENIED);
    }
    StepUpRequirement stepUp = method.stepUp;
    if (stepUp != null
        && principal.kind() == Principal.Kind.USER
        && !stepUp.satisfiedBy(principal, clock.instant())) {
      // Only a call that would otherwise be allowed (break-glass included) asks for step-up: a
      // caller denied anyway learns nothing from a challenge.
      facts.decision(AccessDecision.deny(RULE_STEP_UP, policy.version));
      Metadata trailers = new Metadata();
      trailers.put(WWW_AUTHENTICATE, stepUp.challenge());
      logger.debug(
          "step-up required: method={} correlationId={}",
          call.getMethodDescriptor().getFullMethodName(),
          facts.correlationId());
      return Refusals.refuse(
          call, Refusals.status(Status.Code.UNAUTHENTICATED, STEP_UP, facts), trailers);
    }
    facts.decision(decision);
    boolean breakGlass = decision.outcome() == AccessDecision.Outcome.BREAK_GLASS;
    ServerCall<ReqT, RespT> out = call;
    if (namesPatients(call.getMethodDescriptor())) {
      if (facts.inSecurityStack()) {
        // The stack shows responses innermost, before masking changes the patient fields.
        facts.inspectResponses(message -> ResponsePatients.collect(message, facts));
      } else {
        // Alone (no masking inside us): read the responses as they pass.
        out = new PatientRecordingCall<>(call, facts);
      }
    }
    if (!method.checksMessages()) {
      if (breakGlass) {
        logBreakGlass(call.getMethodDescriptor().getFullMethodName(), decision, facts);
      }
      // When an outer layer already made this context current, it also restores it around every
      // listener callback: no need to wrap again.
      return ctx.equals(Context.current())
          ? next.startCall(out, headers)
          : Contexts.interceptCall(ctx, out, headers, next);
    }
    AuthorizationGuardedCall<ReqT, RespT> guarded = new AuthorizationGuardedCall<>(out);
    ServerCall.Listener<ReqT> delegate = Contexts.interceptCall(ctx, guarded, headers, next);
    return new AuthorizationGuardedCall.Listener<>(
        delegate,
        guarded,
        facts,
        policy.version,
        method,
        principal,
        patientCheck,
        granular,
        glassFallback,
        breakGlass ? decision : null);
  }

  /** The one "break-glass access" line: logged only once the access is actually granted. */
  static void logBreakGlass(String method, AccessDecision decision, CallFacts facts) {
    logger.warn(
        "break-glass access: method={} rule={} reason={} policyVersion={} correlationId={}",
        method,
        decision.ruleId(),
        decision.breakGlassReason(),
        decision.policyVersion(),
        facts.correlationId());
  }

  private static boolean namesPatients(MethodDescriptor<?, ?> method) {
    return method.getResponseMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> pm
        && pm.getMessagePrototype() instanceof Message prototype
        && ResponsePatients.namesPatients(prototype.getDescriptorForType());
  }

  /** Attributes the call to every patient its responses name. */
  private static final class PatientRecordingCall<ReqT, RespT>
      extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
    private final CallFacts facts;

    PatientRecordingCall(ServerCall<ReqT, RespT> delegate, CallFacts facts) {
      super(delegate);
      this.facts = facts;
    }

    @Override
    public void sendMessage(RespT message) {
      ResponsePatients.collect(message, facts);
      super.sendMessage(message);
    }
  }

  static final String DENIED = "Access denied";

  /** Recorded as the break-glass request when the caller sent a code the policy does not know. */
  static final String UNRECOGNIZED_REASON = "unrecognized";

  private static final String AUTH_REQ = "Authentication required";
  private static final String STEP_UP = "A different authentication level is required";
  private static final String BAD_PURPOSE = "Unrecognized purpose of use";

  private static <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call,
      CallFacts facts,
      PolicyPlan policy,
      String ruleId,
      Status.Code status,
      String description) {
    return refuse(call, facts, AccessDecision.deny(ruleId, policy.version), status, description);
  }

  private static <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call,
      CallFacts facts,
      AccessDecision decision,
      Status.Code status,
      String description) {
    facts.decision(decision);
    if (logger.isDebugEnabled()) {
      logger.debug(
          "access denied: method={} rule={} policyVersion={} correlationId={}",
          call.getMethodDescriptor().getFullMethodName(),
          decision.ruleId(),
          decision.policyVersion(),
          facts.correlationId());
    }
    return Refusals.refuse(call, status, description, facts);
  }

  /** Audited with the call whether granted or refused; only configured codes are recorded. */
  private static void recordBreakGlassRequest(CallFacts facts, PolicyPlan policy, String reason) {
    facts.breakGlassRequest(
        !MULTIPLE.equals(reason) && policy.breakGlassReasons.contains(reason)
            ? reason
            : UNRECOGNIZED_REASON);
  }

  /**
   * The break-glass decision {@code reason} earns on {@code method}, or null when it earns none.
   */
  private static @Nullable AccessDecision breakGlassGrant(
      PolicyMethodPlan method, PolicyPlan policy, Principal principal, String reason) {
    PolicyRule glass = method.breakGlassRule;
    if (glass == null
        || MULTIPLE.equals(reason)
        || !policy.breakGlassReasons.contains(reason)
        || !holdsBreakGlass(principal, policy)) {
      return null;
    }
    return AccessDecision.breakGlass(glass.id, policy.version, reason);
  }

  private static boolean holdsBreakGlass(Principal principal, PolicyPlan policy) {
    for (String role : principal.roles()) {
      if (policy.breakGlassRoles.contains(role)) {
        return true;
      }
    }
    for (String scope : principal.scopes()) {
      if (policy.breakGlassScopes.contains(scope)) {
        return true;
      }
    }
    return false;
  }

  /** The header's one value, null when absent, or {@link #MULTIPLE} when repeated. */
  private static @Nullable String single(Metadata headers, Metadata.Key<String> key) {
    Iterable<String> values = headers.getAll(key);
    if (values == null) {
      return null;
    }
    Iterator<String> it = values.iterator();
    if (!it.hasNext()) {
      return null;
    }
    String value = it.next();
    return it.hasNext() ? MULTIPLE : value;
  }

  /** Configures an {@link AuthorizationServerInterceptor}. Not thread-safe. */
  public static final class Builder {
    private @Nullable AuthorizationPolicy policy;
    private @Nullable Path policyFile;
    private final List<ServiceDescriptor> services = new ArrayList<>();
    private final java.util.Set<String> knownRoles = new java.util.LinkedHashSet<>();
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The policy stated in code. Default: none. */
    public Builder policy(AuthorizationPolicy policy) {
      this.policy = requireNonNull(policy, "policy");
      return this;
    }

    /**
     * A policy file (protobuf text format, or JSON when the name ends in {@code .json}), read by
     * {@link #build()} and reloadable with {@link AuthorizationServerInterceptor#watchPolicyFile}.
     * Default: none.
     */
    public Builder policyFile(Path file) {
      this.policyFile = requireNonNull(file, "file");
      return this;
    }

    /**
     * Reads the {@code (hipaagrpc.auth.authz.access)} and {@code (hipaagrpc.core.action)} method
     * options and the {@code patient_id} / {@code tenant_id} field options of these services'
     * protobuf descriptors. Rules naming a method of one of these services that does not exist are
     * then refused. Default: none.
     */
    public Builder methodOptionsFrom(ServiceDescriptor... services) {
      for (ServiceDescriptor s : services) {
        this.services.add(requireNonNull(s, "service"));
      }
      return this;
    }

    /**
     * Declares the roles your identity provider issues. The policy (code, file and {@code .proto}
     * options) may then name no other role: a misspelled role, which would silently grant nothing,
     * is refused at {@link #build()}, and a reloaded policy file that names one is refused and the
     * last good policy kept. Default: no vocabulary, nothing checked.
     */
    public Builder knownRoles(String... roles) {
      requireNonNull(roles, "roles");
      for (String r : roles) {
        knownRoles.add(Checks.requireNonBlank(r, "role"));
      }
      return this;
    }

    /** Same as {@link #methodOptionsFrom(ServiceDescriptor...)} for bound services. */
    public Builder methodOptionsFrom(ServerServiceDefinition... services) {
      for (ServerServiceDefinition s : services) {
        this.services.add(requireNonNull(s, "service").getServiceDescriptor());
      }
      return this;
    }

    /** Sets the clock step-up's {@code max_auth_age_seconds} is measured with. Default: UTC. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Compiles the combined policy.
     *
     * @throws IllegalStateException if no source was configured, the policy file cannot be read or
     *     is invalid, or the sources conflict; the message says what to fix
     */
    public AuthorizationServerInterceptor build() {
      if (policy == null && policyFile == null && services.isEmpty()) {
        throw new IllegalStateException(
            "nothing to enforce: set policy(...), policyFile(...) or methodOptionsFrom(...)");
      }
      Policy code = policy == null ? null : policy.toProto();
      if (policyFile != null) {
        return new AuthorizationServerInterceptor(
            null, PolicyFileWatcher.load(policyFile, code, services, knownRoles), clock);
      }
      try {
        PolicyPlan plan = PolicyCompiler.compile(code, null, services);
        plan.requireKnownRoles(knownRoles);
        return new AuthorizationServerInterceptor(plan, null, clock);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("invalid authorization policy: " + e.getMessage(), e);
      }
    }
  }
}
