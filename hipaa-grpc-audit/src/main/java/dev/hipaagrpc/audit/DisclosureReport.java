package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The accounting of disclosures of 45 CFR 164.528 for one patient: the disclosures of the patient's
 * PHI to other entities (not uses inside the covered entity), each with its date, the recipient, a
 * description of what was disclosed and its purpose, with the disclosures the rule excludes left
 * out by their purpose of use. It differs from {@link AccessReport}, which lists every recorded
 * access (uses and disclosures, allowed and refused) for the privacy office and investigations.
 *
 * <p>A disclosure is an event that touched the patient, succeeded ({@code OK}), and whose caller is
 * one of the other entities declared with {@link Builder#recipient} (matched by the caller's
 * tenant, the service it called through, or its peer SPIFFE id). Excluded by default, by purpose of
 * use (HL7 v3 ActReason): {@code TREAT}, {@code ETREAT} (treatment), {@code HPAYMT} (payment),
 * {@code HOPERAT} (health care operations), {@code PATRQT} (to the individual, at their request)
 * and {@code HDIRECT} (facility directory): 164.528(a)(1)(i), (ii) and (v). Disclosures with no
 * purpose recorded are listed (the rule excludes only what is shown to be excluded). Verify the log
 * first; the report reads what is there. Immutable and thread-safe.
 *
 * <p>The command line ({@code java -cp <audit classpath> dev.hipaagrpc.audit.DisclosureReport}):
 *
 * <pre>
 * printf '%s' 'MRN-0012345' | DisclosureReport --dir DIR --identifier-key FILE --recipients FILE
 *     [--from ISO-INSTANT] [--to ISO-INSTANT] [--excluded-purposes TREAT,HPAYMT,...|none]
 * </pre>
 *
 * reads the patient id from standard input (so it stays out of shell history and process listings),
 * the other entities from the recipients file (one {@code callerId=name} per line; blank lines and
 * lines starting with {@code #} are ignored), and prints one tab-separated line per disclosure
 * (time, recipient, description, purpose, correlation id) under a header, and the count on standard
 * error. Exits 0 on success and 2 on a usage or I/O error; error output names no file content and
 * no patient id.
 */
public final class DisclosureReport {

  /** The purposes of use excluded by default. */
  public static final Set<String> DEFAULT_EXCLUDED_PURPOSES =
      Set.of("TREAT", "ETREAT", "HPAYMT", "HOPERAT", "PATRQT", "HDIRECT");

  /**
   * One disclosure. Immutable.
   *
   * @param time when (UTC, ISO 8601)
   * @param recipient the receiving entity, as declared with {@link Builder#recipient}
   * @param description what was disclosed: action, method and resource type
   * @param purpose the purpose of use recorded, or empty
   * @param correlationId the call's correlation id
   */
  public record Disclosure(
      String time, String recipient, String description, String purpose, String correlationId) {}

  private final AccessReport accesses;
  private final Map<String, String> recipients;
  private final Set<String> excluded;

  private DisclosureReport(Builder b) {
    this.accesses = b.accesses;
    this.recipients = Map.copyOf(b.recipients);
    this.excluded = Set.copyOf(b.excluded);
  }

  /**
   * Starts a report over the accesses {@code accesses} finds (its identifier key). Defaults: no
   * recipient (declare the other entities), {@link #DEFAULT_EXCLUDED_PURPOSES}.
   */
  public static Builder newBuilder(AccessReport accesses) {
    return new Builder(requireNonNull(accesses, "accesses"));
  }

  /**
   * The disclosures of {@code patientId}'s PHI in {@code [from, to)} (164.528 asks for the six
   * years before the request), in log order.
   *
   * @throws IOException if the log cannot be read
   */
  public List<Disclosure> disclosuresOf(Path directory, String patientId, Instant from, Instant to)
      throws IOException {
    List<Disclosure> out = new ArrayList<>();
    for (AuditEvent e : accesses.accessesTo(directory, patientId, from, to)) {
      String recipient = recipientOf(e);
      String purpose = e.getAuthorization().getPurposeOfUse();
      if (recipient == null || !"OK".equals(e.getOutcome().getStatus())) {
        continue; // a use inside the entity, or nothing left it
      }
      if (excluded.contains(purpose)) {
        continue;
      }
      String what =
          (e.getTarget().getAction().isEmpty() ? "" : e.getTarget().getAction() + " ")
              + e.getTarget().getService()
              + "/"
              + e.getTarget().getMethod()
              + (e.getResource().getType().isEmpty() ? "" : " (" + e.getResource().getType() + ")");
      out.add(new Disclosure(e.getTime(), recipient, what, purpose, e.getCorrelationId()));
    }
    return out;
  }

  private @Nullable String recipientOf(AuditEvent e) {
    for (String id :
        List.of(
            e.getActor().getTenant(),
            e.getActor().getViaService(),
            e.getSource().getPeerSpiffeId())) {
      if (!id.isEmpty()) {
        String r = recipients.get(id);
        if (r != null) {
          return r;
        }
      }
    }
    return null;
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
    Path recipientsFile = null;
    Set<String> excludedPurposes = DEFAULT_EXCLUDED_PURPOSES;
    Instant from = Instant.EPOCH;
    Instant to = Instant.parse("9999-12-31T23:59:59Z");
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--dir" -> dir = Path.of(args[++i]);
          case "--identifier-key" -> key = Path.of(args[++i]);
          case "--recipients" -> recipientsFile = Path.of(args[++i]);
          case "--from" -> from = Instant.parse(args[++i]);
          case "--to" -> to = Instant.parse(args[++i]);
          case "--excluded-purposes" -> excludedPurposes = purposes(args[++i]);
          default -> throw new IllegalArgumentException("unknown option");
        }
      }
      if (dir == null || key == null || recipientsFile == null) {
        throw new IllegalArgumentException("--dir, --identifier-key and --recipients are required");
      }
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException | DateTimeParseException e) {
      err.println(
          "usage: DisclosureReport --dir DIR --identifier-key FILE --recipients FILE"
              + " [--from ISO-INSTANT] [--to ISO-INSTANT]"
              + " [--excluded-purposes CODE,CODE...|none]  (patient id on standard input)");
      return 2;
    }
    Path reading = recipientsFile;
    try {
      List<String> lines = Files.readAllLines(recipientsFile, UTF_8);
      reading = key;
      Builder b = newBuilder(AccessReport.create(AuditKeys.readSecretKey(key)));
      for (int n = 0; n < lines.size(); n++) {
        String line = lines.get(n).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int eq = line.indexOf('=');
        if (eq <= 0 || eq == line.length() - 1) {
          err.println(recipientsFile + ": line " + (n + 1) + " is not callerId=name");
          return 2;
        }
        b.recipient(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
      DisclosureReport report;
      try {
        report = b.excludedPurposes(excludedPurposes).build();
      } catch (IllegalStateException e) {
        err.println(recipientsFile + ": declares no recipient");
        return 2;
      }
      String patientId = AccessReport.patientIdFrom(stdin);
      if (patientId.isEmpty()) {
        err.println("no patient id on standard input");
        return 2;
      }
      reading = dir;
      List<Disclosure> found = report.disclosuresOf(dir, patientId, from, to);
      out.println("time\trecipient\tdescription\tpurpose\tcorrelationId");
      for (Disclosure d : found) {
        out.println(
            String.join(
                "\t", d.time(), d.recipient(), d.description(), d.purpose(), d.correlationId()));
      }
      err.println(found.size() + " disclosures");
      return 0;
    } catch (IOException | RuntimeException e) {
      err.println("error reading " + reading + ": " + e.getClass().getSimpleName());
      return 2;
    }
  }

  private static Set<String> purposes(String list) {
    if (list.equals("none")) {
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (String p : Arrays.asList(list.split(",", -1))) {
      if (p.isBlank()) {
        throw new IllegalArgumentException("empty purpose");
      }
      out.add(p.strip());
    }
    return out;
  }

  /** Configures a {@link DisclosureReport}. Not thread-safe. */
  public static final class Builder {
    private final AccessReport accesses;
    private final Map<String, String> recipients = new HashMap<>();
    private Set<String> excluded = DEFAULT_EXCLUDED_PURPOSES;

    private Builder(AccessReport accesses) {
      this.accesses = accesses;
    }

    /**
     * Declares another entity: calls whose tenant, via-service or peer SPIFFE id is {@code
     * callerId} are disclosures to {@code name} (for instance {@code
     * spiffe://labcorp.example/results} to "Reference Lab Inc.").
     */
    public Builder recipient(String callerId, String name) {
      recipients.put(requireNonNull(callerId, "callerId"), requireNonNull(name, "name"));
      return this;
    }

    /** Replaces the excluded purposes of use. Default {@link #DEFAULT_EXCLUDED_PURPOSES}. */
    public Builder excludedPurposes(Set<String> purposes) {
      this.excluded = Set.copyOf(requireNonNull(purposes, "purposes"));
      return this;
    }

    /**
     * Builds the report.
     *
     * @throws IllegalStateException if no recipient was declared (every call would be a use)
     */
    public DisclosureReport build() {
      if (recipients.isEmpty()) {
        throw new IllegalStateException(
            "declare the other entities with recipient(callerId, name): without them nothing is a"
                + " disclosure");
      }
      return new DisclosureReport(this);
    }
  }
}
