package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Exports audit events as FHIR R4 {@code AuditEvent} resources (JSON), following the IHE Basic
 * Audit Log Patterns (BALP) where they apply: {@code type} {@code rest}, {@code subtype} the FHIR
 * restful interaction, the client and server agents as DICOM Source/Destination Role ID (which is
 * which depends on the direction of the data), the user as an {@code IRCP} requestor, the
 * Application Server source, the patient entity (Person/Patient, identified by the keyed hash
 * only), the resource entity, and the correlation id as BALP's {@code XrequestId} entity. Resources
 * of the BALP Create/Read/Update/Delete/Query patterns declare the matching profile in {@code
 * meta.profile}; execute and EVENTS_LOST events use the base resource.
 *
 * <p>Values that are not FHIR codes (gRPC method, status name, policy rule) go in {@code
 * outcomeDesc}, {@code subtype} with a {@code urn:hipaagrpc:} system, and {@code agent.policy}.
 *
 * <p>Thread-safe (stateless).
 */
public final class FhirAuditEvents {

  static final String AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
  static final String RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction";
  static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
  static final String PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
  static final String ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
  static final String SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type";
  static final String ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
  static final String OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role";
  static final String BALP_ENTITY =
      "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";
  static final String BALP_PROFILE = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";
  static final String GRPC_METHOD = "urn:hipaagrpc:grpc-method";
  static final String PATIENT_HMAC = "urn:hipaagrpc:patient-hmac";
  static final String SUBJECT = "urn:hipaagrpc:subject";

  private FhirAuditEvents() {}

  /**
   * Returns the event as one FHIR R4 AuditEvent resource in JSON.
   *
   * @param event an event from an audit log or a sink
   * @param observer the name of the audited system (FHIR {@code source.observer.display}), such as
   *     the service's host or application name
   */
  public static String toJson(AuditEvent event, String observer) {
    requireNonNull(event, "event");
    requireNonNull(observer, "observer");
    String action = event.getTarget().getAction();
    boolean hasPatient = !EventFactory.patientsOf(event).isEmpty();
    String pattern = pattern(action);
    StringBuilder sb = new StringBuilder(1024);
    Json.Obj r = new Json.Obj(sb);
    r.str("resourceType", "AuditEvent").str("id", event.getEventId());
    if (pattern != null && event.getType() != AuditEvent.Type.EVENTS_LOST) {
      Json.Obj meta = r.obj("meta");
      meta.key("profile").append('[');
      Json.string(sb, BALP_PROFILE + "IHE.BasicAudit." + (hasPatient ? "Patient" : "") + pattern);
      sb.append(']');
      meta.end();
    }
    // type 1..1
    Json.Obj type = r.obj("type");
    if (event.getType() == AuditEvent.Type.EVENTS_LOST) {
      type.str("system", DCM).str("code", "110100").str("display", "Application Activity");
    } else {
      type.str("system", AUDIT_EVENT_TYPE).str("code", "rest").str("display", "RESTful Operation");
    }
    type.end();
    // subtype
    sb.append(",\"subtype\":[");
    boolean first = true;
    String interaction = interaction(action);
    if (interaction != null) {
      coding(sb, RESTFUL_INTERACTION, interaction);
      first = false;
    }
    if (event.hasTarget()) {
      if (!first) {
        sb.append(',');
      }
      coding(sb, GRPC_METHOD, event.getTarget().getService() + "/" + event.getTarget().getMethod());
      first = false;
    }
    if (first) {
      coding(sb, "urn:hipaagrpc:event-type", event.getType().name());
    }
    sb.append(']');
    r.str("action", actionCode(action));
    r.str("recorded", event.getTime());
    r.str("outcome", outcomeCode(event.getOutcome().getStatus()));
    String desc = event.getOutcome().getStatus();
    if (event.getType() == AuditEvent.Type.CALL_CANCELLED) {
      desc = "CANCELLED by the client";
    } else if (event.getType() == AuditEvent.Type.EVENTS_LOST) {
      desc = event.getLostEvents() + " audit events lost (shedding mode)";
    }
    r.str("outcomeDesc", desc);
    String purpose = event.getAuthorization().getPurposeOfUse();
    boolean breakGlass = event.getAuthorization().getDecision().equals("BREAK_GLASS");
    if (!purpose.isEmpty() || breakGlass) {
      sb.append(",\"purposeOfEvent\":[");
      boolean f = true;
      if (!purpose.isEmpty()) {
        concept(sb, ACT_REASON, purpose);
        f = false;
      }
      if (breakGlass) {
        if (!f) {
          sb.append(',');
        }
        concept(sb, ACT_REASON, "BTG");
      }
      sb.append(']');
    }
    agents(sb, event, observer, action);
    // source 1..1 with observer 1..1
    Json.Obj source = r.obj("source");
    source.str("site", observer);
    source.obj("observer").str("display", observer).end();
    sb.append(",\"type\":[");
    coding(sb, SOURCE_TYPE, "4");
    sb.append(']');
    source.end();
    entities(sb, event, action);
    r.end();
    return sb.toString();
  }

  /** BALP pattern of the action, or null when none applies (execute). */
  static @Nullable String pattern(String action) {
    return switch (action) {
      case "create" -> "Create";
      case "read" -> "Read";
      case "update" -> "Update";
      case "delete" -> "Delete";
      case "search" -> "Query";
      default -> null;
    };
  }

  static @Nullable String interaction(String action) {
    return switch (action) {
      case "create" -> "create";
      case "read" -> "read";
      case "update" -> "update";
      case "delete" -> "delete";
      case "search" -> "search";
      case "execute" -> "operation";
      default -> null;
    };
  }

  /** FHIR AuditEventAction: C, R, U, D, E. */
  static String actionCode(String action) {
    return switch (action) {
      case "create" -> "C";
      case "read" -> "R";
      case "update" -> "U";
      case "delete" -> "D";
      default -> "E";
    };
  }

  /** FHIR AuditEventOutcome: 0 success, 4 minor (the caller's fault), 8 serious (ours). */
  static String outcomeCode(String status) {
    return switch (status) {
      case "OK", "" -> "0";
      case "CANCELLED",
          "INVALID_ARGUMENT",
          "NOT_FOUND",
          "ALREADY_EXISTS",
          "PERMISSION_DENIED",
          "UNAUTHENTICATED",
          "RESOURCE_EXHAUSTED",
          "FAILED_PRECONDITION",
          "ABORTED",
          "OUT_OF_RANGE" ->
          "4";
      case "DATA_LOSS" -> "12";
      default -> "8";
    };
  }

  private static void agents(StringBuilder sb, AuditEvent e, String observer, String action) {
    // BALP: for a read the server is the source of the data; otherwise the client is.
    boolean read = action.equals("read");
    String clientRole = read ? "110152" : "110153";
    String serverRole = read ? "110153" : "110152";
    boolean outgoing = e.getType() == AuditEvent.Type.CLIENT_CALL;
    sb.append(",\"agent\":[");
    // The client (network peer) agent.
    Json.Obj client = new Json.Obj(sb);
    roleType(client, clientRole);
    Json.Obj who = client.obj("who");
    String peer = e.getSource().getPeerSpiffeId();
    who.str("display", outgoing ? observer : peer.isEmpty() ? "client" : peer);
    who.end();
    client.key("requestor").append("false");
    String address = outgoing ? "" : e.getSource().getAddress();
    if (!address.isEmpty()) {
      client.obj("network").str("address", address).str("type", "2").end();
    }
    client.end();
    sb.append(',');
    // The server agent.
    Json.Obj server = new Json.Obj(sb);
    roleType(server, serverRole);
    server.obj("who").str("display", outgoing ? e.getSource().getAuthority() : observer).end();
    server.key("requestor").append("false");
    server.end();
    // The user (or workload) that asked.
    Actor a = e.getActor();
    if (!a.getSubject().isEmpty() || !a.getAuthenticationFailure().isEmpty()) {
      sb.append(',');
      Json.Obj user = new Json.Obj(sb);
      Json.Obj t = user.obj("type");
      t.key("coding").append('[');
      coding(sb, PARTICIPATION, "IRCP");
      sb.append(']');
      t.end();
      if (!a.getSubject().isEmpty()) {
        Json.Obj w = user.obj("who");
        w.obj("identifier").str("system", SUBJECT).str("value", a.getSubject()).end();
        w.end();
      } else {
        user.obj("who").str("display", "unauthenticated: " + a.getAuthenticationFailure()).end();
      }
      user.key("requestor").append("true");
      if (!a.getRolesList().isEmpty()) {
        sb.append(",\"role\":[");
        List<String> roles = a.getRolesList();
        for (int i = 0; i < roles.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          Json.Obj c = new Json.Obj(sb);
          c.str("text", roles.get(i));
          c.end();
        }
        sb.append(']');
      }
      String rule = e.getAuthorization().getRuleId();
      if (!rule.isEmpty() || !a.getCredentialFingerprint().isEmpty()) {
        sb.append(",\"policy\":[");
        boolean f = true;
        if (!rule.isEmpty()) {
          Json.string(
              sb,
              "urn:hipaagrpc:policy:"
                  + e.getAuthorization().getPolicyVersion()
                  + "#"
                  + rule.toLowerCase(Locale.ROOT));
          f = false;
        }
        if (!a.getCredentialFingerprint().isEmpty()) {
          if (!f) {
            sb.append(',');
          }
          Json.string(sb, "urn:hipaagrpc:credential:" + a.getCredentialFingerprint());
        }
        sb.append(']');
      }
      String purpose = e.getAuthorization().getPurposeOfUse();
      if (!purpose.isEmpty()) {
        sb.append(",\"purposeOfUse\":[");
        concept(sb, ACT_REASON, purpose);
        sb.append(']');
      }
      user.end();
    }
    sb.append(']');
  }

  private static void roleType(Json.Obj agent, String dcmCode) {
    Json.Obj t = agent.obj("type");
    StringBuilder sb = t.key("coding").append('[');
    coding(sb, DCM, dcmCode);
    sb.append(']');
    t.end();
  }

  private static void entities(StringBuilder sb, AuditEvent e, String action) {
    sb.append(",\"entity\":[");
    boolean first = true;
    for (String patient : EventFactory.patientsOf(e)) {
      if (!first) {
        sb.append(',');
      }
      Json.Obj p = new Json.Obj(sb);
      Json.Obj what = p.obj("what");
      what.obj("identifier").str("system", PATIENT_HMAC).str("value", patient).end();
      what.end();
      codingField(p, "type", ENTITY_TYPE, "1");
      codingField(p, "role", OBJECT_ROLE, "1");
      p.end();
      first = false;
    }
    String resourceType = e.getResource().getType();
    if (!resourceType.isEmpty()) {
      if (!first) {
        sb.append(',');
      }
      Json.Obj res = new Json.Obj(sb);
      res.obj("what").str("display", resourceType).end();
      codingField(res, "type", ENTITY_TYPE, "2");
      codingField(res, "role", OBJECT_ROLE, action.equals("search") ? "24" : "4");
      res.end();
      first = false;
    }
    if (!e.getCorrelationId().isEmpty()) {
      if (!first) {
        sb.append(',');
      }
      Json.Obj tx = new Json.Obj(sb);
      Json.Obj what = tx.obj("what");
      what.obj("identifier").str("value", e.getCorrelationId()).end();
      what.end();
      codingField(tx, "type", BALP_ENTITY, "XrequestId");
      tx.end();
      first = false;
    }
    if (first) {
      // entity is optional in R4, but an empty array is not valid JSON for FHIR: drop it.
      sb.setLength(sb.length() - ",\"entity\":[".length());
      return;
    }
    sb.append(']');
  }

  private static void coding(StringBuilder sb, String system, String code) {
    new Json.Obj(sb).str("system", system).str("code", code).end();
  }

  private static void codingField(Json.Obj parent, String name, String system, String code) {
    parent.obj(name).str("system", system).str("code", code).end();
  }

  private static void concept(StringBuilder sb, String system, String code) {
    Json.Obj c = new Json.Obj(sb);
    StringBuilder b = c.key("coding").append('[');
    coding(b, system, code);
    b.append(']');
    c.end();
  }
}
