package dev.hipaagrpc.core;

import dev.hipaagrpc.core.SecurityLayer.Slot;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The stack's own posture items, and the start-up checks that {@code build()} enforces. */
final class StackPosture {

  private static final Logger logger = LoggerFactory.getLogger(StackPosture.class);

  /** A layer {@code build()} refuses to do without, unless opted out by {@code optOut}. */
  record RequiredLayer(Slot slot, String optOut, Safeguard safeguard, String why) {
    String refusal() {
      return "SecurityStack has no " + slot + " layer: " + why;
    }
  }

  static final List<RequiredLayer> REQUIRED =
      List.of(
          new RequiredLayer(
              Slot.AUDIT,
              "allowUnsafeWithoutAudit",
              Safeguard.AUDIT_CONTROLS,
              "every call to a PHI service must leave an audit record (45 CFR 164.312(b)): add"
                  + " .audit(AuditServerInterceptor...) or, for a service without PHI,"
                  + " .allowUnsafeWithoutAudit()"),
          new RequiredLayer(
              Slot.TRANSPORT_GUARD,
              "allowUnsafeWithoutTransportGuard",
              Safeguard.TRANSMISSION_SECURITY,
              "without it a plaintext or non-compliant TLS connection is served (45 CFR"
                  + " 164.312(e)): add .transportGuard(TransportGuardServerInterceptor.create()) or"
                  + " .allowUnsafeWithoutTransportGuard()"),
          new RequiredLayer(
              Slot.AUTHENTICATION,
              "allowUnsafeWithoutAuthentication",
              Safeguard.PERSON_OR_ENTITY_AUTHENTICATION,
              "every caller must be identified (45 CFR 164.312(d)): add"
                  + " .authentication(AuthenticationServerInterceptor...) or"
                  + " .allowUnsafeWithoutAuthentication()"),
          new RequiredLayer(
              Slot.AUTHORIZATION,
              "allowUnsafeWithoutAuthorization",
              Safeguard.ACCESS_CONTROL,
              "access must be default-deny (45 CFR 164.312(a)(1)): add"
                  + " .authorization(AuthorizationServerInterceptor...) or"
                  + " .allowUnsafeWithoutAuthorization()"));

  private StackPosture() {}

  static List<PostureItem> items(SecurityStack stack) {
    List<PostureItem> items = new ArrayList<>();
    List<Object> order = new ArrayList<>();
    for (SecurityLayer layer : stack.layersBySlot().values()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("slot", name(layer.slot()));
      entry.put("layer", layer.describe());
      order.add(entry);
    }
    items.add(PostureItem.ok("stack.layers", Safeguard.AUDIT_CONTROLS, order));
    for (RequiredLayer r : REQUIRED) {
      String key = "stack.required." + name(r.slot());
      Map<String, Object> check = new LinkedHashMap<>();
      if (stack.optedOut().contains(r.slot())) {
        check.put("result", "opted_out");
        check.put("optOut", r.optOut());
        check.put("refusal", r.refusal());
        items.add(
            PostureItem.unsafe(
                key,
                r.safeguard(),
                check,
                r.optOut() + "() was called: without it, build() would have refused"));
      } else {
        check.put("result", "present");
        items.add(PostureItem.ok(key, r.safeguard(), check));
      }
    }
    Map<String, Object> exemptions = new LinkedHashMap<>();
    boolean auditExempt = false;
    for (Map.Entry<String, EnumSet<Slot>> e : stack.exemptions().entrySet()) {
      List<String> slots = new ArrayList<>();
      for (Slot s : e.getValue()) {
        slots.add(name(s));
      }
      auditExempt |= e.getValue().contains(Slot.AUDIT);
      exemptions.put(e.getKey(), slots);
    }
    items.add(
        auditExempt
            ? PostureItem.warn(
                "stack.exemptions",
                Safeguard.AUDIT_CONTROLS,
                exemptions,
                "some methods are not audited (exemptFromAudit)")
            : PostureItem.ok("stack.exemptions", Safeguard.ACCESS_CONTROL, exemptions));
    items.add(
        PostureItem.ok(
            "stack.max_request_message_bytes",
            Safeguard.INTEGRITY,
            stack.maxRequestMessageBytes()));
    items.add(
        PostureItem.ok(
            "stack.max_call_duration_seconds",
            Safeguard.AUTOMATIC_LOGOFF,
            stack.maxCallDuration().toSeconds()));
    return items;
  }

  /** Adds a source's items; a source that throws becomes one WARN item naming its class. */
  static void collect(PostureSource source, List<PostureItem> into) {
    List<PostureItem> items;
    try {
      items = List.copyOf(source.posture());
    } catch (RuntimeException e) {
      logger.warn(
          "Posture source {} threw {}; reported as posture.source_failed",
          source.getClass().getName(),
          e.getClass().getSimpleName());
      into.add(
          PostureItem.warn(
              "posture.source_failed",
              Safeguard.AUDIT_CONTROLS,
              source.getClass().getName(),
              "this source could not report its configuration"));
      return;
    }
    into.addAll(items);
  }

  static String name(Slot slot) {
    return slot.name().toLowerCase(Locale.ROOT);
  }
}
