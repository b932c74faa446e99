package dev.hipaagrpc.audit;

import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Authorization;
import dev.hipaagrpc.audit.proto.Outcome;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.audit.proto.Traffic;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.Actions;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.KeyedIdentifier;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.proto.Action;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Turns what a call learned into an {@link AuditEvent}. Identifiers that may name a patient are
 * written in core's {@link KeyedIdentifier} format under the audit identifier key.
 */
final class EventFactory {

  static final String SCHEMA = "hipaagrpc.audit/2";

  // The keyed-identifier domains of audit events; AccessReport finds patients under "patient".
  static final String PATIENT_DOMAIN = "patient";
  static final String SUBJECT_DOMAIN = "subject";
  static final String ADDRESS_DOMAIN = "address";

  private final KeyedIdentifier identifiers;
  private final HeaderAllowList headers;
  private final boolean hashAllSubjects;
  private final Clock clock;

  EventFactory(
      KeyedIdentifier identifiers, HeaderAllowList headers, boolean hashAllSubjects, Clock clock) {
    this.identifiers = identifiers;
    this.headers = headers;
    this.hashAllSubjects = hashAllSubjects;
    this.clock = clock;
  }

  /**
   * The keyed identifiers of the patients an event records: version 2's list, or version 1's single
   * {@code patient_hmac}.
   */
  static List<String> patientsOf(AuditEvent e) {
    Resource r = e.getResource();
    if (r.getPatientsCount() > 0) {
      return r.getPatientsList();
    }
    return r.getPatientHmac().isEmpty() ? List.of() : List.of(r.getPatientHmac());
  }

  String patientHash(String patientId) {
    return identifiers.of(PATIENT_DOMAIN, patientId);
  }

  AuditEvent.Builder newEvent(AuditEvent.Type type) {
    return newEvent(type, clock);
  }

  static AuditEvent.Builder newEvent(AuditEvent.Type type, Clock clock) {
    return AuditEvent.newBuilder()
        .setSchema(SCHEMA)
        .setEventId(CorrelationId.generate())
        .setType(type)
        .setTime(Timestamps.format(clock.millis()));
  }

  /** The allow-listed headers of a request. */
  Map<String, String> recordedHeaders(Metadata requestHeaders) {
    return headers.recorded(requestHeaders);
  }

  /** Whether the caller may be a patient, so that its identifiers must be keyed-hashed. */
  boolean identifiesPatient(@Nullable Principal p) {
    if (p == null) {
      return true;
    }
    if (hashAllSubjects) {
      return true;
    }
    String fhirUser = p.fhirUser();
    return p.patient() != null
        || (fhirUser != null
            && (fhirUser.startsWith("Patient/")
                || fhirUser.startsWith("RelatedPerson/")
                || fhirUser.contains("/Patient/")
                || fhirUser.contains("/RelatedPerson/")));
  }

  void actor(AuditEvent.Builder b, @Nullable Principal p, @Nullable String authFailure) {
    Actor.Builder a = Actor.newBuilder();
    if (p != null) {
      if (identifiesPatient(p)) {
        a.setSubject(identifiers.of(SUBJECT_DOMAIN, p.subject())).setSubjectHashed(true);
      } else {
        a.setSubject(p.subject());
      }
      a.setKind(p.kind().name())
          .addAllRoles(p.roles())
          .setAuthMethod(p.authMethod().name())
          .setCredentialFingerprint(p.credentialFingerprint());
      String via = p.viaService();
      if (via != null) {
        a.setViaService(via);
      }
      String issuer = p.issuer();
      if (issuer != null) {
        a.setIssuer(issuer);
      }
      String tenant = p.tenant();
      if (tenant != null) {
        a.setTenant(tenant);
      }
    }
    if (authFailure != null) {
      a.setAuthenticationFailure(authFailure);
    }
    b.setActor(a);
  }

  /** The peer IP: raw for workforce and workloads, keyed-hashed when it may be a patient's. */
  String address(@Nullable SocketAddress remote, @Nullable Principal p) {
    if (remote == null) {
      return "";
    }
    String text;
    if (remote instanceof InetSocketAddress inet) {
      text = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
    } else {
      // In-process and Unix-domain addresses name no person.
      return remote.getClass().getSimpleName();
    }
    return identifiesPatient(p) ? identifiers.of(ADDRESS_DOMAIN, text) : text;
  }

  void facts(AuditEvent.Builder b, CallFacts facts) {
    String resourceType = facts.resourceType();
    List<String> patients = facts.patientIds();
    if (resourceType != null || !patients.isEmpty()) {
      Resource.Builder r = Resource.newBuilder();
      if (resourceType != null) {
        r.setType(resourceType);
      }
      for (String patient : patients) {
        r.addPatients(patientHash(patient));
      }
      r.setPatientsOmitted(facts.patientsOmitted());
      b.setResource(r);
    }
    AccessDecision d = facts.decision();
    String purpose = facts.purposeOfUse();
    String glass = facts.breakGlassRequest();
    if (d != null || purpose != null || glass != null) {
      Authorization.Builder z = Authorization.newBuilder();
      if (d != null) {
        z.setDecision(d.outcome().name()).setRuleId(d.ruleId()).setPolicyVersion(d.policyVersion());
      }
      // The reason of a break-glass attempt, granted (decision BREAK_GLASS) or refused (DENY).
      String reason = d != null && d.breakGlassReason() != null ? d.breakGlassReason() : glass;
      if (reason != null) {
        z.setBreakGlassReason(reason);
      }
      if (purpose != null) {
        z.setPurposeOfUse(purpose);
      }
      b.setAuthorization(z);
    }
    b.setMaskedFields(facts.maskedFields());
  }

  /**
   * The action code of a call: what authorization published for it, else the method's {@code
   * (hipaagrpc.core.action)} option, else core's naming rule.
   */
  static String action(@Nullable Action published, MethodDescriptor<?, ?> method) {
    return Actions.code(published != null ? published : Actions.of(method));
  }

  static void outcome(AuditEvent.Builder b, Status status) {
    // The code only: descriptions may carry anything, including PHI.
    Status.Code code = status.getCode();
    b.setOutcome(Outcome.newBuilder().setStatus(code.name()).setStatusCode(code.value()));
  }

  static Traffic traffic(long reqMsgs, long reqBytes, long respMsgs, long respBytes) {
    return Traffic.newBuilder()
        .setRequestMessages(reqMsgs)
        .setRequestBytes(reqBytes)
        .setResponseMessages(respMsgs)
        .setResponseBytes(respBytes)
        .build();
  }
}
