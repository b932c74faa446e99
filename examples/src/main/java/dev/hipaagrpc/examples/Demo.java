package dev.hipaagrpc.examples;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import dev.hipaagrpc.audit.AccessReport;
import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditReceipts;
import dev.hipaagrpc.audit.AuditVerifier;
import dev.hipaagrpc.audit.WitnessClient;
import dev.hipaagrpc.audit.WitnessPolicy;
import dev.hipaagrpc.audit.WitnessServer;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.auth.authn.AccessTokenSource;
import dev.hipaagrpc.auth.authn.BearerCallCredentials;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.examples.records.ExportRecordRequest;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.Patient;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc.PatientRecordsBlockingStub;
import dev.hipaagrpc.examples.records.RecordEntry;
import dev.hipaagrpc.examples.records.SearchObservationsRequest;
import dev.hipaagrpc.examples.records.SearchObservationsResponse;
import dev.hipaagrpc.tls.CertificateExpiryMonitor;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The one-command demo: starts the patient-records server with every safeguard, calls it as eight
 * kinds of caller, prints who asked for what and what they saw or why they were refused, then
 * verifies the audit log it just wrote, prints the access report for one patient and a receipt for
 * one of those accesses.
 *
 * <p>Run it with {@code mvn -B -ntp -q install -DskipTests && mvn -B -ntp -q -pl examples
 * exec:java}. Everything it uses is generated under {@code examples/target/hipaa-grpc-demo}.
 */
public final class Demo {

  private static final String GET = "GetPatient";
  private static final String MARIA = "MRN-100234";
  private static final String JAMES = "MRN-100777";
  private static final String TENANT = PatientRecordsService.TENANT;

  private final PrintStream out;
  private final DemoIdentityProvider idp;
  private final ManagedChannel portal;
  private final ManagedChannel foreign;
  private final List<Row> rows = new ArrayList<>();

  private Demo(
      PrintStream out, DemoIdentityProvider idp, ManagedChannel portal, ManagedChannel foreign) {
    this.out = out;
    this.idp = idp;
    this.portal = portal;
    this.foreign = foreign;
  }

  /** One line of the table. */
  record Row(String caller, String call, String result, String detail) {}

  /** Runs the demo; exits non-zero if any safeguard did not behave as the demo expects. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Path base = Path.of(System.getProperty("hipaagrpc.demo.dir", "target/hipaa-grpc-demo"));
    Path dir = base.resolve("run-" + System.currentTimeMillis());
    int failures = run(dir, out);
    if (failures > 0) {
      out.println("DEMO FAILED: " + failures + " expectation(s) not met");
      System.exit(1);
    }
  }

  /** Runs everything under {@code dir}; returns the number of unmet expectations. */
  static int run(Path dir, PrintStream out) throws Exception {
    out.println("hipaa-grpc demo: a patient-records service with every 164.312 safeguard");
    out.println("working directory: " + dir.toAbsolutePath());
    DemoEnvironment env = DemoEnvironment.createOrLoad(dir);
    int failures = 0;
    try (DemoIdentityProvider idp =
            DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
        PatientRecordsServer server =
            PatientRecordsServer.start(
                env, 0, idp.issuer(), idp.jwksUri(), env.trustingDevRoot())) {
      out.println(
          "server: 127.0.0.1:"
              + server.port()
              + " (TLS 1.3/1.2, client certificate required); identity provider: "
              + idp.issuer());
      printCertificates(out, server.certificateReport());
      ManagedChannel portal = channel(env, env.portalPem, env.portalKey, server.port());
      ManagedChannel foreign = channel(env, env.foreignPem, env.foreignKey, server.port());
      try {
        Demo demo = new Demo(out, idp, portal, foreign);
        failures += demo.scenarios();
        demo.printTable();
      } finally {
        portal.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        foreign.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      out.println();
      out.println(
          "audit: "
              + server.auditDispatcher().writtenEvents()
              + " events written, "
              + server.auditDispatcher().lostEvents()
              + " lost, "
              + server.auditDispatcher().syncBatches()
              + " fsync batches");
    }
    failures += verifyAudit(env, out);
    failures += witness(env, out);
    failures += accessReport(env, out);
    return failures;
  }

  private static ManagedChannel channel(DemoEnvironment env, Path pem, Path key, int port)
      throws IOException {
    return Grpc.newChannelBuilderForAddress(
            "localhost",
            port,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.fromPemFiles(env.caPem))
                .identity(IdentityMaterial.fromPemFiles(pem, key))
                .build())
        .build();
  }

  private String token(
      String subject, List<String> roles, List<String> scopes, @Nullable String patient) {
    return idp.mint(subject, roles, scopes, TENANT, patient, Duration.ofMinutes(5));
  }

  private PatientRecordsBlockingStub stub(
      ManagedChannel channel, @Nullable String token, String... headerPairs) {
    PatientRecordsBlockingStub stub =
        PatientRecordsGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    if (token != null) {
      stub =
          stub.withCallCredentials(BearerCallCredentials.create(AccessTokenSource.ofStatic(token)));
    }
    if (headerPairs.length > 0) {
      Metadata headers = new Metadata();
      for (int i = 0; i < headerPairs.length; i += 2) {
        headers.put(
            Metadata.Key.of(headerPairs[i], Metadata.ASCII_STRING_MARSHALLER), headerPairs[i + 1]);
      }
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return stub;
  }

  private static GetPatientRequest get(String patient) {
    return GetPatientRequest.newBuilder().setTenantId(TENANT).setPatientId(patient).build();
  }

  private int scenarios() {
    int failures = 0;
    String nurse =
        token(
            "nurse.olsen",
            List.of("nurse"),
            List.of("user/Patient.rs", "user/Observation.rs"),
            null);
    String billing = token("billing.chen", List.of("billing"), List.of("user/Patient.r"), null);
    String physician = token("dr.ramirez", List.of("physician"), List.of("user/*.rs"), null);
    String patientApp =
        token(
            "maria.portal-user",
            List.of("patient"),
            List.of("patient/Patient.r", "patient/Observation.rs"),
            MARIA);

    failures +=
        expectOk("nurse", GET + " " + MARIA, () -> saw(stub(portal, nurse).getPatient(get(MARIA))));
    failures +=
        expectOk(
            "nurse",
            "SearchObservations " + MARIA,
            () ->
                saw(
                    stub(portal, nurse)
                        .searchObservations(
                            SearchObservationsRequest.newBuilder()
                                .setTenantId(TENANT)
                                .setPatientId(MARIA)
                                .build())));
    failures +=
        expectRefused(
            "nurse (other hospital's record)",
            GET + " mercy-general/" + MARIA,
            "PERMISSION_DENIED",
            () ->
                stub(portal, nurse)
                    .getPatient(
                        GetPatientRequest.newBuilder()
                            .setTenantId(PatientRecordsService.OTHER_TENANT)
                            .setPatientId(MARIA)
                            .build()));
    failures +=
        expectOk(
            "billing clerk (purpose HPAYMT)",
            GET + " " + MARIA,
            () -> saw(stub(portal, billing, "x-purpose-of-use", "HPAYMT").getPatient(get(MARIA))));
    failures +=
        expectRefused(
            "billing clerk (no purpose)",
            GET + " " + MARIA,
            "PERMISSION_DENIED",
            () -> stub(portal, billing).getPatient(get(MARIA)));
    failures +=
        expectRefused(
            "billing clerk",
            "SearchObservations " + MARIA,
            "PERMISSION_DENIED",
            () ->
                stub(portal, billing)
                    .searchObservations(
                        SearchObservationsRequest.newBuilder()
                            .setTenantId(TENANT)
                            .setPatientId(MARIA)
                            .build()));
    failures +=
        expectOk(
            "physician",
            GET + " " + MARIA,
            () -> saw(stub(portal, physician).getPatient(get(MARIA))));
    failures +=
        expectOk(
            "patient app (Maria)",
            GET + " " + MARIA,
            () -> saw(stub(portal, patientApp).getPatient(get(MARIA))));
    failures +=
        expectRefused(
            "patient app (Maria)",
            GET + " " + JAMES,
            "PERMISSION_DENIED",
            () -> stub(portal, patientApp).getPatient(get(JAMES)));
    failures +=
        expectRefused(
            "no token (valid certificate)",
            GET + " " + MARIA,
            "UNAUTHENTICATED",
            () -> stub(portal, null).getPatient(get(MARIA)));
    failures +=
        expectRefused(
            "forged token (unknown key)",
            GET + " " + MARIA,
            "UNAUTHENTICATED",
            () ->
                stub(
                        portal,
                        DemoIdentityProvider.minter(
                                DemoIdentityProvider.newSigningKey(), idp.issuer())
                            .mint(
                                "mallory",
                                List.of("physician"),
                                List.of("user/*.cruds"),
                                TENANT,
                                null,
                                Duration.ofMinutes(5)))
                    .getPatient(get(MARIA)));
    failures +=
        expectRefused(
            "foreign client certificate",
            GET + " " + MARIA,
            "UNAVAILABLE",
            () -> stub(foreign, physician).getPatient(get(MARIA)));
    failures +=
        expectRefused(
            "physician (no break-glass)",
            "ExportRecord " + JAMES,
            "PERMISSION_DENIED",
            () -> drain(stub(portal, physician).exportRecord(export(JAMES))));
    failures +=
        expectOk(
            "physician BREAK-GLASS (PATIENT_EMERGENCY)",
            "ExportRecord " + JAMES,
            () ->
                drain(
                    stub(
                            portal,
                            physician,
                            "x-break-glass-reason",
                            "PATIENT_EMERGENCY",
                            "x-purpose-of-use",
                            "ETREAT")
                        .exportRecord(export(JAMES))));
    failures += rateLimit(nurse);
    return failures;
  }

  private static ExportRecordRequest export(String patient) {
    return ExportRecordRequest.newBuilder().setTenantId(TENANT).setPatientId(patient).build();
  }

  private static String drain(Iterator<RecordEntry> entries) {
    int patients = 0;
    int observations = 0;
    String first = "";
    while (entries.hasNext()) {
      RecordEntry entry = entries.next();
      if (entry.hasPatient()) {
        patients++;
        first = saw(entry.getPatient());
      } else {
        observations++;
      }
    }
    return "streamed " + patients + " patient + " + observations + " observations; " + first;
  }

  private int rateLimit(String nurse) {
    int ok = 0;
    int limited = 0;
    String retry = "";
    for (int i = 0; i < 12; i++) {
      try {
        stub(portal, nurse).getPatient(get(MARIA));
        ok++;
      } catch (StatusRuntimeException e) {
        if (!e.getStatus().getCode().name().equals("RESOURCE_EXHAUSTED")) {
          throw e;
        }
        limited++;
        retry = retryDelay(e);
      }
    }
    rows.add(
        new Row(
            "nurse (script, 12 calls at once)",
            GET + " " + MARIA + " x12",
            limited > 0 ? "RESOURCE_EXHAUSTED x" + limited : "OK",
            ok + " served, " + limited + " refused; " + retry));
    return limited > 0 ? 0 : 1;
  }

  private static String retryDelay(StatusRuntimeException e) {
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    if (details != null) {
      for (Any any : details.getDetailsList()) {
        if (any.is(RetryInfo.class)) {
          try {
            RetryInfo info = any.unpack(RetryInfo.class);
            long millis =
                info.getRetryDelay().getSeconds() * 1000
                    + info.getRetryDelay().getNanos() / 1_000_000;
            return "RetryInfo says retry in " + millis + " ms";
          } catch (InvalidProtocolBufferException ignored) {
            return "unreadable RetryInfo";
          }
        }
      }
    }
    return "no RetryInfo";
  }

  private interface Call {
    String run();
  }

  private interface Refused {
    Object run();
  }

  private int expectOk(String caller, String call, Call body) {
    try {
      rows.add(new Row(caller, call, "OK", body.run()));
      return 0;
    } catch (StatusRuntimeException e) {
      rows.add(new Row(caller, call, e.getStatus().getCode() + " (UNEXPECTED)", describe(e)));
      return 1;
    }
  }

  private int expectRefused(String caller, String call, String expectedCode, Refused body) {
    try {
      Object result = body.run();
      rows.add(new Row(caller, call, "OK (UNEXPECTED)", String.valueOf(result)));
      return 1;
    } catch (StatusRuntimeException e) {
      String code = e.getStatus().getCode().name();
      boolean expected = code.equals(expectedCode);
      String why = describe(e);
      if (code.equals("UNAVAILABLE")) {
        why = "the server refused the TLS handshake (client's view: " + why + ")";
      }
      rows.add(new Row(caller, call, code + (expected ? "" : " (UNEXPECTED)"), why));
      return expected ? 0 : 1;
    }
  }

  private static String describe(StatusRuntimeException e) {
    String description = e.getStatus().getDescription();
    Metadata trailers = e.getTrailers();
    String id = trailers == null ? null : trailers.get(CorrelationId.HEADER);
    String text = description == null ? "(no description)" : "\"" + description + "\"";
    if (id != null && (description == null || !description.contains(id))) {
      text += " [x-correlation-id " + id + "]";
    }
    return text;
  }

  /** What a caller saw of a patient: masked values appear exactly as the server sent them. */
  static String saw(Patient p) {
    return "name="
        + show(p.getFullName())
        + " dob="
        + show(p.getBirthDate())
        + " ssn="
        + show(p.getSsn())
        + " phone="
        + show(p.getPhone())
        + " zip="
        + show(p.getAddress().getZip())
        + " plan="
        + show(p.getHealthPlanId())
        + " dx="
        + (p.getDiagnosesCount() == 0 ? "(removed)" : p.getDiagnosesCount() + " item(s)")
        + " notes="
        + (p.getClinicalNotes().isEmpty() ? "(removed)" : "present");
  }

  static String saw(SearchObservationsResponse response) {
    StringBuilder sb = new StringBuilder(response.getObservationsCount() + " observation(s): ");
    response
        .getObservationsList()
        .forEach(
            o -> sb.append(o.getDisplay()).append('=').append(show(o.getValue())).append("; "));
    return sb.toString().trim();
  }

  private static String show(String value) {
    return value.isEmpty() ? "(removed)" : value;
  }

  private void printTable() {
    out.println();
    out.println(String.format(Locale.ROOT, "%-3s %-42s %-32s %s", "#", "caller", "call", "result"));
    out.println("-".repeat(110));
    int i = 1;
    for (Row row : rows) {
      out.println(
          String.format(
              Locale.ROOT, "%-3d %-42s %-32s %s", i++, row.caller(), row.call(), row.result()));
      out.println("      " + (row.result().startsWith("OK") ? "saw: " : "why: ") + row.detail());
    }
  }

  private static void printCertificates(PrintStream out, CertificateExpiryMonitor.Report report) {
    CertificateExpiryMonitor.CertificateStatus soonest = report.soonest();
    out.println(
        "certificates: "
            + report.certificates().size()
            + " watched, "
            + (report.healthy() ? "healthy" : "NEEDS ATTENTION")
            + (soonest == null ? "" : ", first to expire in " + soonest.daysLeft() + " days"));
  }

  private static int verifyAudit(DemoEnvironment env, PrintStream out) throws IOException {
    out.println();
    out.println("== audit verifier (public checkpoint key + genesis chain key) ==");
    AuditVerifier.Result result =
        AuditVerifier.newBuilder(AuditKeys.readPublicKey(env.checkpointPublicKey))
            .chainKey(AuditKeys.readSecretKey(env.genesisKey))
            .build()
            .verify(env.auditDir);
    out.println(
        (result.ok() ? "VERIFIED: " : "FAILED: ")
            + result.recordsVerified()
            + " records, "
            + result.checkpointsVerified()
            + " signed checkpoints, "
            + result.files()
            + " file(s), log "
            + (result.closed() ? "closed" : "open")
            + (result.failure() != null ? "; first bad record: " + result.failure() : ""));
    return result.ok() ? 0 : 1;
  }

  /**
   * A witness on loopback, as a hospital would run one in another trust zone: it cosigns the log's
   * latest checkpoint only if consistent with what it cosigned before; the verifier then requires
   * its cosignature (a 1-of-1 policy) and the log to reach the size it vouched for.
   */
  private static int witness(DemoEnvironment env, PrintStream out) throws Exception {
    out.println();
    out.println(
        "== local witness (c2sp.org/tlog-witness on loopback) and a 1-of-1 witness policy ==");
    PublicKey logKey = AuditKeys.readPublicKey(env.checkpointPublicKey);
    String note = Files.readString(env.auditDir.resolve("checkpoint"), StandardCharsets.UTF_8);
    String origin = note.substring(0, note.indexOf('\n'));
    try (WitnessServer w =
        WitnessServer.newBuilder(
                "witness.demo.example",
                AuditKeys.newSigningKeyPair(),
                env.auditDir.resolveSibling("witness"))
            .trustLog(origin, logKey)
            .build()) {
      WitnessPolicy policy =
          WitnessPolicy.parse("quorum 1\nwitness " + w.vkey() + " " + w.url() + "\n");
      try (WitnessClient client =
          WitnessClient.newBuilder(env.auditDir).witnesses(policy).build()) {
        client.submit(note);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client.cosignaturesReceived() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      }
      String witnessed = WitnessClient.fetchLatest(w.url(), origin);
      AuditVerifier.Result r =
          AuditVerifier.newBuilder(logKey)
              .chainKey(AuditKeys.readSecretKey(env.genesisKey))
              .witnessPolicy(policy)
              .checkpointNote(witnessed)
              .requireClosed(true)
              .build()
              .verify(env.auditDir);
      out.println(
          (r.ok() ? "WITNESSED: " : "WITNESS CHECK FAILED: ")
              + origin
              + " at tree size "
              + witnessed.split("\n", -1)[1]
              + ", cosigned by "
              + policy
              + (r.failure() != null ? "; " + r.failure() : ""));
      return r.ok() ? 0 : 1;
    }
  }

  private static String subject(AuditEvent e) {
    String subject = e.getActor().getSubject();
    if (subject.isEmpty()) {
      return "(unauthenticated)";
    }
    // Patient-app subjects are stored as keyed hashes: show a prefix.
    return subject.length() > 20 ? subject.substring(0, 17) + "..." : subject;
  }

  private static int accessReport(DemoEnvironment env, PrintStream out) throws IOException {
    out.println();
    out.println("== access report: every access to " + MARIA + " (HMAC lookup) ==");
    List<AuditEvent> events =
        AccessReport.create(AuditKeys.readSecretKey(env.identifierKey))
            .accessesTo(
                env.auditDir, MARIA, Instant.now().minus(Duration.ofHours(1)), Instant.now());
    DateTimeFormatter time = DateTimeFormatter.ISO_INSTANT;
    for (AuditEvent e : events) {
      out.println(
          String.format(
              Locale.ROOT,
              "%-26s %-20s %-22s %-18s %-18s %s",
              e.getTime(),
              subject(e),
              e.getTarget().getMethod(),
              e.getOutcome().getStatus(),
              e.getAuthorization().getDecision(),
              e.getAuthorization().getRuleId()));
    }
    out.println(events.size() + " access(es) recorded " + time.format(Instant.now()));
    return events.isEmpty() ? 1 : receipt(env, out, events.get(0));
  }

  /** A receipt for one access: what the patient could be given, checked with the public key. */
  private static int receipt(DemoEnvironment env, PrintStream out, AuditEvent access)
      throws IOException {
    out.println();
    out.println("== receipt for the first access (c2sp.org/tlog-proof, checked offline) ==");
    String receipt = AuditReceipts.forEvent(env.auditDir, access.getEventId());
    out.print(receipt);
    try {
      AuditReceipts.Verified v =
          AuditReceipts.verify(receipt, AuditKeys.readPublicKey(env.checkpointPublicKey));
      out.println(
          "receipt VERIFIED: record seq "
              + v.seq()
              + " is in the log "
              + v.origin()
              + " (signed checkpoint of tree size "
              + v.treeSize()
              + ")");
      return 0;
    } catch (IllegalArgumentException e) {
      out.println("receipt FAILED: " + e.getMessage());
      return 1;
    }
  }
}
