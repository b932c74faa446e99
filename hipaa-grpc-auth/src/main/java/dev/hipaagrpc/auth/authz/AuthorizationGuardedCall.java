package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.internal.RefusalSummary;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server call whose request messages are checked one by one (patient and tenant scoping). Once
 * authorization closes it, whatever the service still sends is dropped, so a service that was
 * already streaming responses cannot trip over the closed call.
 */
final class AuthorizationGuardedCall<ReqT, RespT>
    extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

  private static final Logger logger = LoggerFactory.getLogger(AuthorizationGuardedCall.class);

  private final Object lock = new Object();
  private boolean closed;

  AuthorizationGuardedCall(ServerCall<ReqT, RespT> delegate) {
    super(delegate);
  }

  @Override
  public void sendHeaders(Metadata headers) {
    synchronized (lock) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }
  }

  @Override
  public void sendMessage(RespT message) {
    synchronized (lock) {
      if (!closed) {
        super.sendMessage(message);
      }
    }
  }

  @Override
  public void close(Status status, Metadata trailers) {
    synchronized (lock) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }
  }

  /** Closes the call with the fixed denial; returns false if it was already closed. */
  boolean deny(CallFacts facts) {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      closed = true;
      RefusalSummary.record(Status.Code.PERMISSION_DENIED, facts);
      super.close(
          Refusals.status(
              Status.Code.PERMISSION_DENIED, AuthorizationServerInterceptor.DENIED, facts),
          new Metadata());
      return true;
    }
  }

  boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  /** Checks each request message before the service sees it. */
  static final class Listener<ReqT>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
    private final AuthorizationGuardedCall<ReqT, ?> call;
    private final CallFacts facts;
    private final String policyVersion;
    private final PolicyMethodPlan method;
    private final Principal principal;
    private final boolean patientCheck;

    /** Granted only by granular SMART scopes, whose queries the request's values must match. */
    private boolean granular;

    /** The break-glass decision to fall back on when the values do not match; null: none. */
    private @Nullable AccessDecision glassFallback;

    /** Whether the call is now granted by break-glass (no patient restriction applies). */
    private boolean glassGranted;

    private @Nullable AccessDecision breakGlass;
    // Only touched from listener callbacks, which gRPC serializes.
    private boolean denied;

    Listener(
        ServerCall.Listener<ReqT> delegate,
        AuthorizationGuardedCall<ReqT, ?> call,
        CallFacts facts,
        String policyVersion,
        PolicyMethodPlan method,
        Principal principal,
        boolean patientCheck,
        boolean granular,
        @Nullable AccessDecision glassFallback,
        @Nullable AccessDecision breakGlass) {
      super(delegate);
      this.breakGlass = breakGlass;
      this.call = call;
      this.facts = facts;
      this.policyVersion = policyVersion;
      this.method = method;
      this.principal = principal;
      this.patientCheck = patientCheck;
      this.granular = granular;
      this.glassFallback = glassFallback;
    }

    @Override
    public void onMessage(ReqT message) {
      if (denied) {
        return;
      }
      String refusal = check(message);
      if (refusal != null) {
        denied = true;
        facts.decision(AccessDecision.deny(refusal, policyVersion));
        logger.debug(
            "access denied on a request message: rule={} policyVersion={} correlationId={}",
            refusal,
            policyVersion,
            facts.correlationId());
        call.deny(facts);
        return;
      }
      AccessDecision glass = breakGlass;
      if (glass != null) {
        breakGlass = null; // logged once, when the first request passes every check
        AuthorizationServerInterceptor.logBreakGlass(
            call.getMethodDescriptor().getFullMethodName(), glass, facts);
      }
      super.onMessage(message);
    }

    private @Nullable String check(ReqT message) {
      // The patient id is published first, so that a refused cross-patient attempt is audited
      // with the record it aimed at (audit stores only a keyed hash of it).
      String patient = null;
      PolicyFieldPath patientField = method.patientField;
      if (patientField != null) {
        patient = patientField.extract(message);
        if (patient == null) {
          logger.warn("patient field '{}' does not fit the request type", patientField.path());
          return AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH;
        }
        if (!patient.isEmpty()) {
          facts.addPatient(patient);
        }
      }
      PolicyFieldPath tenantField = method.tenantField;
      if (tenantField != null) {
        String tenant = tenantField.extract(message);
        if (tenant == null) {
          logger.warn("tenant field '{}' does not fit the request type", tenantField.path());
          return AuthorizationServerInterceptor.RULE_TENANT_MISMATCH;
        }
        if (!tenant.equals(principal.tenant())) {
          return AuthorizationServerInterceptor.RULE_TENANT_MISMATCH;
        }
      }
      boolean restrictToPatient = patientCheck && !glassGranted;
      if (granular) {
        int grants = granularGrants(message);
        AccessDecision glass = glassFallback;
        if (grants == 0 && glass != null) {
          // Emergency access, as the call would have had without the granular scope; from now
          // on the whole call is break-glass.
          granular = false;
          glassFallback = null;
          glassGranted = true;
          restrictToPatient = false;
          facts.decision(glass);
          breakGlass = glass;
        } else if (grants == 0) {
          return AuthorizationServerInterceptor.RULE_SMART_SCOPE;
        } else {
          // A matching user/ or system/ scope is not restricted to the patient context.
          restrictToPatient &= (grants & SmartScope.GRANTS_OTHER) == 0;
        }
      }
      if (restrictToPatient && patient != null && !patient.equals(principal.patient())) {
        return AuthorizationServerInterceptor.RULE_PATIENT_MISMATCH;
      }
      return null;
    }

    /** Which contexts' granular scopes admit this request's search parameter values. */
    private int granularGrants(ReqT message) {
      java.util.Map<String, java.util.List<String>> values = new java.util.HashMap<>();
      for (java.util.Map.Entry<String, PolicyFieldPath> e : method.searchParams.entrySet()) {
        java.util.List<String> v = e.getValue().extractValues(message);
        if (v == null) {
          logger.warn(
              "search parameter field '{}' does not fit the request type", e.getValue().path());
          return 0;
        }
        values.put(e.getKey(), v);
      }
      String resource = method.fhirResource;
      return resource == null
          ? 0
          : SmartScope.evaluateValues(principal, resource, method.smartPermission, values);
    }

    @Override
    public void onHalfClose() {
      if (!denied) {
        super.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!denied && !call.isClosed()) {
        super.onReady();
      }
    }
  }
}
