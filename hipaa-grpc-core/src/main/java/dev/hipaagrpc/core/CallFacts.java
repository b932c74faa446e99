package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.proto.Action;
import io.grpc.Context;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the security layers learned about one server call, published for the audit layer.
 *
 * <p>The outermost layer ({@link CorrelationIdServerInterceptor}, or whichever of our interceptors
 * runs first) creates one holder per call and puts it in the call's {@link Context} under {@link
 * #CONTEXT_KEY}. Inner layers write what they decide (principal, authorization decision, purpose of
 * use, fields masked); the audit layer, which sits outside authentication, reads the holder when
 * the call closes, so a denied call is audited with whatever identity was known. Nothing is kept in
 * thread-locals.
 *
 * <p>{@link #toString()} prints no identifier of a patient or caller.
 *
 * <p>Thread-safe: every field is safely published, because a call's listener and its {@code
 * ServerCall} methods may run on different threads.
 */
public final class CallFacts {

  /** The most distinct patients one call records; beyond it, {@link #patientsOmitted()} counts. */
  public static final int MAX_PATIENTS = 64;

  private static final int MAX_OMITTED_TRACKED = 4096;

  private static final Pattern FAILURE_CODE = Pattern.compile("[a-z][a-z0-9_]{0,47}");

  private final String correlationId;
  private volatile @Nullable Principal principal;
  private volatile @Nullable PeerIdentity peer;
  private volatile @Nullable String authenticationFailure;
  private volatile @Nullable AccessDecision decision;
  private volatile @Nullable String purposeOfUse;
  private volatile @Nullable String resourceType;
  private volatile @Nullable Action action;
  private volatile @Nullable String breakGlassRequest;
  // Patients touched: insertion-ordered, bounded; guarded by this.
  private final LinkedHashSet<String> patients = new LinkedHashSet<>();
  private int patientsOmitted;
  private final java.util.HashSet<String> omitted = new java.util.HashSet<>();
  private volatile boolean inStack;
  private volatile java.util.function.@Nullable Consumer<Object> responseInspector;
  private final AtomicInteger maskedFields = new AtomicInteger();
  private final AtomicBoolean auditClaimed = new AtomicBoolean();

  private CallFacts(String correlationId) {
    this.correlationId = correlationId;
  }

  /**
   * Creates a holder for one call.
   *
   * @param correlationId a correlation id accepted by {@link CorrelationId#isAcceptable}
   * @throws IllegalArgumentException if the id is not acceptable
   */
  public static CallFacts create(String correlationId) {
    requireNonNull(correlationId, "correlationId");
    if (!CorrelationId.isAcceptable(correlationId)) {
      throw new IllegalArgumentException("correlationId is not acceptable");
    }
    return new CallFacts(correlationId);
  }

  /** The {@link Context} key under which a call's holder travels. */
  public static final Context.Key<CallFacts> CONTEXT_KEY = Context.key("hipaagrpc-call-facts");

  /** Returns the holder of the current call, or {@code null} when none was attached. */
  public static @Nullable CallFacts current() {
    return CONTEXT_KEY.get(Context.current());
  }

  /**
   * Returns {@code context} if it already carries a holder, else a child of it that carries a new
   * one with a fresh correlation id. Every hipaa-grpc server interceptor calls this first, so each
   * is usable alone and all share one holder when stacked.
   */
  public static Context inContext(Context context) {
    requireNonNull(context, "context");
    if (CONTEXT_KEY.get(context) != null) {
      return context;
    }
    return context.withValue(CONTEXT_KEY, create(CorrelationId.generate()));
  }

  /**
   * Returns the holder of {@code context}, which must come from {@link #inContext}.
   *
   * @throws IllegalStateException if the context carries none
   */
  public static CallFacts of(Context context) {
    CallFacts facts = CONTEXT_KEY.get(requireNonNull(context, "context"));
    if (facts == null) {
      throw new IllegalStateException("no CallFacts: use CallFacts.inContext first");
    }
    return facts;
  }

  /** The call's correlation id: safe to print, returned to the caller, and in every error. */
  public String correlationId() {
    return correlationId;
  }

  /** The authenticated principal, or {@code null} (not yet, or never, authenticated). */
  public @Nullable Principal principal() {
    return principal;
  }

  /**
   * Records the authenticated principal: the one write path every layer reads from (authorization,
   * rate limiting, masking and audit alike).
   *
   * @throws IllegalStateException if another principal was already recorded for this call
   */
  public synchronized void principal(Principal principal) {
    requireNonNull(principal, "principal");
    Principal existing = this.principal;
    if (existing != null && !existing.equals(principal)) {
      throw new IllegalStateException("a different principal is already recorded for this call");
    }
    this.principal = principal;
  }

  /** The TLS peer's identity, or {@code null} when the call had no client certificate. */
  public @Nullable PeerIdentity peer() {
    return peer;
  }

  /** Records the TLS peer's identity. */
  public void peer(PeerIdentity peer) {
    this.peer = requireNonNull(peer, "peer");
  }

  /** Why authentication failed, as a fixed code such as {@code invalid_token}, or {@code null}. */
  public @Nullable String authenticationFailure() {
    return authenticationFailure;
  }

  /**
   * Records why authentication failed.
   *
   * @param code a constant code of lowercase letters, digits and underscores (at most 48), such as
   *     {@code expired_token}; never text derived from the request
   * @throws IllegalArgumentException if the code is not of that form
   */
  public void authenticationFailure(String code) {
    requireNonNull(code, "code");
    if (!FAILURE_CODE.matcher(code).matches()) {
      throw new IllegalArgumentException("failure code must match " + FAILURE_CODE);
    }
    this.authenticationFailure = code;
  }

  /** The authorization decision, or {@code null} when authorization did not run. */
  public @Nullable AccessDecision decision() {
    return decision;
  }

  /**
   * Records an authorization decision. A recorded decision only moves towards refusal: once a
   * refusal is recorded, a later permitting decision is ignored (the refusal stays), while a later
   * refusal replaces an earlier grant.
   */
  public synchronized void decision(AccessDecision decision) {
    requireNonNull(decision, "decision");
    AccessDecision existing = this.decision;
    if (existing != null && !existing.permitted() && decision.permitted()) {
      return;
    }
    this.decision = decision;
  }

  /**
   * The break-glass reason code the caller asked to use, whether or not emergency access was
   * granted, or {@code null} when the caller did not ask.
   */
  public @Nullable String breakGlassRequest() {
    return breakGlassRequest;
  }

  /**
   * Records that the caller asked for emergency access with {@code reasonCode} (a configured code,
   * never free text). Audit records it with the call's outcome, granted or refused.
   */
  public void breakGlassRequest(String reasonCode) {
    this.breakGlassRequest = requireNonNull(reasonCode, "reasonCode");
  }

  /** The HL7 PurposeOfUse code the caller declared (e.g. {@code TREAT}), or {@code null}. */
  public @Nullable String purposeOfUse() {
    return purposeOfUse;
  }

  /** Records the validated purpose of use. */
  public void purposeOfUse(String code) {
    this.purposeOfUse = requireNonNull(code, "code");
  }

  /** The FHIR resource type the method acts on (e.g. {@code Observation}), or {@code null}. */
  public @Nullable String resourceType() {
    return resourceType;
  }

  /** Records the FHIR resource type the method acts on. */
  public void resourceType(String resourceType) {
    this.resourceType = requireNonNull(resourceType, "resourceType");
  }

  /**
   * The action the method performs as a layer established it (authorization, from the method's
   * {@code (hipaagrpc.core.action)} option or its policy), or {@code null}; audit then falls back
   * to {@link Actions#of}.
   */
  public @Nullable Action action() {
    return action;
  }

  /** Records the action the method performs. */
  public void action(Action action) {
    this.action = requireNonNull(action, "action");
  }

  /**
   * The ids of the patients whose data the call touched, in the order first seen, at most {@value
   * #MAX_PATIENTS}. These are PHI: the audit layer records only their keyed identifiers, and
   * nothing may print them.
   */
  public synchronized List<String> patientIds() {
    return List.copyOf(patients);
  }

  /** How many distinct patients beyond {@value #MAX_PATIENTS} were touched and not kept. */
  public synchronized int patientsOmitted() {
    return patientsOmitted;
  }

  /**
   * Records that the call touched the data of patient {@code patientId} (a request naming them, a
   * response carrying them). Duplicates are recorded once; past {@value #MAX_PATIENTS} distinct
   * patients only a count is kept.
   */
  public synchronized void addPatient(String patientId) {
    requireNonNull(patientId, "patientId");
    if (patients.contains(patientId)) {
      return;
    }
    if (patients.size() < MAX_PATIENTS) {
      patients.add(patientId);
    } else if (omitted.size() < MAX_OMITTED_TRACKED) {
      if (omitted.add(patientId)) {
        patientsOmitted++;
      }
    } else {
      patientsOmitted++; // past the tracking bound, an upper estimate
    }
  }

  /**
   * Whether this call runs through a {@link SecurityStack}: the stack then shows every response
   * message, before any layer changes it, to the function given to {@link #inspectResponses}.
   */
  public boolean inSecurityStack() {
    return inStack;
  }

  void markInSecurityStack() {
    inStack = true;
  }

  /**
   * Registers the function that sees every response message of this call as the service sent it,
   * innermost, before masking or any other layer changes it (for example authorization recording
   * the patients a response names). Only calls running through a {@link SecurityStack} have such a
   * tap ({@link #inSecurityStack()}); one function per call.
   *
   * @throws IllegalStateException if a function is already registered
   */
  public synchronized void inspectResponses(java.util.function.Consumer<Object> inspector) {
    requireNonNull(inspector, "inspector");
    if (responseInspector != null) {
      throw new IllegalStateException("a response inspector is already registered for this call");
    }
    responseInspector = inspector;
  }

  void responseSent(Object message) {
    java.util.function.Consumer<Object> inspector = responseInspector;
    if (inspector != null) {
      inspector.accept(message);
    }
  }

  /**
   * Claims the right to write this call's audit event: returns {@code true} once per call, so a
   * stack applied twice, or an audit interceptor installed beside the stack, never audits twice.
   */
  public boolean claimAudit() {
    return auditClaimed.compareAndSet(false, true);
  }

  /** How many field values masking hid from the caller in this call's responses. */
  public int maskedFields() {
    return maskedFields.get();
  }

  /** Adds {@code count} to the number of masked field values. */
  public void addMaskedFields(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count < 0");
    }
    maskedFields.addAndGet(count);
  }

  /** Prints the correlation id, decision and counts; never identifiers. */
  @Override
  public String toString() {
    Principal p = principal;
    return "CallFacts{correlationId="
        + correlationId
        + ", principal="
        + p
        + ", authenticationFailure="
        + authenticationFailure
        + ", decision="
        + decision
        + ", purposeOfUse="
        + purposeOfUse
        + ", breakGlassRequest="
        + breakGlassRequest
        + ", maskedFields="
        + maskedFields.get()
        + "}";
  }
}
