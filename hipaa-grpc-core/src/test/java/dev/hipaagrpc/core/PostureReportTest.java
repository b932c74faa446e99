package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.hipaagrpc.core.SecurityLayer.Slot;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PostureReportTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-02T07:00:00.123Z"), ZoneOffset.UTC);

  /** A pass-through interceptor that is also a posture source. */
  private static final class Reporting implements ServerInterceptor, PostureSource {
    private final List<PostureItem> items;

    Reporting(PostureItem... items) {
      this.items = List.of(items);
    }

    @Override
    public List<PostureItem> posture() {
      return items;
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      return next.startCall(call, headers);
    }
  }

  private static SecurityLayer layer(Slot slot, PostureItem... items) {
    return SecurityLayer.of(
        slot, new Reporting(items), slot.name().toLowerCase(java.util.Locale.ROOT) + " layer");
  }

  private static JsonObject json(PostureReport r) {
    return JsonParser.parseString(r.toJson()).getAsJsonObject();
  }

  private static List<String> keys(JsonObject report) {
    List<String> keys = new ArrayList<>();
    for (JsonElement e : report.getAsJsonArray("items")) {
      keys.add(e.getAsJsonObject().get("key").getAsString());
    }
    return keys;
  }

  private static JsonObject item(JsonObject report, String key) {
    for (JsonElement e : report.getAsJsonArray("items")) {
      if (e.getAsJsonObject().get("key").getAsString().equals(key)) {
        return e.getAsJsonObject();
      }
    }
    throw new AssertionError("no item " + key);
  }

  @Test
  void posture_fullStack_layersInOrderEveryCheckPresentLayerItemsAfterStackItems() {
    SecurityStack stack =
        SecurityStack.newBuilder()
            .masking(
                layer(
                    Slot.MASKING,
                    PostureItem.ok("masking.strict", Safeguard.MINIMUM_NECESSARY, true)))
            .authorization(
                layer(
                    Slot.AUTHORIZATION,
                    PostureItem.ok("authz.default_deny", Safeguard.ACCESS_CONTROL, true)))
            .audit(
                layer(Slot.AUDIT, PostureItem.ok("audit.sink", Safeguard.AUDIT_CONTROLS, "file")))
            .transportGuard(layer(Slot.TRANSPORT_GUARD))
            .authentication(layer(Slot.AUTHENTICATION))
            .maxCallDuration(Duration.ofSeconds(90))
            .postureFrom(
                () ->
                    List.of(
                        PostureItem.ok(
                            "tls.protocols", Safeguard.TRANSMISSION_SECURITY, List.of("TLSv1.3"))))
            .build();

    JsonObject report = json(stack.posture(CLOCK));

    assertThat(report.get("schema").getAsString()).isEqualTo(PostureReport.SCHEMA);
    assertThat(report.get("generatedAt").getAsString()).isEqualTo("2026-12-02T07:00:00Z");
    assertThat(report.get("status").getAsString()).isEqualTo("OK");
    assertThat(report.getAsJsonArray("unsafe")).isEmpty();
    List<String> slots = new ArrayList<>();
    for (JsonElement e : item(report, "stack.layers").getAsJsonArray("value")) {
      slots.add(e.getAsJsonObject().get("slot").getAsString());
    }
    assertThat(slots)
        .containsExactly(
            "correlation",
            "audit",
            "deadline_cap",
            "transport_guard",
            "authentication",
            "authorization",
            "masking");
    assertThat(keys(report))
        .containsExactly(
            "stack.layers",
            "stack.required.audit",
            "stack.required.transport_guard",
            "stack.required.authentication",
            "stack.required.authorization",
            "stack.exemptions",
            "stack.max_request_message_bytes",
            "stack.max_call_duration_seconds",
            "audit.sink",
            "authz.default_deny",
            "masking.strict",
            "tls.protocols");
    assertThat(
            item(report, "stack.required.audit")
                .getAsJsonObject("value")
                .get("result")
                .getAsString())
        .isEqualTo("present");
    assertThat(item(report, "stack.max_call_duration_seconds").get("value").getAsLong())
        .isEqualTo(90);
    assertThat(item(report, "tls.protocols").get("standard").getAsString())
        .isEqualTo("164.312(e)(1)");
  }

  @Test
  void posture_optedOutOfAuditAndGuard_listedUnsafeWithTheRefusalBuildWouldHaveGiven() {
    SecurityStack stack =
        SecurityStack.newBuilder()
            .allowUnsafeWithoutAudit()
            .allowUnsafeWithoutTransportGuard()
            .authentication(layer(Slot.AUTHENTICATION))
            .authorization(layer(Slot.AUTHORIZATION))
            .build();

    PostureReport posture = stack.posture(CLOCK);
    JsonObject report = json(posture);

    assertThat(posture.status()).isEqualTo(PostureItem.Status.UNSAFE);
    assertThat(report.get("status").getAsString()).isEqualTo("UNSAFE");
    JsonArray unsafe = report.getAsJsonArray("unsafe");
    assertThat(unsafe.asList())
        .extracting(JsonElement::getAsString)
        .containsExactly("stack.required.audit", "stack.required.transport_guard");
    JsonObject audit = item(report, "stack.required.audit");
    assertThat(audit.get("standard").getAsString()).isEqualTo("164.312(b)");
    JsonObject value = audit.getAsJsonObject("value");
    assertThat(value.get("result").getAsString()).isEqualTo("opted_out");
    assertThat(value.get("optOut").getAsString()).isEqualTo("allowUnsafeWithoutAudit");
    // The refusal is the very message build() gives without the opt-out.
    assertThatThrownBy(
            () ->
                SecurityStack.newBuilder()
                    .allowUnsafeWithoutTransportGuard()
                    .authentication(layer(Slot.AUTHENTICATION))
                    .authorization(layer(Slot.AUTHORIZATION))
                    .build())
        .hasMessage(value.get("refusal").getAsString());
    assertThat(item(report, "stack.required.authentication").get("status").getAsString())
        .isEqualTo("OK");
  }

  @Test
  void posture_auditExemption_warns() {
    SecurityStack stack =
        minimal()
            .exemptFromAuthentication(SecurityStack.HEALTH)
            .exemptFromAudit(SecurityStack.HEALTH)
            .build();
    JsonObject report = json(stack.posture(CLOCK));
    JsonObject exemptions = item(report, "stack.exemptions");
    assertThat(exemptions.get("status").getAsString()).isEqualTo("WARN");
    assertThat(exemptions.getAsJsonObject("value").getAsJsonArray(SecurityStack.HEALTH).asList())
        .extracting(JsonElement::getAsString)
        .containsExactlyInAnyOrder("audit", "authentication", "authorization");
    assertThat(report.getAsJsonArray("warnings").asList())
        .extracting(JsonElement::getAsString)
        .containsExactly("stack.exemptions");
  }

  @Test
  void posture_throwingSource_oneWarnItemTheReportStillMade() {
    SecurityStack stack =
        minimal()
            .postureFrom(
                () -> {
                  throw new IllegalStateException("secret-token-123");
                })
            .build();
    PostureReport posture = stack.posture(CLOCK);
    assertThat(posture.keys(PostureItem.Status.WARN)).containsExactly("posture.source_failed");
    assertThat(posture.toJson()).doesNotContain("secret-token-123");
  }

  @Test
  void toJson_sameConfiguration_sameBytesMapKeysSorted() {
    Map<String, Object> unordered = new LinkedHashMap<>();
    unordered.put("zeta", 1);
    unordered.put("alpha", List.of("b", "a"));
    SecurityStack stack =
        minimal()
            .postureFrom(() -> List.of(PostureItem.ok("x.map", Safeguard.INTEGRITY, unordered)))
            .build();
    String first = stack.posture(CLOCK).toJson();
    assertThat(stack.posture(CLOCK).toJson()).isEqualTo(first);
    assertThat(first.indexOf("\"alpha\"")).isLessThan(first.indexOf("\"zeta\""));
    assertThat(first).contains("\"zeta\": 1");
    // Lists keep their order.
    assertThat(first.indexOf("\"b\"")).isLessThan(first.indexOf("\"a\""));
  }

  @Test
  void toJson_valuesWithQuotesAndControlCharacters_escapedByTheWriter() {
    SecurityStack stack =
        minimal()
            .postureFrom(
                () ->
                    List.of(
                        PostureItem.ok("x.text", Safeguard.INTEGRITY, "CN=\"a\",O=<b>\n\u0001")))
            .build();
    JsonObject report = json(stack.posture(CLOCK));
    assertThat(item(report, "x.text").get("value").getAsString())
        .isEqualTo("CN=\"a\",O=<b>\n\u0001");
  }

  @Test
  void item_badKeyOrValue_refused() {
    assertThatThrownBy(() -> PostureItem.ok("Tls.Protocols", Safeguard.INTEGRITY, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PostureItem.ok("x.y", Safeguard.INTEGRITY, new Object()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PostureItem.ok("x.y", Safeguard.INTEGRITY, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> PostureItem.of("x.y", Safeguard.INTEGRITY, PostureItem.Status.WARN, "v", null))
        .isInstanceOf(IllegalArgumentException.class);
    List<Object> mutable = new ArrayList<>(List.of("a"));
    PostureItem item = PostureItem.ok("x.y", Safeguard.INTEGRITY, mutable);
    mutable.add("b");
    assertThat(item.value()).isEqualTo(List.of("a"));
  }

  private static SecurityStack.Builder minimal() {
    return SecurityStack.newBuilder()
        .allowUnsafeWithoutAudit()
        .allowUnsafeWithoutTransportGuard()
        .authentication(layer(Slot.AUTHENTICATION))
        .authorization(layer(Slot.AUTHORIZATION));
  }
}
