package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditChain;
import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.core.internal.Checks;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The receiver-side verifier of shipped audit logs: takes the messages a {@link
 * KafkaAuditForwarder} published (from {@link KafkaAuditReceiver}, or any other source) and keeps,
 * per origin, an {@link AuditChain} over the records in sequence order: sequence continuity, the
 * hash chain, key epochs, checkpoint signatures (with the auditor's checkpoint public key of that
 * origin) and, with the genesis chain key, every record's HMAC; shipped checkpoint notes are
 * checked against the Merkle root of the shipped records.
 *
 * <p>Redelivered records (the forwarder ships at least once) are recognised by (origin, sequence
 * number): one identical to the record received before is dropped and counted; one with different
 * bytes is a <em>conflict</em> and reported, never dropped silently (it is what a record shipped
 * and then lost by an operating-system crash looks like, or a forgery). Records that arrive early
 * wait (up to {@link Builder#reorderWindow}) for the missing ones; what never arrives is reported
 * as a gap {@code [from, to]} by {@link #finish}, and the chain is resumed after it. Messages under
 * an origin that was not configured are counted and reported.
 *
 * <p>Memory is bounded against a flooded topic: besides the reorder window (records and bytes), at
 * most 1 024 signed notes ahead of the records wait per origin (a note is signature-checked before
 * it waits; more are dropped, each an error), at most 100 unknown origins are named, and messages
 * over 64 KiB are not taken as notes.
 *
 * <p>Thread-safe (one lock).
 */
public final class ShippedLogVerifier {

  private static final int MAX_LISTED = 100;

  /** Notes ahead of the records kept per origin; more are dropped and reported. */
  static final int MAX_PENDING_NOTES = 1024;

  /** Notes remembered per origin to drop redeliveries (older ones are checked again). */
  private static final int NOTES_REMEMBERED = 4096;

  /** Longer messages are not checkpoint notes (a C2SP note with a few cosignatures is ~1 KiB). */
  static final int MAX_NOTE_CHARS = 64 * 1024;

  /** Unknown origins named in the report; messages under more are counted under {@link #OTHERS}. */
  static final int MAX_UNKNOWN_ORIGINS = 100;

  /** The {@link ShippingReport#unknownOrigins} key of the unknown origins not named. */
  static final String OTHERS = "(other unknown origins)";

  private final Map<String, Origin> origins = new LinkedHashMap<>();
  private final Map<String, Long> unknown = new HashMap<>();
  private final int reorderWindow;
  private final long reorderBytes;
  private final int duplicateWindow;

  private ShippedLogVerifier(Builder b) {
    this.reorderWindow = b.reorderWindow;
    this.reorderBytes = b.reorderBytes;
    this.duplicateWindow = b.duplicateWindow;
    for (Map.Entry<String, AuditChain.Builder> e : b.chains.entrySet()) {
      origins.put(e.getKey(), new Origin(e.getKey(), e.getValue().build()));
    }
  }

  /**
   * Starts a verifier. Defaults: no origins (add each with {@link Builder#origin}), records may
   * arrive up to 10 000 (and 64 MiB) ahead of a missing one, duplicates compared over the last 262
   * 144 sequence numbers of each origin.
   */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Takes one message as the forwarder publishes it: {@code key} the origin (UTF-8), {@code kind}
   * the {@link KafkaAuditForwarder#KIND_HEADER} value ({@code record} or {@code note}; when absent,
   * a value starting with <code>{"seq":</code> is taken as a record).
   */
  public void accept(byte @Nullable [] key, byte[] value, @Nullable String kind) {
    requireNonNull(value, "value");
    String origin = key == null ? "" : new String(key, UTF_8);
    boolean note =
        kind != null
            ? kind.equals(KafkaAuditForwarder.KIND_NOTE)
            : !(value.length > 7 && new String(value, 0, 7, UTF_8).equals("{\"seq\":"));
    if (note) {
      acceptNote(origin, new String(value, UTF_8));
    } else {
      acceptRecord(origin, value);
    }
  }

  /** Takes one shipped record line (without its newline) of {@code origin}. */
  public synchronized void acceptRecord(String origin, byte[] line) {
    Origin o = origins.get(requireNonNull(origin, "origin"));
    if (o == null) {
      unknown(origin);
      return;
    }
    o.record(requireNonNull(line, "line"));
  }

  /** Takes one shipped C2SP checkpoint note of {@code origin}. */
  public synchronized void acceptNote(String origin, String note) {
    Origin o = origins.get(requireNonNull(origin, "origin"));
    if (o == null) {
      unknown(origin);
      return;
    }
    o.note(requireNonNull(note, "note"));
  }

  private void unknown(String origin) {
    String name = origin.length() > 200 ? origin.substring(0, 200) : origin;
    if (!unknown.containsKey(name) && unknown.size() >= MAX_UNKNOWN_ORIGINS) {
      name = OTHERS;
    }
    unknown.merge(name, 1L, Long::sum);
  }

  /**
   * Ends the input: records still waiting for missing ones make the missing ranges gaps (the chain
   * resumes after each), notes covering records that never arrived are errors, and an origin with
   * no record at all is an error. More messages may be taken afterwards.
   */
  public synchronized void finish() {
    for (Origin o : origins.values()) {
      o.finish();
    }
  }

  /** The report so far (call {@link #finish} first for the final one). */
  public synchronized ShippingReport report() {
    List<ShippingReport.OriginReport> list = new ArrayList<>();
    for (Origin o : origins.values()) {
      list.add(o.report());
    }
    return new ShippingReport(list, unknown);
  }

  /** One origin's state. */
  private final class Origin {
    final String name;
    final AuditChain chain;
    long next;
    boolean relink;
    long records;
    long events;
    long duplicates;
    final List<ShippingReport.Gap> gaps = new ArrayList<>();
    long conflicts;
    final List<Long> conflictSeqs = new ArrayList<>();
    final List<String> errors = new ArrayList<>();
    long errorCount;
    long notesVerified;
    long notesUnchecked;
    // SHA-256 of the good notes taken, the latest NOTES_REMEMBERED (a redelivery is dropped).
    final Set<String> notesSeen =
        Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
              @Override
              protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > NOTES_REMEMBERED;
              }
            });
    // Signed notes ahead of the records, by tree size.
    final TreeMap<Long, List<String>> pendingNotes = new TreeMap<>();
    int pendingNoteCount;
    final TreeMap<Long, byte[]> pending = new TreeMap<>();
    long pendingBytes;
    // SHA-256 of the records taken, by seq modulo the window (ringSeq says which seq is held).
    byte[] ring = new byte[0];
    long[] ringSeq = new long[0];

    Origin(String name, AuditChain chain) {
      this.name = name;
      this.chain = chain;
    }

    void record(byte[] line) {
      AuditLine l = AuditLine.parse(line);
      if (l == null) {
        error("a message that is not a framed audit record (after seq " + (next - 1) + ")");
        return;
      }
      long seq = l.seq();
      if (seq < next) {
        redelivered(seq, line);
      } else if (seq == next) {
        take(seq, line);
        drain();
      } else {
        byte[] held = pending.get(seq);
        if (held != null) {
          if (Arrays.equals(held, line)) {
            duplicates++;
          } else {
            conflict(seq);
          }
          return;
        }
        pending.put(seq, line);
        pendingBytes += line.length;
        while (!pending.isEmpty()
            && (pending.size() > reorderWindow || pendingBytes > reorderBytes)) {
          gapTo(pending.firstKey());
          drain();
        }
      }
    }

    void redelivered(long seq, byte[] line) {
      byte[] h = hashAt(seq);
      if (h == null) {
        error(
            "seq "
                + seq
                + " was delivered again beyond the duplicate window: it could not be compared");
      } else if (MessageDigest.isEqual(h, KafkaClients.sha256(line))) {
        duplicates++;
      } else {
        conflict(seq);
      }
    }

    void conflict(long seq) {
      conflicts++;
      if (conflictSeqs.size() < MAX_LISTED) {
        conflictSeqs.add(seq);
      }
    }

    void take(long seq, byte[] line) {
      AuditLine l = AuditLine.parse(line);
      AuditChain.Rejection r = relink ? chain.restart(line) : chain.append(line);
      if (r != null) {
        error(r.problem() + " at seq " + r.seq() + ": " + r.detail());
        relink = true;
      } else {
        records++;
        if (l != null && !l.isCheckpoint()) {
          events++;
        }
        relink = false;
      }
      remember(seq, KafkaClients.sha256(line));
      next = seq + 1;
      checkPendingNotes();
    }

    void drain() {
      byte[] line;
      while ((line = pending.remove(next)) != null) {
        pendingBytes -= line.length;
        take(next, line);
      }
    }

    void gapTo(long first) {
      gaps.add(new ShippingReport.Gap(next, first - 1));
      relink = true;
      next = first;
    }

    void note(String text) {
      if (text.length() > MAX_NOTE_CHARS) {
        judge(-1, AuditChain.NoteStatus.MALFORMED);
        return;
      }
      String hash = KafkaClients.sha256Hex(text.getBytes(UTF_8));
      if (notesSeen.contains(hash)) {
        return; // redelivered
      }
      AuditChain.NoteStatus s = chain.checkNote(text, name);
      if (s == AuditChain.NoteStatus.PENDING) {
        if (pendingNoteCount >= MAX_PENDING_NOTES) {
          error(
              "a signed checkpoint note ahead of the records was dropped: "
                  + MAX_PENDING_NOTES
                  + " are already waiting for their records");
          return;
        }
        park(AuditChain.noteSize(text), text);
      } else {
        judge(AuditChain.noteSize(text), s);
      }
      if (s == AuditChain.NoteStatus.VERIFIED
          || s == AuditChain.NoteStatus.UNCHECKED
          || s == AuditChain.NoteStatus.PENDING) {
        notesSeen.add(hash);
      }
    }

    void park(long size, String text) {
      pendingNotes.computeIfAbsent(size, k -> new ArrayList<>()).add(text);
      pendingNoteCount++;
    }

    /** Returns false when the note is still pending. */
    boolean judge(long size, AuditChain.NoteStatus s) {
      switch (s) {
        case VERIFIED -> notesVerified++;
        case PENDING -> {
          return false;
        }
        case UNCHECKED -> notesUnchecked++;
        case MALFORMED -> error("a message that is not a checkpoint note of this origin");
        case BAD_SIGNATURE -> error("the checkpoint note of size " + size + " has a bad signature");
        case EDITED ->
            error(
                "the records up to seq "
                    + (size - 1)
                    + " do not reproduce the root of the signed checkpoint note of size "
                    + size
                    + " (or no checkpoint record ends there)");
      }
      return true;
    }

    void checkPendingNotes() {
      if (pendingNotes.isEmpty() || pendingNotes.firstKey() > next) {
        return;
      }
      Map<Long, List<String>> due = pendingNotes.headMap(next, true);
      Map<Long, List<String>> taken = new TreeMap<>(due);
      due.clear();
      for (Map.Entry<Long, List<String>> e : taken.entrySet()) {
        for (String n : e.getValue()) {
          pendingNoteCount--;
          // Still pending while the chain lags behind (a refused record): parked again.
          if (!judge(e.getKey(), chain.checkNote(n, name))) {
            park(e.getKey(), n);
          }
        }
      }
    }

    void finish() {
      while (!pending.isEmpty()) {
        gapTo(pending.firstKey());
        drain();
      }
      for (Map.Entry<Long, List<String>> e : pendingNotes.entrySet()) {
        for (int i = 0; i < e.getValue().size(); i++) {
          error(
              "a signed checkpoint note covers "
                  + e.getKey()
                  + " records but only "
                  + next
                  + " were shipped: the tail is missing (or still being shipped)");
        }
      }
      pendingNotes.clear();
      pendingNoteCount = 0;
      if (next == 0 && records == 0 && errorCount == 0) {
        error("no record of this origin was received");
      }
    }

    void error(String s) {
      errorCount++;
      if (errors.size() < MAX_LISTED) {
        errors.add(s);
      }
    }

    void remember(long seq, byte[] hash) {
      int slot = (int) (seq % duplicateWindow);
      if (slot >= ringSeq.length) {
        int n = (int) Math.min(duplicateWindow, Math.max(1024, (long) slot * 2 + 1));
        int old = ringSeq.length;
        ring = Arrays.copyOf(ring, n * 32);
        ringSeq = Arrays.copyOf(ringSeq, n);
        Arrays.fill(ringSeq, old, n, -1);
      }
      System.arraycopy(hash, 0, ring, slot * 32, 32);
      ringSeq[slot] = seq;
    }

    byte @Nullable [] hashAt(long seq) {
      int slot = (int) (seq % duplicateWindow);
      if (slot >= ringSeq.length || ringSeq[slot] != seq) {
        return null;
      }
      return Arrays.copyOfRange(ring, slot * 32, slot * 32 + 32);
    }

    ShippingReport.OriginReport report() {
      return new ShippingReport.OriginReport(
          name,
          records,
          events,
          next - 1,
          duplicates,
          gaps,
          conflicts,
          conflictSeqs,
          chain.checkpoints(),
          notesVerified,
          notesUnchecked,
          errors,
          errorCount);
    }
  }

  /** Configures a {@link ShippedLogVerifier}. Not thread-safe. */
  public static final class Builder {
    private final Map<String, AuditChain.Builder> chains = new LinkedHashMap<>();
    private int reorderWindow = 10_000;
    private long reorderBytes = 64L << 20;
    private int duplicateWindow = 1 << 18;

    private Builder() {}

    /**
     * Expects the log {@code origin}, whose checkpoints are signed by {@code checkpointPublicKey}
     * (the auditor's copy, not one shipped with the log).
     */
    public Builder origin(String origin, PublicKey checkpointPublicKey) {
      chains.put(
          requireNonNull(origin, "origin"),
          AuditChain.newBuilder(requireNonNull(checkpointPublicKey, "checkpointPublicKey")));
      return this;
    }

    /**
     * Expects the log {@code origin} and checks every record's HMAC with its genesis chain key
     * (kept offline by the audit officer). Copied.
     */
    public Builder origin(String origin, PublicKey checkpointPublicKey, byte[] genesisChainKey) {
      chains.put(
          requireNonNull(origin, "origin"),
          AuditChain.newBuilder(requireNonNull(checkpointPublicKey, "checkpointPublicKey"))
              .chainKey(requireNonNull(genesisChainKey, "genesisChainKey")));
      return this;
    }

    /**
     * How many records of one origin may arrive ahead of a missing one before the missing range is
     * declared a gap. Default 10 000.
     */
    public Builder reorderWindow(int records) {
      this.reorderWindow = Checks.requirePositive(records, "reorderWindow");
      return this;
    }

    /**
     * How many bytes of records of one origin may wait for a missing one before the missing range
     * is declared a gap (whichever of this and {@link #reorderWindow} is reached first). Default 64
     * MiB.
     */
    public Builder reorderBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("reorderBytes must be positive");
      }
      this.reorderBytes = bytes;
      return this;
    }

    /**
     * Over how many of the latest sequence numbers of each origin a redelivered record is compared
     * with the first delivery (32 bytes each). Older redeliveries are reported as not compared.
     * Default 262 144.
     */
    public Builder duplicateWindow(int records) {
      this.duplicateWindow = Checks.requirePositive(records, "duplicateWindow");
      return this;
    }

    /**
     * Returns the verifier.
     *
     * @throws IllegalStateException if no origin was configured
     */
    public ShippedLogVerifier build() {
      if (chains.isEmpty()) {
        throw new IllegalStateException(
            "origin(...) is required: the verifier checks each log with its own public key");
      }
      return new ShippedLogVerifier(this);
    }
  }
}
