package dev.hipaagrpc.audit.kafka;

import static java.util.Objects.requireNonNull;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * What a {@link ShippedLogVerifier} found, per origin, with {@link #toJson} for auditors and SIEM
 * pipelines. Immutable and thread-safe.
 *
 * @param origins the configured origins, in the order configured
 * @param unknownOrigins messages received under origins that were not configured, by origin (names
 *     cut to 200 characters; past 100 names, the others are counted together under {@code (other
 *     unknown origins)})
 */
public record ShippingReport(List<OriginReport> origins, Map<String, Long> unknownOrigins) {

  /** Copies the lists. */
  public ShippingReport {
    origins = List.copyOf(origins);
    unknownOrigins = Map.copyOf(unknownOrigins);
  }

  /**
   * A range of sequence numbers that never arrived, inclusive. Immutable.
   *
   * @param from the first missing sequence number
   * @param to the last missing sequence number
   */
  public record Gap(long from, long to) {}

  /**
   * One origin's outcome. Immutable.
   *
   * @param origin the log's origin (the message key)
   * @param records distinct records received and verified in order
   * @param events how many of them are events (the rest are checkpoints)
   * @param lastSeq the highest sequence number taken into the chain, or -1
   * @param duplicatesDropped redelivered records identical to one already received
   * @param gaps missing sequence ranges, each {@code [from, to]} inclusive
   * @param conflicts records received twice with different bytes (count)
   * @param conflictSeqs the sequence numbers of the first 100 conflicts
   * @param checkpointsVerified checkpoint records whose signature verified
   * @param notesVerified checkpoint notes whose signature verified and whose root the records
   *     reproduce
   * @param notesUnchecked validly signed notes that the records cannot check (after a gap, or too
   *     old)
   * @param errors the first 100 problems, each a sentence with sequence numbers, never content
   * @param errorCount all problems
   */
  public record OriginReport(
      String origin,
      long records,
      long events,
      long lastSeq,
      long duplicatesDropped,
      List<Gap> gaps,
      long conflicts,
      List<Long> conflictSeqs,
      long checkpointsVerified,
      long notesVerified,
      long notesUnchecked,
      List<String> errors,
      long errorCount) {

    /** Copies the lists. */
    public OriginReport {
      requireNonNull(origin, "origin");
      gaps = List.copyOf(gaps);
      conflictSeqs = List.copyOf(conflictSeqs);
      errors = List.copyOf(errors);
    }

    /** Whether the origin's records arrived complete and verified: no gap, conflict or error. */
    public boolean ok() {
      return gaps.isEmpty() && conflicts == 0 && errorCount == 0;
    }
  }

  /** Whether every origin is {@link OriginReport#ok} and no message came from an unknown one. */
  public boolean ok() {
    return unknownOrigins.isEmpty() && origins.stream().allMatch(OriginReport::ok);
  }

  /** The report as a JSON object (pretty-printed). */
  public String toJson() {
    JsonObject root = new JsonObject();
    root.addProperty("ok", ok());
    JsonArray os = new JsonArray();
    for (OriginReport o : origins) {
      JsonObject j = new JsonObject();
      j.addProperty("origin", o.origin());
      j.addProperty("ok", o.ok());
      j.addProperty("records", o.records());
      j.addProperty("events", o.events());
      j.addProperty("lastSeq", o.lastSeq());
      j.addProperty("duplicatesDropped", o.duplicatesDropped());
      JsonArray gaps = new JsonArray();
      for (Gap g : o.gaps()) {
        JsonArray r = new JsonArray();
        r.add(g.from());
        r.add(g.to());
        gaps.add(r);
      }
      j.add("gaps", gaps);
      j.addProperty("conflicts", o.conflicts());
      JsonArray cs = new JsonArray();
      o.conflictSeqs().forEach(cs::add);
      j.add("conflictSeqs", cs);
      j.addProperty("checkpointsVerified", o.checkpointsVerified());
      j.addProperty("notesVerified", o.notesVerified());
      j.addProperty("notesUnchecked", o.notesUnchecked());
      JsonArray es = new JsonArray();
      o.errors().forEach(es::add);
      j.add("errors", es);
      j.addProperty("errorCount", o.errorCount());
      os.add(j);
    }
    root.add("origins", os);
    JsonObject unknown = new JsonObject();
    unknownOrigins.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> unknown.addProperty(e.getKey(), e.getValue()));
    root.add("unknownOrigins", unknown);
    Gson gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    return gson.toJson(root);
  }
}
