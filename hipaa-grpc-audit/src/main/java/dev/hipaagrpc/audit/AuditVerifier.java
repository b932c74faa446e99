package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditRecord;
import dev.hipaagrpc.audit.proto.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
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
   * @param failure the first bad record, or null when the log verifies
   */
  public record Result(
      long recordsVerified,
      long checkpointsVerified,
      int files,
      long lastSeq,
      long recordsAfterLastCheckpoint,
      boolean closed,
      @Nullable Failure failure) {
    /** Whether the log verified. */
    public boolean ok() {
      return failure == null;
    }
  }

  /** Bounds the key derivation for the first record of a pruned log (an hour of hashing). */
  private static final long MAX_FIRST_EPOCH = 1L << 26;

  private final PublicKey publicKey;
  private final String keyId;
  private final byte @Nullable [] chainKey;
  private final Map<Long, String> anchors;
  private final boolean requireClosed;
  private final boolean allowPrunedHead;

  private AuditVerifier(Builder b) {
    this.publicKey = b.publicKey;
    this.keyId = Checkpoints.keyId(b.publicKey);
    this.chainKey = b.chainKey;
    this.anchors = Map.copyOf(b.anchors);
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
    Run run = new Run(files.size());
    try (LogLines lines = new LogLines(files)) {
      run.go(lines);
    }
    return run.result();
  }

  /** The state of one verification. */
  private final class Run {
    final int files;
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
    long keyEpoch = -1;
    byte @Nullable [] key;
    final Map<Long, String> seenAnchors = new HashMap<>();

    Run(int files) {
      this.files = files;
    }

    Result result() {
      return new Result(
          verified,
          checkpoints,
          files,
          lastSeq,
          sinceCheckpoint,
          "CLOSE".equals(lastReason),
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
        failure = new Failure(Problem.TRUNCATED, "-", 0, 0, "no audit records found");
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
      verified++;
      lastSeq = f.seq;
      lastHash = hash;
      lastEpoch = f.epoch;
      lastCheckpoint = f.checkpoint;
      lastReason = f.reason;
      lastEntry = x;
      return true;
    }

    /** Schema and HMAC; returns a description of what is wrong, or null. */
    @Nullable String content(LogLines.Entry x) {
      Frame f = x.frame;
      if (f == null) {
        return "not a well-formed record";
      }
      AuditRecord.Builder rec = AuditRecord.newBuilder();
      try {
        JsonFormat.parser().merge(new String(x.bytes, UTF_8), rec);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        return "not a record of the audit schema";
      }
      if (rec.getSeq() != f.seq
          || rec.getEpoch() != f.epoch
          || !rec.getPrev().equals(f.prev)
          || !rec.getMac().equals(f.mac)
          || rec.getBodyCase() == AuditRecord.BodyCase.BODY_NOT_SET
          || (rec.getBodyCase() == AuditRecord.BodyCase.CHECKPOINT) != f.checkpoint
          || (f.checkpoint && !rec.getCheckpoint().getReason().name().equals(f.reason))) {
        return "the record's fields do not match its frame";
      }
      byte[] k0 = chainKey;
      if (k0 != null) {
        byte[] k = keyFor(k0, f.epoch);
        if (k == null) {
          return "key epoch out of order";
        }
        Mac mac = Crypto.hmac(k);
        mac.update(x.bytes, 0, f.bodyLength);
        if (!Crypto.hexEquals(Crypto.HEX.formatHex(mac.doFinal()), f.mac)) {
          return "the HMAC does not verify: the record was altered";
        }
      }
      return null;
    }

    /**
     * K_epoch, evolving forward from the last key used; null if the epoch went backwards or jumped
     * (a genuine log advances by one epoch at a time).
     */
    byte @Nullable [] keyFor(byte[] k0, long epoch) {
      byte[] k = key;
      if (k == null) {
        if (epoch > MAX_FIRST_EPOCH) {
          return null;
        }
        k = Crypto.keyForEpoch(k0, epoch);
        key = k;
        keyEpoch = epoch;
        return k;
      }
      // Forward jumps are allowed here (a deleted file skips epochs; the sequence check names
      // that), bounded so that a forged epoch cannot make us hash for hours.
      if (epoch < keyEpoch || epoch - keyEpoch > MAX_FIRST_EPOCH) {
        return null;
      }
      while (keyEpoch < epoch) {
        byte[] next = Crypto.evolve(k);
        Arrays.fill(k, (byte) 0);
        k = next;
        keyEpoch++;
      }
      key = k;
      return k;
    }

    @Nullable String signatureProblem(LogLines.Entry x, Frame f) {
      AuditRecord.Builder rec = AuditRecord.newBuilder();
      try {
        JsonFormat.parser().merge(new String(x.bytes, UTF_8), rec);
      } catch (InvalidProtocolBufferException e) {
        return "checkpoint unreadable";
      }
      Checkpoint cp = rec.getCheckpoint();
      if (!cp.getKeyId().equals(keyId)) {
        return "the checkpoint was signed by another key (key id mismatch)";
      }
      byte[] canonical =
          Checkpoints.canonical(
              f.seq,
              f.epoch,
              f.prev,
              cp.getReason().name(),
              cp.getTime(),
              cp.getTruncatedBytes(),
              cp.getKeyId());
      if (!Checkpoints.verify(publicKey, canonical, cp.getSignature())) {
        return "the checkpoint's Ed25519 signature does not verify";
      }
      return null;
    }
  }

  /** Configures an {@link AuditVerifier}. Not thread-safe. */
  public static final class Builder {
    private final PublicKey publicKey;
    private byte @Nullable [] chainKey;
    private final Map<Long, String> anchors = new HashMap<>();
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
      return this;
    }

    /** Fails a log that does not end with a CLOSE checkpoint. Default false. */
    public Builder requireClosed(boolean require) {
      this.requireClosed = require;
      return this;
    }

    /**
     * Accepts a log whose oldest files were removed by retention: the first record present is taken
     * as the start. Default false (the log must start at its genesis record).
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
