package dev.hipaagrpc.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.PostureReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example server's posture report: every start-up check present, nothing unsafe, every module
 * reporting; written to {@code target/evidence-example.json}, and the sample on the site's evidence
 * page has the same members and item keys (regenerate the page's sample from that file).
 */
@Timeout(120)
class EvidenceReportTest {

  static final Path PAGE = Path.of("../src/site/markdown/evidence.md");
  static final Path GENERATED = Path.of("target/evidence-example.json");

  @TempDir static Path dir;
  private static DemoIdentityProvider idp;
  private static PatientRecordsServer server;
  private static PostureReport report;

  @BeforeAll
  static void start() throws Exception {
    DemoEnvironment env = DemoEnvironment.createOrLoad(dir);
    idp = DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
    server = PatientRecordsServer.start(env, 0, idp.issuer(), idp.jwksUri(), env.trustingDevRoot());
    // The key source fetches in the background at start: wait (bounded) for its first keys.
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    report = server.posture();
    while (!report.keys(PostureItem.Status.WARN).isEmpty() && System.nanoTime() < giveUp) {
      Thread.sleep(20);
      report = server.posture();
    }
    Files.createDirectories(GENERATED.getParent());
    Files.writeString(GENERATED, report.toJson() + "\n", StandardCharsets.UTF_8);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    idp.close();
  }

  private static List<String> itemKeys(JsonObject report) {
    List<String> keys = new ArrayList<>();
    for (JsonElement e : report.getAsJsonArray("items")) {
      keys.add(e.getAsJsonObject().get("key").getAsString());
    }
    return keys;
  }

  @Test
  void example_everyCheckPresentNothingUnsafeEveryModuleReports() {
    assertThat(report.keys(PostureItem.Status.UNSAFE)).isEmpty();
    assertThat(report.keys(PostureItem.Status.WARN)).isEmpty();
    JsonObject json = JsonParser.parseString(report.toJson()).getAsJsonObject();
    assertThat(itemKeys(json))
        .contains(
            "stack.required.audit",
            "stack.required.transport_guard",
            "stack.required.authentication",
            "stack.required.authorization",
            "audit.delivery",
            "audit.chain",
            "tls.transport_guard",
            "auth.issuers",
            "authz.policy",
            "authz.break_glass",
            "ratelimit.limits",
            "masking.strict",
            "tls.protocols",
            "tls.cipher_suites",
            "tls.named_groups",
            "tls.signature_schemes",
            "tls.client_auth",
            "tls.identity",
            "tls.certificates");
    String text = report.toJson();
    // Evidence, not secrets: no key material of the demo's files, no bearer token.
    assertThat(text).doesNotContain("PRIVATE KEY").doesNotContain("eyJ");
  }

  @Test
  void sitePage_sampleHasTheLiveReportsMembersAndItemKeys() throws Exception {
    String page = Files.readString(PAGE, StandardCharsets.UTF_8);
    int start = page.indexOf("```json\n");
    assertThat(start).as("the evidence page has a ```json sample").isNotNegative();
    int end = page.indexOf("\n```", start + 8);
    JsonObject sample = JsonParser.parseString(page.substring(start + 8, end)).getAsJsonObject();
    JsonObject live = JsonParser.parseString(report.toJson()).getAsJsonObject();
    assertThat(sample.keySet()).containsExactlyElementsOf(live.keySet());
    assertThat(itemKeys(sample))
        .as("regenerate the page's sample from " + GENERATED)
        .containsExactlyElementsOf(itemKeys(live));
  }
}
