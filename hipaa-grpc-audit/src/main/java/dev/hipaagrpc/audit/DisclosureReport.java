package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
