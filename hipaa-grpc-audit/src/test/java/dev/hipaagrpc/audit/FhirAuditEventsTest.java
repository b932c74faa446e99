package dev.hipaagrpc.audit;

import static dev.hipaagrpc.audit.TestServer.IDENTIFIER_KEY;
import static dev.hipaagrpc.audit.TestServer.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.core.KeyedIdentifier;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The FHIR export checked against the R4 AuditEvent structure: required elements present with the
 * right cardinality and types, and every code from its required system.
 */
class FhirAuditEventsTest {

  private static final Pattern INSTANT =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
  private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  private List<AuditEvent> realEvents() throws Exception {
    TestSinks.Collecting sink = new TestSinks.Collecting();
    try (AuditDispatcher d = AuditDispatcher.newBuilder(sink).build();
        TestServer server =
            new TestServer(AuditServerInterceptor.newBuilder(d, IDENTIFIER_KEY).build())) {
      server.blocking("ok").getPatient(request("x"));
      server.blocking("breakglass").getPatient(request("x"));
      server.blocking("noaction").listObservations(request("2")).forEachRemaining(x -> {});
      assertThatThrownBy(() -> server.blocking("denied").getPatient(request("x")))
          .isInstanceOf(RuntimeException.class);
      assertThatThrownBy(() -> server.blocking("unauthenticated").getPatient(request("x")))
          .isInstanceOf(RuntimeException.class);
      List<AuditEvent> events = sink.await(5);
      AuditEvent lost =
          AuditEvent.newBuilder()
              .setEventId("00000000000000000000000000000001")
              .setType(AuditEvent.Type.EVENTS_LOST)
              .setTime("2026-03-04T05:06:07.008Z")
              .setLostEvents(3)
              .build();
      AuditEvent create =
          events.get(0).toBuilder()
              .setTarget(events.get(0).getTarget().toBuilder().setAction("create"))
              .build();
      AuditEvent execute =
          events.get(0).toBuilder()
              .setTarget(events.get(0).getTarget().toBuilder().setAction("execute"))
              .build();
      return List.of(
          events.get(0),
          events.get(1),
          events.get(2),
          events.get(3),
          events.get(4),
          lost,
          create,
          execute);
    }
  }

  @Test
  void toJson_everyKindOfEvent_conformsToR4AuditEventStructure() throws Exception {
    for (AuditEvent e : realEvents()) {
      String json = FhirAuditEvents.toJson(e, "records-service");
      JsonObject r = JsonParser.parseString(json).getAsJsonObject();
      checkAuditEvent(r, e);
    }
  }

  @Test
  void toJson_patientRead_followsBalpPatientRead() throws Exception {
    AuditEvent read = realEvents().get(0);
    JsonObject r =
        JsonParser.parseString(FhirAuditEvents.toJson(read, "records-service")).getAsJsonObject();
    assertThat(r.getAsJsonObject("meta").getAsJsonArray("profile").get(0).getAsString())
        .isEqualTo(
            "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead");
    assertThat(coding(r.getAsJsonObject("type")))
        .isEqualTo(FhirAuditEvents.AUDIT_EVENT_TYPE + "|rest");
    assertThat(r.get("action").getAsString()).isEqualTo("R");
    assertThat(r.get("outcome").getAsString()).isEqualTo("0");
    JsonArray agents = r.getAsJsonArray("agent");
    // BALP read: the client is the Destination (110152), the server the Source (110153).
    assertThat(agentTypes(agents))
        .containsExactly(
            FhirAuditEvents.DCM + "|110152",
            FhirAuditEvents.DCM + "|110153",
            FhirAuditEvents.PARTICIPATION + "|IRCP");
    JsonObject user = agents.get(2).getAsJsonObject();
    assertThat(user.get("requestor").getAsBoolean()).isTrue();
    assertThat(user.getAsJsonObject("who").getAsJsonObject("identifier").get("value").getAsString())
        .isEqualTo("dr.house");
    JsonArray entities = r.getAsJsonArray("entity");
    JsonObject patient = entities.get(0).getAsJsonObject();
    assertThat(codingOf(patient.getAsJsonObject("type")))
        .isEqualTo(FhirAuditEvents.ENTITY_TYPE + "|1");
    assertThat(codingOf(patient.getAsJsonObject("role")))
        .isEqualTo(FhirAuditEvents.OBJECT_ROLE + "|1");
    assertThat(
            patient
                .getAsJsonObject("what")
                .getAsJsonObject("identifier")
                .get("value")
                .getAsString())
        .startsWith(KeyedIdentifier.PREFIX);
    JsonObject tx = entities.get(2).getAsJsonObject();
    assertThat(codingOf(tx.getAsJsonObject("type")))
        .isEqualTo(FhirAuditEvents.BALP_ENTITY + "|XrequestId");
    assertThat(
            r.getAsJsonArray("purposeOfEvent")
                .get(0)
                .getAsJsonObject()
                .getAsJsonArray("coding")
                .get(0)
                .getAsJsonObject()
                .get("code")
                .getAsString())
        .isEqualTo("TREAT");
  }

  @Test
  void toJson_breakGlassAndDenied_codes() throws Exception {
    List<AuditEvent> events = realEvents();
    JsonObject bg =
        JsonParser.parseString(FhirAuditEvents.toJson(events.get(1), "s")).getAsJsonObject();
    assertThat(bg.toString()).contains("\"code\":\"BTG\"");
    JsonObject denied =
        JsonParser.parseString(FhirAuditEvents.toJson(events.get(3), "s")).getAsJsonObject();
    assertThat(denied.get("outcome").getAsString()).isEqualTo("4");
    assertThat(denied.get("outcomeDesc").getAsString()).isEqualTo("PERMISSION_DENIED");
  }

  private static String coding(JsonObject c) {
    return c.get("system").getAsString() + "|" + c.get("code").getAsString();
  }

  private static String codingOf(JsonObject concept) {
    return coding(concept);
  }

  private static List<String> agentTypes(JsonArray agents) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonElement a : agents) {
      JsonObject c =
          a.getAsJsonObject()
              .getAsJsonObject("type")
              .getAsJsonArray("coding")
              .get(0)
              .getAsJsonObject();
      out.add(coding(c));
    }
    return out;
  }

  /** R4 AuditEvent: cardinalities, primitive formats and the systems of the bound codes. */
  private static void checkAuditEvent(JsonObject r, AuditEvent source) {
    assertThat(r.get("resourceType").getAsString()).isEqualTo("AuditEvent");
    assertThat(r.get("id").getAsString()).matches(FHIR_ID);
    for (String key : r.keySet()) {
      assertThat(key)
          .isIn(
              "resourceType",
              "id",
              "meta",
              "type",
              "subtype",
              "action",
              "period",
              "recorded",
              "outcome",
              "outcomeDesc",
              "purposeOfEvent",
              "agent",
              "source",
              "entity");
    }
    // type 1..1 Coding (extensible binding to audit-event-type / DICOM).
    JsonObject type = r.getAsJsonObject("type");
    assertThat(type).isNotNull();
    assertThat(type.get("system").getAsString())
        .isIn(FhirAuditEvents.AUDIT_EVENT_TYPE, FhirAuditEvents.DCM);
    assertThat(type.get("code").getAsString()).isNotBlank();
    // subtype 0..* Coding
    for (JsonElement s : r.getAsJsonArray("subtype")) {
      JsonObject c = s.getAsJsonObject();
      assertThat(c.get("system").getAsString()).isNotBlank();
      if (c.get("system").getAsString().equals(FhirAuditEvents.RESTFUL_INTERACTION)) {
        assertThat(c.get("code").getAsString())
            .isIn("read", "create", "update", "delete", "search", "operation");
      }
    }
    // action 0..1 code, required binding AuditEventAction.
    if (r.has("action")) {
      assertThat(r.get("action").getAsString()).isIn("C", "R", "U", "D", "E");
    }
    // recorded 1..1 instant.
    assertThat(r.get("recorded").getAsString()).matches(INSTANT).isEqualTo(source.getTime());
    // outcome 0..1 code, required binding AuditEventOutcome.
    assertThat(r.get("outcome").getAsString()).isIn("0", "4", "8", "12");
    if (r.has("purposeOfEvent")) {
      for (JsonElement p : r.getAsJsonArray("purposeOfEvent")) {
        JsonObject c = p.getAsJsonObject().getAsJsonArray("coding").get(0).getAsJsonObject();
        assertThat(c.get("system").getAsString()).isEqualTo(FhirAuditEvents.ACT_REASON);
      }
    }
    // agent 1..*, each with requestor 1..1 boolean; type from DICOM or ParticipationType.
    JsonArray agents = r.getAsJsonArray("agent");
    assertThat(agents).isNotNull();
    assertThat(agents.size()).isGreaterThanOrEqualTo(1);
    int requestors = 0;
    for (JsonElement ae : agents) {
      JsonObject a = ae.getAsJsonObject();
      assertThat(a.get("requestor").isJsonPrimitive()).isTrue();
      if (a.get("requestor").getAsBoolean()) {
        requestors++;
      }
      JsonObject c = a.getAsJsonObject("type").getAsJsonArray("coding").get(0).getAsJsonObject();
      assertThat(c.get("system").getAsString())
          .isIn(FhirAuditEvents.DCM, FhirAuditEvents.PARTICIPATION);
      assertThat(a.has("who")).isTrue();
      if (a.has("network")) {
        assertThat(a.getAsJsonObject("network").get("type").getAsString())
            .isIn("1", "2", "3", "4", "5");
      }
      if (a.has("policy")) {
        for (JsonElement p : a.getAsJsonArray("policy")) {
          assertThat(p.getAsString()).startsWith("urn:");
        }
      }
    }
    assertThat(requestors).isLessThanOrEqualTo(1);
    // source 1..1 with observer 1..1 Reference; type from security-source-type.
    JsonObject src = r.getAsJsonObject("source");
    assertThat(src).isNotNull();
    assertThat(src.getAsJsonObject("observer").get("display").getAsString()).isNotBlank();
    for (JsonElement t : src.getAsJsonArray("type")) {
      assertThat(t.getAsJsonObject().get("system").getAsString())
          .isEqualTo(FhirAuditEvents.SOURCE_TYPE);
      assertThat(t.getAsJsonObject().get("code").getAsString())
          .isIn("1", "2", "3", "4", "5", "6", "7", "8", "9");
    }
    // entity 0..*: type from audit-entity-type (or BALP), role from object-role.
    if (r.has("entity")) {
      assertThat(r.getAsJsonArray("entity").size()).isPositive();
      for (JsonElement ee : r.getAsJsonArray("entity")) {
        JsonObject e = ee.getAsJsonObject();
        assertThat(e.has("what")).isTrue();
        assertThat(e.getAsJsonObject("type").get("system").getAsString())
            .isIn(FhirAuditEvents.ENTITY_TYPE, FhirAuditEvents.BALP_ENTITY);
        if (e.has("role")) {
          assertThat(e.getAsJsonObject("role").get("system").getAsString())
              .isEqualTo(FhirAuditEvents.OBJECT_ROLE);
        }
      }
    }
    if (r.has("meta")) {
      String profile = r.getAsJsonObject("meta").getAsJsonArray("profile").get(0).getAsString();
      assertThat(profile)
          .startsWith(FhirAuditEvents.BALP_PROFILE + "IHE.BasicAudit.")
          .satisfies(
              p ->
                  assertThat(
                          Set.of(
                              "Create",
                              "Read",
                              "Update",
                              "Delete",
                              "Query",
                              "PatientCreate",
                              "PatientRead",
                              "PatientUpdate",
                              "PatientDelete",
                              "PatientQuery"))
                      .contains(p.substring(p.lastIndexOf('.') + 1)));
    }
  }
}
