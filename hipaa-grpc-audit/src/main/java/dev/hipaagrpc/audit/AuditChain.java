package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An incremental verifier of one audit log whose records arrive one at a time in sequence order, as
 * shipped copies do (a receiver of the records a forwarder published), with the checks of {@link
 * AuditVerifier} that need no files: each line's frame and schema, its HMAC with the genesis chain
 * key, sequence continuity, the hash link to the previous record, key epochs advancing only after
 * checkpoints, and every checkpoint's Ed25519 signature under the key valid there (following signed
 * {@code KEY_ROTATION} hand-overs). It keeps the RFC 6962 Merkle tree over the records from genesis
 * on and the root at every checkpoint, so that C2SP checkpoint notes shipped beside the records can
 * be checked against them ({@link #checkNote}).
 *
 * <p>What it cannot see: file boundaries (the {@code ROTATE} seal of each file) and the tiles. A
 * chain resumed after missing records ({@link #restart}) checks each record on its own (schema,
 * HMAC, signature) and links from there on, but no longer checks notes (the tree lacks leaves).
 *
 * <p>Not thread-safe: one thread (or external locking) per chain.
 */
public final class AuditChain {

  /**
   * Why a record was refused. Immutable.
   *
   * @param problem the kind of damage
   * @param seq the sequence number concerned
   * @param detail a sentence for the auditor; never record content
   */
  public record Rejection(AuditVerifier.Problem problem, long seq, String detail) {}

  /** What {@link #checkNote} found. */
  public enum NoteStatus {
    /** The note's signature verifies and the records reproduce its root. */
    VERIFIED,
    /** The note covers records not appended yet: check it again later. */
    PENDING,
    /**
     * The signature verifies but the records cannot tell: they were resumed after a gap ({@link
     * #restart}), or the root at the note's size was forgotten ({@link Builder#rootsKept}).
     */
    UNCHECKED,
    /** Not a C2SP checkpoint note, or of another origin. */
    MALFORMED,
    /** The note's Ed25519 signature does not verify with the signing key valid at its size. */
    BAD_SIGNATURE,
    /**
     * The records do not reproduce the note's root, or no checkpoint record ends at its size: an
     * edit (or a fork) of the log, or a forged note.
     */
    EDITED
  }

  private final RecordChecks checks;
  private final int rootsKept;
  private final MerkleTree tree = new MerkleTree(null, false);
  private boolean treeUsable = true;
  private boolean rootsTrimmed;
  // Tree size -> {root, signing key valid there}, at every checkpoint record.
  private final TreeMap<Long, Object[]> roots = new TreeMap<>();
  private long lastSeq = -1;
  private @Nullable String lastHash;
  private long lastEpoch = -1;
  private boolean lastCheckpoint;
  private long records;
  private long checkpoints;

  private AuditChain(Builder b) {
    this.checks = new RecordChecks(b.publicKey, b.chainKey, b.keysFrom);
    this.rootsKept = b.rootsKept;
  }

  /**
   * Starts a chain. Defaults: no chain key (HMACs not checked), the Merkle roots of the last 4096
   * checkpoints kept.
   */
  public static Builder newBuilder(PublicKey checkpointPublicKey) {
    return new Builder(requireNonNull(checkpointPublicKey, "checkpointPublicKey"));
  }

  /**
   * Appends the record that follows the last one appended. The first record appended must be the
   * genesis record (seq 0); use {@link #restart} to start elsewhere.
   *
   * @param line the record line, without its newline
   * @return null if the record is good (it is then part of the chain), or why it is refused (the
   *     chain is then unchanged)
   */
  public @Nullable Rejection append(byte[] line) {
    requireNonNull(line, "line");
    Frame f = Frame.parse(line);
    long expected = lastSeq + 1;
    // Checked before any key is derived: a forged epoch costs nothing.
    String problem =
        f != null && !epochPossible(f) ? "key epoch out of order" : checks.content(line, f);
    if (problem != null || f == null) {
      return new Rejection(
          AuditVerifier.Problem.EDITED,
          f != null ? f.seq : expected,
          problem != null ? problem : "not a well-formed record");
    }
    if (lastHash == null) {
      boolean genesis =
          f.seq == 0
              && f.epoch == 0
              && f.checkpoint
              && "GENESIS".equals(f.reason)
              && f.prev.equals(Crypto.ZERO_HASH);
      if (!genesis) {
        return new Rejection(
            AuditVerifier.Problem.DELETED,
            0,
            "the chain does not start at the genesis record: earlier records are missing");
      }
    } else {
      if (f.seq < expected) {
        return new Rejection(
            AuditVerifier.Problem.REORDERED,
            f.seq,
            "seq " + f.seq + " appears after seq " + lastSeq + " (reordered or replayed)");
      }
      if (f.seq > expected) {
        return new Rejection(
            AuditVerifier.Problem.DELETED,
            expected,
            f.seq - expected == 1
                ? "record seq " + expected + " is missing"
                : "records seq " + expected + " to " + (f.seq - 1) + " are missing");
      }
      if (!f.prev.equals(lastHash)) {
        return new Rejection(
            AuditVerifier.Problem.EDITED,
            lastSeq,
            "the record does not hash to the link held by seq " + f.seq);
      }
      if (f.epoch != (lastCheckpoint ? lastEpoch + 1 : lastEpoch)) {
        return new Rejection(AuditVerifier.Problem.EDITED, f.seq, "key epoch out of order");
      }
    }
    return accept(line, f, false);
  }

  /**
   * Continues the chain at {@code line} without linking it to the records before (after a range of
   * records known to be missing, or to start at a record other than genesis): the record's schema,
   * HMAC and signature are checked on their own, the chain key is derived afresh for its epoch, and
   * later records link to it. Checkpoint notes are no longer checked.
   *
   * @return null if the record is good, or why it is refused (the chain is then unchanged)
   */
  public @Nullable Rejection restart(byte[] line) {
    requireNonNull(line, "line");
    Frame f = Frame.parse(line);
    String problem;
    if (f != null && !epochPossible(f)) {
      // Checked before any key is derived: a forged epoch costs nothing.
      problem = "key epoch out of order";
    } else {
      checks.forgetKey();
      problem = checks.content(line, f);
    }
    if (problem != null || f == null) {
      checks.keepKey();
      return new Rejection(
          AuditVerifier.Problem.EDITED,
          f != null ? f.seq : lastSeq + 1,
          problem != null ? problem : "not a well-formed record");
    }
    Rejection r = accept(line, f, true);
    if (r != null) {
      checks.keepKey();
    }
    return r;
  }

  /**
   * Whether a genuine log can have {@code f}'s epoch at its seq: the epoch starts at 0 at genesis
   * and advances by at most one per record, also across records not seen.
   */
  private boolean epochPossible(Frame f) {
    if (f.epoch < 0 || f.epoch > f.seq) {
      return false;
    }
    return lastSeq < 0 || f.seq <= lastSeq || f.epoch - lastEpoch <= f.seq - lastSeq;
  }

  private @Nullable Rejection accept(byte[] line, Frame f, boolean restarted) {
    if (f.checkpoint) {
      String sig = checks.signatureProblem(line, f);
      if (sig != null) {
        return new Rejection(AuditVerifier.Problem.BAD_SIGNATURE, f.seq, sig);
      }
      checkpoints++;
    }
    checks.commitKey();
    if (restarted) {
      treeUsable = false;
      roots.clear();
    }
    if (treeUsable) {
      tree.add(Merkle.leafHash(line, 0, line.length), 0, 1);
      if (f.checkpoint) {
        try {
          roots.put(tree.size(), new Object[] {tree.root(), checks.currentKey()});
        } catch (IOException e) {
          throw new UncheckedIOException(e); // no tile store: cannot happen
        }
        while (roots.size() > rootsKept) {
          roots.pollFirstEntry();
          rootsTrimmed = true;
        }
      }
    }
    records++;
    lastSeq = f.seq;
    lastHash = Crypto.sha256Hex(line, 0, line.length);
    lastEpoch = f.epoch;
    lastCheckpoint = f.checkpoint;
    return null;
  }

  /**
   * Checks a C2SP checkpoint note of this log (as the sink writes to {@code <dir>/checkpoint} or a
   * witness cosigned it) against the records appended: its origin, then its Ed25519 signature with
   * the signing key valid at its size (a note beyond the records appended: the key valid after
   * them, so a note signed by a key whose {@code KEY_ROTATION} record has not arrived yet is {@code
   * BAD_SIGNATURE}), then its root against the tree of that size. The sink signs notes only at
   * checkpoint records, so a note at any other size the records cover is {@code EDITED} (a forgery
   * or a fork), unless the tree or that root is gone ({@code UNCHECKED}).
   */
  public NoteStatus checkNote(String note, String origin) {
    requireNonNull(note, "note");
    requireNonNull(origin, "origin");
    SignedNotes.Note n = SignedNotes.parse(note);
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    if (n == null || cp == null || !cp.origin().equals(origin)) {
      return NoteStatus.MALFORMED;
    }
    long size = cp.size();
    Object[] at = size <= lastSeq + 1 ? roots.get(size) : null;
    boolean signed =
        at != null
            ? SignedNotes.verify(n, origin, (PublicKey) at[1])
            : checks.keysAround(size).stream().anyMatch(k -> SignedNotes.verify(n, origin, k));
    if (!signed) {
      return NoteStatus.BAD_SIGNATURE;
    }
    if (size > lastSeq + 1) {
      return NoteStatus.PENDING;
    }
    if (at != null) {
      return Arrays.equals((byte[]) at[0], cp.root()) ? NoteStatus.VERIFIED : NoteStatus.EDITED;
    }
    // No checkpoint record ends at this size: no genuine note has it, if the tree can tell.
    boolean covered =
        treeUsable && (!rootsTrimmed || (!roots.isEmpty() && size > roots.firstKey()));
    return covered ? NoteStatus.EDITED : NoteStatus.UNCHECKED;
  }

  /** The tree size a C2SP checkpoint note states, or -1 if {@code note} is not one. */
  public static long noteSize(String note) {
    SignedNotes.Note n = SignedNotes.parse(requireNonNull(note, "note"));
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    return cp == null ? -1 : cp.size();
  }

  /** The origin a C2SP checkpoint note names, or null if {@code note} is not one. */
  public static @Nullable String noteOrigin(String note) {
    SignedNotes.Note n = SignedNotes.parse(requireNonNull(note, "note"));
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    return cp == null ? null : cp.origin();
  }

  /** The sequence number of the last record appended, or -1. */
  public long lastSeq() {
    return lastSeq;
  }

  /** Records accepted. */
  public long records() {
    return records;
  }

  /** Checkpoint records whose signature verified. */
  public long checkpoints() {
    return checkpoints;
  }

  /** Configures an {@link AuditChain}. Not thread-safe. */
  public static final class Builder {
    private final PublicKey publicKey;
    private byte @Nullable [] chainKey;
    private final Map<Long, PublicKey> keysFrom = new HashMap<>();
    private int rootsKept = 4096;

    private Builder(PublicKey publicKey) {
      this.publicKey = publicKey;
    }

    /**
     * Sets the genesis chain key K<sub>0</sub>, enabling the HMAC check of every record. Copied.
     *
     * @throws IllegalArgumentException if shorter than 32 bytes
     */
    public Builder chainKey(byte[] genesisKey) {
      this.chainKey =
          Arrays.copyOf(Crypto.requireKey(requireNonNull(genesisKey, "genesisKey"), "key"), 32);
      return this;
    }

    /**
     * A checkpoint signing key that signs from record {@code fromSeq} on, for a key change the log
     * does not record (see {@link AuditVerifier.Builder#signingKeyFrom}). Default: none.
     */
    public Builder signingKeyFrom(long fromSeq, PublicKey key) {
      if (fromSeq < 1) {
        throw new IllegalArgumentException("the first key is the one given to newBuilder");
      }
      keysFrom.put(fromSeq, requireNonNull(key, "key"));
      return this;
    }

    /**
     * How many checkpoint roots to keep for {@link #checkNote} (notes older than that are {@code
     * UNCHECKED}). Default 4096.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder rootsKept(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("rootsKept must be positive");
      }
      this.rootsKept = count;
      return this;
    }

    /** Returns the chain. */
    public AuditChain build() {
      return new AuditChain(this);
    }
  }
}
