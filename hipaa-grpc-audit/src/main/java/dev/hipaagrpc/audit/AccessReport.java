package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.AuditRecord;
import dev.hipaagrpc.core.KeyedIdentifier;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The accounting of accesses to one patient's records: every audited call that touched the patient
 * in a time range, found by the keyed hash of the patient id (so the log itself never holds the
 * id). Verify the log with {@link AuditVerifier} first: the report trusts what it reads. This is
 * the privacy office's access review (uses and disclosures, allowed and refused); the 164.528
 * accounting of disclosures a patient may request is {@link DisclosureReport}.
 *
 * <p>Command line (the patient id is read from standard input, so it stays out of shell history and
 * process listings):
 *
 * <pre>
 * echo -n 'PATIENT-ID' | java -cp ... dev.hipaagrpc.audit.AccessReport \
 *     --dir DIR --identifier-key identifier.key --from 2026-01-01T00:00:00Z --to 2026-07-01T00:00:00Z
 * </pre>
 *
 * prints one tab-separated line per access: time, actor, actor kind, action, service/method,
 * outcome, decision, rule, purpose of use, break-glass reason, correlation id.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AccessReport {

  private final KeyedIdentifier identifiers;

  private AccessReport(byte[] identifierKey) {
    this.identifiers = KeyedIdentifier.create(identifierKey);
  }

  /**
   * Returns a report reader for the identifier key the interceptors used.
   *
   * @throws IllegalArgumentException if the key is shorter than 32 bytes
   */
  public static AccessReport create(byte[] identifierKey) {
    return new AccessReport(
        Crypto.requireKey(requireNonNull(identifierKey, "identifierKey"), "identifierKey"));
  }

  /**
   * Returns, in log order, every event of the log in {@code directory} whose patient is {@code
   * patientId} and whose time is in {@code [from, to)}.
   *
   * @throws IOException if a file cannot be read
   */
  public List<AuditEvent> accessesTo(Path directory, String patientId, Instant from, Instant to)
      throws IOException {
    requireNonNull(patientId, "patientId");
    String hash = identifiers.of(EventFactory.PATIENT_DOMAIN, patientId);
    List<AuditEvent> out = new ArrayList<>();
    JsonFormat.Parser parser = JsonFormat.parser();
    try (LogLines lines = new LogLines(LogFiles.list(directory))) {
      LogLines.Entry line;
      while ((line = lines.next()) != null) {
        AuditRecord.Builder rec = AuditRecord.newBuilder();
        try {
          parser.merge(new String(line.bytes, UTF_8), rec);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
          continue; // the verifier reports damaged lines; the report reads what it can.
        }
        if (!rec.hasEvent()) {
          continue;
        }
        AuditEvent e = rec.getEvent();
        if (!EventFactory.patientsOf(e).contains(hash)) {
          continue;
        }
        Instant t;
        try {
          t = Instant.parse(e.getTime());
        } catch (DateTimeParseException ex) {
          continue;
        }
        if (!t.isBefore(from) && t.isBefore(to)) {
          out.add(e);
        }
      }
    }
    return out;
  }

  /** One tab-separated line for an access. */
  static String line(AuditEvent e) {
    return String.join(
        "\t",
        e.getTime(),
        e.getActor().getSubject().isEmpty()
            ? "unauthenticated:" + e.getActor().getAuthenticationFailure()
            : e.getActor().getSubject(),
        e.getActor().getKind(),
        e.getTarget().getAction(),
        e.getTarget().getService() + "/" + e.getTarget().getMethod(),
        e.getOutcome().getStatus(),
        e.getAuthorization().getDecision(),
        e.getAuthorization().getRuleId(),
        e.getAuthorization().getPurposeOfUse(),
        e.getAuthorization().getBreakGlassReason(),
        e.getCorrelationId());
  }

  /**
   * The command line; see the class documentation.
   *
   * @param args the options
   */
  public static void main(String[] args) {
    System.exit(run(args, System.in, System.out, System.err));
  }

  static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err) {
    Path dir = null;
    Path key = null;
    Instant from = Instant.EPOCH;
    Instant to = Instant.parse("9999-12-31T23:59:59Z");
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--dir" -> dir = Path.of(args[++i]);
          case "--identifier-key" -> key = Path.of(args[++i]);
          case "--from" -> from = Instant.parse(args[++i]);
          case "--to" -> to = Instant.parse(args[++i]);
          default -> throw new IllegalArgumentException("unknown option");
        }
      }
      if (dir == null || key == null) {
        throw new IllegalArgumentException("--dir and --identifier-key are required");
      }
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException | DateTimeParseException e) {
      err.println(
          "usage: AccessReport --dir DIR --identifier-key FILE [--from ISO-INSTANT]"
              + " [--to ISO-INSTANT]  (patient id on standard input)");
      return 2;
    }
    try {
      String patientId = patientIdFrom(stdin);
      if (patientId.isEmpty()) {
        err.println("no patient id on standard input");
        return 2;
      }
      List<AuditEvent> events =
          create(AuditKeys.readSecretKey(key)).accessesTo(dir, patientId, from, to);
      out.println(
          "time\tactor\tkind\taction\tmethod\toutcome\tdecision\trule\tpurpose\tbreakGlass"
              + "\tcorrelationId");
      for (AuditEvent e : events) {
        out.println(line(e));
      }
      err.println(events.size() + " accesses");
      return 0;
    } catch (IOException | RuntimeException e) {
      err.println("error: " + e.getClass().getSimpleName());
      return 2;
    }
  }

  /**
   * The patient id the command lines read from standard input (its first line, stripped; empty if
   * none), so that it stays out of shell history and process listings.
   */
  static String patientIdFrom(InputStream stdin) {
    return new BufferedReader(new InputStreamReader(stdin, UTF_8))
        .lines()
        .findFirst()
        .orElse("")
        .strip();
  }
}
