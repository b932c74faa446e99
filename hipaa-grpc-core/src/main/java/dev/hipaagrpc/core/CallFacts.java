package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.proto.Action;
import io.grpc.Context;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the security layers learned about one server call, published for the audit layer.
 *
 * <p>The outermost layer ({@link CorrelationIdServerInterceptor}, or whichever of our interceptors
 * runs first) creates one holder per call and puts it in the call's {@link Context} under {@link
 * SecurityContext#CALL_FACTS}. Inner layers write what they decide (principal, authorization
 * decision, purpose of use, fields masked); the audit layer, which sits outside authentication,
 * reads the holder when the call closes, so a denied call is audited with whatever identity was
 * known. Nothing is kept in thread-locals.
 *
 * <p>{@link #toString()} prints no identifier of a patient or caller.
 *
 * <p>Thread-safe: every field is safely published, because a call's listener and its {@code
 * ServerCall} methods may run on different threads.
 */
public final class CallFacts {

  private static final Pattern FAILURE_CODE = Pattern.compile("[a-z][a-z0-9_]{0,47}");

  private final String correlationId;
  private volatile @Nullable Principal principal;
  private volatile @Nullable PeerIdentity peer;
  private volatile @Nullable String authenticationFailure;
  private volatile @Nullable AccessDecision decision;
  private volatile @Nullable String purposeOfUse;
  private volatile @Nullable String resourceType;
  private volatile @Nullable Action action;
  private volatile @Nullable String patientId;
  private final AtomicInteger maskedFields = new AtomicInteger();

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

  /** Returns the holder of the current call, or {@code null} when none was attached. */
  public static @Nullable CallFacts current() {
    return SecurityContext.CALL_FACTS.get(Context.current());
  }

  /** The call's correlation id: safe to print, returned to the caller, and in every error. */
  public String correlationId() {
    return correlationId;
  }

  /** The authenticated principal, or {@code null} (not yet, or never, authenticated). */
  public @Nullable Principal principal() {
    return principal;
  }

  /** Records the authenticated principal. */
  public void principal(Principal principal) {
    this.principal = requireNonNull(principal, "principal");
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

  /** Records the authorization decision. */
  public void decision(AccessDecision decision) {
    this.decision = requireNonNull(decision, "decision");
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
   * The id of the patient whose data the call touched, or {@code null}. This is PHI: the audit
   * layer records only its keyed hash, and nothing may print it.
   */
  public @Nullable String patientId() {
    return patientId;
  }

  /** Records the id of the patient whose data the call touched. */
  public void patientId(String patientId) {
    this.patientId = requireNonNull(patientId, "patientId");
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
        + ", maskedFields="
        + maskedFields.get()
        + "}";
  }
}
