package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Checks a directory of audit files written by {@link ChainedFileSink} and names the first bad
 * record (164.312(c)(2): a mechanism to corroborate that the record was not altered or destroyed).
 *
 * <p>With the checkpoint public key alone it checks that every line is a well-formed record of the
 * schema, that sequence numbers and hash links are unbroken within and across files, that key
 * epochs advance only at checkpoints, and every checkpoint's Ed25519 signature. With the genesis
 * chain key it also checks every record's HMAC, which is what detects an edit of a record after the
 * last checkpoint and any rewrite by someone who took the server later (forward security). Anchors
 * (checkpoint lines shipped off the host through {@link ChainedFileSink.Builder#onCheckpoint})
 * detect a tail cut off at a record boundary.
 *
 * <p>{@link AuditVerifierCli} runs it from the command line.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AuditVerifier {

  /** Why a record is bad. */
  public enum Problem {
    /** The record's content was changed (HMAC, hash link or schema does not hold). */
    EDITED,
    /** Records are missing (a gap in sequence numbers, or the log does not start at genesis). */
    DELETED,
    /** A record that was never written by the sink sits between two chained records. */
    INSERTED,
    /** Records are out of order (a later record before an earlier one, or a replay). */
    REORDERED,
    /** The log or a record is cut short: a torn line, a cut-out range, a lost tail or seal. */
    TRUNCATED,
    /** A checkpoint's Ed25519 signature (or key id) does not verify. */
    BAD_SIGNATURE
  }

  /**
   * The first bad record found. Immutable.
   *
   * @param problem the kind of damage
   * @param file the file name
   * @param line the 1-based line in that file
   * @param seq the sequence number of the bad record (the one expected at that position)
   * @param detail a sentence for the auditor; never record content
   */
  public record Failure(Problem problem, String file, long line, long seq, String detail) {
    @Override
    public String toString() {
      return problem + " at " + file + ":" + line + " (seq " + seq + "): " + detail;
    }
  }

  /**
   * The outcome of a verification. Immutable.
   *
   * @param recordsVerified records that passed every check before the first failure
   * @param checkpointsVerified checkpoints whose signature verified
   * @param files audit files read
   * @param lastSeq the sequence number of the last verified record, or -1
   * @param recordsAfterLastCheckpoint verified records not yet covered by a signed checkpoint
   *     (checked by HMAC only, or not at all without the chain key)
   * @param closed whether the log ends with a CLOSE checkpoint
   * @param notesVerified C2SP checkpoint notes (the directory's {@code checkpoint} file and those
   *     given to {@link Builder#checkpointNote}) whose signature verified and whose tree root the
   *     records reproduce
   * @param signingKeys the checkpoint signing keys in the order they took over, each with the
   *     sequence number of the first record from which it signs (the key history)
   * @param failure the first bad record, or null when the log verifies
   */
  public record Result(
      long recordsVerified,
      long checkpointsVerified,
      int files,
      long lastSeq,
      long recordsAfterLastCheckpoint,
      boolean closed,
      long notesVerified,
      List<SigningKey> signingKeys,
      @Nullable Failure failure) {
    /** Whether the log verified. */
    public boolean ok() {
      return failure == null;
    }
  }

  /**
   * A checkpoint signing key and where it took over. Immutable.
   *
   * @param key the Ed25519 public key
   * @param fromSeq the first sequence number whose checkpoints it signs
   */
  public record SigningKey(PublicKey key, long fromSeq) {}

  private final PublicKey publicKey;
  private final byte @Nullable [] chainKey;
  private final Map<Long, String> anchors;
  private final Map<Long, byte[]> anchorLines;
  private final List<String> notes;
  private final @Nullable String origin;
  private final @Nullable WitnessPolicy policy;
  private final java.util.TreeMap<Long, PublicKey> keysFrom;
  private final boolean requireClosed;
  private final boolean allowPrunedHead;

  private AuditVerifier(Builder b) {
    this.publicKey = b.publicKey;
    this.chainKey = b.chainKey;
    this.anchors = Map.copyOf(b.anchors);
    this.anchorLines = Map.copyOf(b.anchorLines);
    this.notes = List.copyOf(b.notes);
    this.origin = b.origin;
    this.policy = b.policy;
    this.keysFrom = new java.util.TreeMap<>(b.keysFrom);
    this.requireClosed = b.requireClosed;
    this.allowPrunedHead = b.allowPrunedHead;
  }

  /**
   * Starts a verifier. Defaults: no chain key (public-key checks only), no anchors, the log may be
   * open (not closed), and must start at its genesis record.
   */
  public static Builder newBuilder(PublicKey checkpointPublicKey) {
    return new Builder(requireNonNull(checkpointPublicKey, "checkpointPublicKey"));
  }

  /**
   * Verifies the audit files ({@code audit-*.jsonl}) in {@code directory}.
   *
   * @throws IOException if the directory or a file cannot be read
   */
  public Result verify(Path directory) throws IOException {
    List<Path> files = LogFiles.list(directory);
    Run run = new Run(files.size(), directory.toString(), new Tiles(directory));
    List<String[]> all = new ArrayList<>();
    for (int i = 0; i < notes.size(); i++) {
      all.add(new String[] {"checkpoint note " + (i + 1), notes.get(i)});
    }
    Path noteFile = directory.resolve(LogTree.NOTE_FILE);
    if (Files.isRegularFile(noteFile)) {
      all.add(new String[] {LogTree.NOTE_FILE, Files.readString(noteFile, UTF_8)});
    }
    Path cosigned = directory.resolve(WitnessClient.COSIGNED_DIR);
    if (Files.isDirectory(cosigned)) {
      for (Path f : LogFiles.listNames(cosigned, "0|[1-9][0-9]{0,18}")) {
        all.add(
            new String[] {
              WitnessClient.COSIGNED_DIR + "/" + f.getFileName(), Files.readString(f, UTF_8)
            });
      }
    }
    for (String[] n : all) {
      if (!run.addNote(n[0], n[1])) {
        return run.result();
      }
    }
    WitnessPolicy p = policy;
    if (p != null && !witnessed(p, all)) {
      run.failure =
          new Failure(
              Problem.BAD_SIGNATURE,
              directory.toString(),
              0,
              0,
              "no checkpoint note is cosigned by a quorum of the witness policy (" + p + ")");
      return run.result();
    }
    try (LogLines lines = new LogLines(files)) {
      try {
        run.go(lines);
      } catch (IOException e) {
        // Paths and sequence numbers only: never content.
        throw new IOException(
            "cannot read audit file "
                + lines.currentFile()
                + " after seq "
                + run.lastSeq
                + " ("
                + e.getClass().getSimpleName()
                + ")",
            e);
      }
    }
    return run.result();
  }

  /** Whether some note carries cosignatures of a quorum of the policy's witnesses. */
  private static boolean witnessed(WitnessPolicy p, List<String[]> all) {
    List<SignedNotes.Note> parsed = new ArrayList<>();
    for (String[] n : all) {
      SignedNotes.Note note = SignedNotes.parse(n[1]);
      if (note != null) {
        parsed.add(note);
      }
    }
    for (SignedNotes.Note n : parsed) {
      if (p.cosigners(n.text(), parsed) >= p.quorum()) {
        return true;
      }
    }
    return false;
  }

  /** The state of one verification. */
  private final class Run {
    final int files;
    final String directory;
    final Tiles tiles;
    MerkleTree tree = new MerkleTree(null, false);
    boolean treeUsable = true;
    // Notes by tree size, each with where it came from.
    final java.util.TreeMap<Long, List<String[]>> notesBySize = new java.util.TreeMap<>();
    final RecordChecks checks = new RecordChecks(publicKey, chainKey, keysFrom);
    long notesVerified;
    long verified;
    long checkpoints;
    long lastSeq = -1;
    @Nullable String lastHash;
    long lastEpoch = -1;
    boolean lastCheckpoint;
    @Nullable String lastReason;
    LogLines.@Nullable Entry lastEntry;
    long sinceCheckpoint;
    @Nullable Failure failure;
    final Map<Long, String> seenAnchors = new HashMap<>();

    Run(int files, String directory, Tiles tiles) {
      this.files = files;
      this.directory = directory;
      this.tiles = tiles;
    }

    /** Checks a note's form, origin and signature; records a failure and returns false if bad. */
    boolean addNote(String where, String text) {
      SignedNotes.Note n = SignedNotes.parse(text);
      SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
      if (n == null || cp == null) {
        failure = new Failure(Problem.EDITED, where, 0, 0, "not a C2SP checkpoint note");
        return false;
      }
      if (origin != null && !origin.equals(cp.origin())) {
        failure =
            new Failure(
                Problem.BAD_SIGNATURE,
                where,
                1,
                cp.size() - 1,
                "the checkpoint note is of another log (origin mismatch)");
        return false;
      }
      // The signature is checked when the records reach the note's size, with the signing key
      // valid there (the key history follows the log's KEY_ROTATION checkpoints).
      notesBySize
          .computeIfAbsent(cp.size(), k -> new ArrayList<>())
          .add(new String[] {where, Crypto.HEX.formatHex(cp.root()), text});
      return true;
    }

    /** Whether the note verifies under its origin with the signing key valid now. */
    boolean noteSigned(String[] note) {
      SignedNotes.Note n = SignedNotes.parse(note[2]);
      SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
      return n != null && cp != null && SignedNotes.verify(n, cp.origin(), checks.currentKey());
    }

    /** Adds the record to the tree and checks the notes of the size it completes. */
    boolean treeCheck(LogLines.Entry x, Frame f) throws IOException {
      if (!treeUsable) {
        return true;
      }
      byte[] leaf = Merkle.leafHash(x.bytes, 0, x.bytes.length);
      tree.add(leaf, 0, 1);
      List<String[]> due = notesBySize.get(tree.size());
      if (due == null) {
        return true;
      }
      String root = Crypto.HEX.formatHex(tree.root());
      for (String[] note : due) {
        if (!noteSigned(note)) {
          fail(
              Problem.BAD_SIGNATURE,
              x,
              f.seq,
              "the checkpoint note (" + note[0] + ")'s Ed25519 signature does not verify");
          return false;
        }
        if (!root.equals(note[1])) {
          fail(
              Problem.EDITED,
              x,
              f.seq,
              "the records up to seq "
                  + f.seq
                  + " do not reproduce the Merkle root of the signed checkpoint note ("
                  + note[0]
                  + ") of tree size "
                  + tree.size());
          return false;
        }
        notesVerified++;
      }
      return true;
    }

    Result result() {
      return new Result(
          verified,
          checkpoints,
          files,
          lastSeq,
          sinceCheckpoint,
          "CLOSE".equals(lastReason),
          notesVerified,
          checks.history(),
          failure);
    }

    void fail(Problem p, LogLines.Entry e, long seq, String detail) {
      failure = new Failure(p, e.file, e.line, seq, detail);
    }

    void go(LogLines lines) throws IOException {
      LogLines.Entry x;
      while ((x = lines.next()) != null) {
        if (!check(x, lines)) {
          return;
        }
      }
      LogLines.Entry last = lastEntry;
      if (last == null) {
        failure = new Failure(Problem.TRUNCATED, directory, 0, 0, "no audit records found");
        return;
      }
      if (!notesBySize.isEmpty() && notesBySize.lastKey() > lastSeq + 1) {
        long size = notesBySize.lastKey();
        String[] beyond = requireNonNull(notesBySize.get(size)).get(0);
        if (!noteSigned(beyond)) {
          fail(
              Problem.BAD_SIGNATURE,
              last,
              lastSeq + 1,
              "the checkpoint note (" + beyond[0] + ")'s Ed25519 signature does not verify");
          return;
        }
        fail(
            Problem.TRUNCATED,
            last,
            lastSeq + 1,
            "the log ends at seq "
                + lastSeq
                + " but a signed checkpoint note ("
                + requireNonNull(notesBySize.get(size)).get(0)[0]
                + ") covers "
                + size
                + " records: the tail was removed");
        return;
      }
      for (Map.Entry<Long, String> a : anchors.entrySet()) {
        if (a.getKey() > lastSeq) {
          fail(
              Problem.TRUNCATED,
              last,
              lastSeq + 1,
              "the log ends at seq "
                  + lastSeq
                  + " but a checkpoint at seq "
                  + a.getKey()
                  + " was anchored: the tail was removed");
          return;
        }
      }
      if (requireClosed && !"CLOSE".equals(lastReason)) {
        fail(
            Problem.TRUNCATED,
            last,
            lastSeq + 1,
            "the log does not end with a CLOSE checkpoint: its tail was removed (or the writer"
                + " is still running or crashed)");
      }
    }

    /** Returns whether {@code x} is good; records the failure otherwise. */
    boolean check(LogLines.Entry x, LogLines lines) throws IOException {
      long expected = lastSeq + 1;
      if (!x.terminated) {
        fail(Problem.TRUNCATED, x, expected, "the record is cut short (torn or truncated file)");
        return false;
      }
      String contentProblem = content(x);
      Frame f = x.frame;
      if (contentProblem != null || f == null) {
        LogLines.Entry y = lines.peek();
        Frame yf = y == null ? null : y.frame;
        if (lastEntry != null
            && yf != null
            && yf.seq == expected
            && lastHash != null
            && yf.prev.equals(lastHash)) {
          fail(
              Problem.INSERTED,
              x,
              f != null ? f.seq : expected,
              "a record that the chain does not contain sits between seq "
                  + lastSeq
                  + " and seq "
                  + expected);
        } else if (lastEntry != null && yf != null && yf.seq > expected + 1) {
          fail(
              Problem.TRUNCATED,
              x,
              expected,
              "the record is cut and records up to seq " + (yf.seq - 1) + " are missing");
        } else {
          fail(
              Problem.EDITED,
              x,
              f != null && lastEntry == null ? f.seq : expected,
              requireNonNull(contentProblem == null ? "not a well-formed record" : contentProblem));
        }
        return false;
      }
      if (lastEntry == null) {
        boolean genesis =
            f.seq == 0
                && f.epoch == 0
                && f.checkpoint
                && "GENESIS".equals(f.reason)
                && f.prev.equals(Crypto.ZERO_HASH);
        if (!genesis && !allowPrunedHead) {
          fail(
              Problem.DELETED,
              x,
              0,
              "the log does not start at its genesis record: earlier records or files are missing");
          return false;
        }
        if (!genesis) {
          String unvouched = prunedHeadProblem(f);
          if (unvouched != null) {
            fail(Problem.DELETED, x, f.seq, unvouched);
            return false;
          }
          // The tree's left part comes from the tiles; the notes' roots then vouch for them.
          MerkleTree t = new MerkleTree(tiles, false);
          if (t.restore(f.seq)) {
            tree = t;
          } else {
            treeUsable = false;
          }
        }
      } else {
        if (f.seq <= lastSeq) {
          fail(
              Problem.REORDERED,
              x,
              f.seq,
              "seq " + f.seq + " appears after seq " + lastSeq + " (reordered or replayed)");
          return false;
        }
        if (f.seq > expected) {
          LogLines.Entry y = lines.peek();
          Frame yf = y == null ? null : y.frame;
          if (yf != null && yf.seq == expected) {
            fail(Problem.REORDERED, x, f.seq, "seq " + f.seq + " appears before seq " + expected);
          } else {
            String missing =
                f.seq - expected == 1
                    ? "record seq " + expected + " is missing"
                    : "records seq " + expected + " to " + (f.seq - 1) + " are missing";
            fail(
                Problem.DELETED,
                x,
                expected,
                missing + (x.firstInFile ? " (a whole file, or the end of the previous one)" : ""));
          }
          return false;
        }
        if (!f.prev.equals(lastHash)) {
          LogLines.Entry last = requireNonNull(lastEntry);
          fail(
              Problem.EDITED,
              last,
              lastSeq,
              "the record does not hash to the link held by seq " + f.seq);
          return false;
        }
        if (x.firstInFile && !"ROTATE".equals(lastReason)) {
          LogLines.Entry last = requireNonNull(lastEntry);
          fail(
              Problem.TRUNCATED,
              last,
              lastSeq + 1,
              "file " + last.file + " ends without its ROTATE seal");
          return false;
        }
        long expectedEpoch = lastCheckpoint ? lastEpoch + 1 : lastEpoch;
        if (f.epoch != expectedEpoch) {
          fail(Problem.EDITED, x, f.seq, "key epoch out of order");
          return false;
        }
      }
      if (f.checkpoint) {
        String sigProblem = signatureProblem(x, f);
        if (sigProblem != null) {
          fail(Problem.BAD_SIGNATURE, x, f.seq, sigProblem);
          return false;
        }
        checkpoints++;
        sinceCheckpoint = 0;
      } else {
        sinceCheckpoint++;
      }
      String hash = Crypto.sha256Hex(x.bytes, 0, x.bytes.length);
      String anchored = anchors.get(f.seq);
      if (anchored != null && !anchored.equals(hash)) {
        fail(Problem.EDITED, x, f.seq, "the record differs from the anchored checkpoint");
        return false;
      }
      seenAnchors.put(f.seq, hash);
      if (!treeCheck(x, f)) {
        return false;
      }
      verified++;
      lastSeq = f.seq;
      lastHash = hash;
      lastEpoch = f.epoch;
      lastCheckpoint = f.checkpoint;
      lastReason = f.reason;
      lastEntry = x;
      return true;
    }

    /**
     * A pruned log starts at a record that an anchored checkpoint vouches for: the anchor is that
     * record itself, or the checkpoint just before it (the ROTATE seal of the last pruned file), to
     * which it links and whose epoch it continues. Without that, whoever holds the current chain
     * key could present a history of their own as the retained part (forward security).
     */
    @Nullable String prunedHeadProblem(Frame first) {
      if (anchorLines.containsKey(first.seq)) {
        return null; // check() compares the record with the anchor
      }
      byte[] a = first.seq > 0 ? anchorLines.get(first.seq - 1) : null;
      if (a == null) {
        return "the first retained record (seq "
            + first.seq
            + ") is not vouched for by an anchored checkpoint: give the checkpoint that sealed the"
            + " last pruned file (seq "
            + (first.seq - 1)
            + ") as an anchor";
      }
      LogLines.Entry anchor = new LogLines.Entry("anchor", 0, a, true, false);
      Frame af = requireNonNull(anchor.frame);
      // The anchor's epoch precedes the first record's: derive keys again from there.
      checks.forgetKey();
      String problem = content(anchor);
      if (problem == null) {
        problem = signatureProblem(anchor, af);
      }
      if (problem != null) {
        return "the anchored checkpoint at seq " + af.seq + " does not verify: " + problem;
      }
      if (!first.prev.equals(Crypto.sha256Hex(a, 0, a.length))) {
        return "the first retained record does not link to the anchored checkpoint at seq "
            + af.seq;
      }
      if (first.epoch != af.epoch + 1) {
        return "the first retained record's key epoch does not follow the anchored checkpoint";
      }
      return null;
    }

    /** Schema and HMAC; returns a description of what is wrong, or null. */
    @Nullable String content(LogLines.Entry x) {
      String problem = checks.content(x.bytes, x.frame);
      // The directory is checked in one pass: the key moves on with each record read.
      checks.commitKey();
      return problem;
    }

    @Nullable String signatureProblem(LogLines.Entry x, Frame f) {
      return checks.signatureProblem(x.bytes, f);
    }
  }

  /** Configures an {@link AuditVerifier}. Not thread-safe. */
  public static final class Builder {
    private final PublicKey publicKey;
    private byte @Nullable [] chainKey;
    private final Map<Long, String> anchors = new HashMap<>();
    private final Map<Long, byte[]> anchorLines = new HashMap<>();
    private final List<String> notes = new ArrayList<>();
    private @Nullable String origin;
    private @Nullable WitnessPolicy policy;
    private final Map<Long, PublicKey> keysFrom = new HashMap<>();
    private boolean requireClosed;
    private boolean allowPrunedHead;

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
     * Adds an anchor: a checkpoint line as the sink emitted it to its checkpoint hook. The log must
     * contain that exact record, so a tail cut at a record boundary is detected.
     *
     * @throws IllegalArgumentException if the line is not a framed checkpoint record
     */
    public Builder anchor(String checkpointLine) {
      byte[] b = checkpointLine.strip().getBytes(UTF_8);
      Frame f = Frame.parse(b);
      if (f == null || !f.checkpoint) {
        throw new IllegalArgumentException("not a checkpoint record line");
      }
      anchors.put(f.seq, Crypto.sha256Hex(b, 0, b.length));
      anchorLines.put(f.seq, b);
      return this;
    }

    /**
     * Adds a C2SP checkpoint note (as {@link ChainedFileSink.Builder#onCheckpointNote} emitted it,
     * kept off the host or cosigned by witnesses) to check besides the directory's {@code
     * checkpoint} file: its Ed25519 signature must verify under its origin with the public key, the
     * records must reproduce its root at its tree size, and a log shorter than its size fails as
     * {@code TRUNCATED}.
     */
    public Builder checkpointNote(String note) {
      notes.add(requireNonNull(note, "note"));
      return this;
    }

    /**
     * Enforces a k-of-n witness policy: the log fails ({@code BAD_SIGNATURE}) unless some
     * checkpoint note (given with {@link #checkpointNote}, or in the directory's {@code cosigned/}
     * files, cosignatures of notes with the same body counted together) is cosigned by a quorum of
     * its witnesses. Give the verifier the latest cosigned checkpoints fetched from the witnesses
     * themselves ({@link WitnessClient#fetchLatest}): a log rolled back or cut below their size
     * then fails as {@code TRUNCATED}, a forked one as {@code EDITED}. Default: none.
     */
    public Builder witnessPolicy(WitnessPolicy policy) {
      this.policy = requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Adds to the key history a checkpoint signing key that signs from record {@code fromSeq} on,
     * for a key change the log does not record ({@link
     * ChainedFileSink.Builder#allowUnrecordedSigningKeyChange}). Rotations recorded in the log
     * ({@code KEY_ROTATION}, signed by the outgoing key) need no such entry: the verifier follows
     * them from the key given to {@link #newBuilder}. Default: none.
     */
    public Builder signingKeyFrom(long fromSeq, PublicKey key) {
      if (fromSeq < 1) {
        throw new IllegalArgumentException("the first key is the one given to newBuilder");
      }
      keysFrom.put(fromSeq, requireNonNull(key, "key"));
      return this;
    }

    /** Requires every checkpoint note to name this origin. Default: any origin. */
    public Builder origin(String origin) {
      this.origin = requireNonNull(origin, "origin");
      return this;
    }

    /** Fails a log that does not end with a CLOSE checkpoint. Default false. */
    public Builder requireClosed(boolean require) {
      this.requireClosed = require;
      return this;
    }

    /**
     * Accepts a log whose oldest files were removed by retention, provided an {@link #anchor}
     * vouches for the first record present: the anchor is that record, or the checkpoint just
     * before it (the {@code ROTATE} seal of the last removed file, as shipped by {@link
     * ChainedFileSink.Builder#onCheckpoint}). The anchor's signature, and with the chain key its
     * HMAC, are checked, and the first record must link to it and continue its key epoch, so that
     * whoever holds the current chain key cannot pass off a history of their own. Default false
     * (the log must start at its genesis record).
     */
    public Builder allowPrunedHead(boolean allow) {
      this.allowPrunedHead = allow;
      return this;
    }

    /** Returns the verifier. */
    public AuditVerifier build() {
      return new AuditVerifier(this);
    }
  }
}
