package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The frame of one audit log line as {@link ChainedFileSink} writes it ({@code audit-format.md}):
 * sequence number, key epoch and record kind, read without trusting the content (nothing here
 * checks the HMAC, the chain or a signature: {@link AuditVerifier} and {@link AuditChain} do). For
 * tools that move lines around, such as a forwarder that ships them, and need their place.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AuditLine {

  private final Frame frame;

  private AuditLine(Frame frame) {
    this.frame = frame;
  }

  /**
   * Parses the frame of {@code line} (the bytes without the newline), or returns null if it is not
   * framed as the sink frames records.
   */
  public static @Nullable AuditLine parse(byte[] line) {
    Frame f = Frame.parse(requireNonNull(line, "line"));
    return f == null ? null : new AuditLine(f);
  }

  /** The record's sequence number. */
  public long seq() {
    return frame.seq;
  }

  /**
   * The SHA-256 (lower-case hex) of the previous record's line, as the record claims it: the chain
   * link, not checked here.
   */
  public String prev() {
    return frame.prev;
  }

  /** The record's key epoch. */
  public long epoch() {
    return frame.epoch;
  }

  /** Whether the record is a checkpoint (otherwise an event). */
  public boolean isCheckpoint() {
    return frame.checkpoint;
  }

  /** The checkpoint reason ({@code GENESIS}, {@code ROTATE}, ...), or null for an event. */
  public @Nullable String reason() {
    return frame.reason;
  }

  /**
   * The origin a log has when none is configured: {@code hipaagrpc.dev/audit/} and the first 16 hex
   * digits of the SHA-256 of its genesis record line (without the newline).
   */
  public static String defaultOrigin(byte[] genesisLine) {
    requireNonNull(genesisLine, "genesisLine");
    return LogTree.defaultOrigin(Crypto.sha256Hex(genesisLine, 0, genesisLine.length));
  }

  /**
   * The record files ({@code audit-<20-digit first seq>.jsonl}) of a log directory, oldest first;
   * not the {@code .torn-*} evidence that crash recovery moves aside.
   *
   * @throws IOException if the directory cannot be listed
   */
  public static List<Path> logFiles(Path directory) throws IOException {
    return List.copyOf(LogFiles.list(requireNonNull(directory, "directory")));
  }

  /**
   * The sequence number of the first record of a record file, from its name, or -1 if the name is
   * not a record file's.
   */
  public static long firstSeq(Path file) {
    return LogFiles.firstSeq(requireNonNull(file, "file"));
  }

  /** The file name of the checkpoint note in a log directory ({@code checkpoint}). */
  public static final String CHECKPOINT_NOTE_FILE = LogTree.NOTE_FILE;

  /** The directory (under the log directory) of cosigned checkpoint notes ({@code cosigned}). */
  public static final String COSIGNED_DIRECTORY = WitnessClient.COSIGNED_DIR;

  @Override
  public String toString() {
    return "AuditLine{seq="
        + frame.seq
        + ", epoch="
        + frame.epoch
        + ", reason="
        + frame.reason
        + "}";
  }
}
