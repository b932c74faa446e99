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
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
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
 * <p>Thread-safe (one lock).
 */
public final class ShippedLogVerifier {

  private static final int MAX_LISTED = 100;

  private final Map<String, Origin> origins = new LinkedHashMap<>();
  private final Map<String, Long> unknown = new HashMap<>();
  private final int reorderWindow;
  private final int duplicateWindow;

  private ShippedLogVerifier(Builder b) {
    this.reorderWindow = b.reorderWindow;
    this.duplicateWindow = b.duplicateWindow;
    for (Map.Entry<String, AuditChain.Builder> e : b.chains.entrySet()) {
      origins.put(e.getKey(), new Origin(e.getKey(), e.getValue().build()));
    }
  }

  /**
   * Starts a verifier. Defaults: no origins (add each with {@link Builder#origin}), records may
   * arrive up to 10 000 ahead of a missing one, duplicates compared over the last 262 144 sequence
   * numbers of each origin.
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
    final Set<String> notesSeen = new HashSet<>();
    final List<String> pendingNotes = new ArrayList<>();
    final TreeMap<Long, byte[]> pending = new TreeMap<>();
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
        if (pending.size() > reorderWindow) {
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
        take(next, line);
      }
    }

    void gapTo(long first) {
      gaps.add(new ShippingReport.Gap(next, first - 1));
      relink = true;
      next = first;
    }

    void note(String text) {
      if (!notesSeen.add(KafkaClients.sha256Hex(text.getBytes(UTF_8)))) {
        return; // redelivered
      }
      judge(text, chain.checkNote(text, name));
    }

    /** Returns false when the note is still pending. */
    boolean judge(String text, AuditChain.NoteStatus s) {
      long size = AuditChain.noteSize(text);
      switch (s) {
        case VERIFIED -> notesVerified++;
        case PENDING -> {
          if (!pendingNotes.contains(text)) {
            pendingNotes.add(text);
          }
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
                    + size);
      }
      return true;
    }

    void checkPendingNotes() {
      for (Iterator<String> it = pendingNotes.iterator(); it.hasNext(); ) {
        String n = it.next();
        if (AuditChain.noteSize(n) <= next && judge(n, chain.checkNote(n, name))) {
          it.remove();
        }
      }
    }

    void finish() {
      while (!pending.isEmpty()) {
        gapTo(pending.firstKey());
        drain();
      }
      for (String n : pendingNotes) {
        long size = AuditChain.noteSize(n);
        error(
            "a signed checkpoint note covers "
                + size
                + " records but only "
                + next
                + " were shipped: the tail is missing (or still being shipped)");
      }
      pendingNotes.clear();
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
