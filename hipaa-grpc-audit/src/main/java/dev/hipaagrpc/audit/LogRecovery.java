package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash recovery for the writer: finds where an existing log's valid records end, moves a torn tail
 * aside to {@code <file>.torn-<millis>} and truncates it. A torn tail can only hold records that
 * were never synced, so no acknowledged event is lost. The verifier, not recovery, judges records
 * of earlier epochs.
 */
final class LogRecovery {

  private static final Logger logger = LoggerFactory.getLogger(LogRecovery.class);

  /** Where the valid part of the newest file ends, and the last record in it. */
  static final class Tail {
    final Path file;
    long size;
    long validEnd;
    long records;
    long lastSeq = -1;
    String lastHash = Crypto.ZERO_HASH;
    long lastEpoch = -1;
    boolean lastCheckpoint;
    @Nullable String lastReason;

    /** Bytes of torn tail removed. */
    long truncated;

    /** Whether the scan stopped at a chained record of a later epoch than the key state's. */
    boolean aheadOfKeyState;

    Tail(Path file) {
      this.file = file;
    }
  }

  private LogRecovery() {}

  /**
   * Recovers the log in {@code files} (oldest first, not empty) whose writer held {@code key} in
   * {@code epoch}: drops files a crashed rotation left without a record, truncates a torn tail, and
   * returns the tail to continue from.
   *
   * @throws IllegalStateException if the first file holds no valid record
   */
  static Tail recover(List<Path> files, long epoch, byte[] key, Clock clock) throws IOException {
    Tail tail = null;
    for (int i = files.size() - 1; i >= 0; i--) {
      Path f = files.get(i);
      Tail t = scan(f, epoch, key);
      if (t.aheadOfKeyState) {
        throw new IllegalStateException(
            "the audit log holds records of a later key epoch than its key state file (epoch "
                + epoch
                + "): the key state was restored from an older copy; nothing was changed. Restore"
                + " the current key state, or keep this directory as evidence and start a new log"
                + " in a new directory");
      }
      if (t.records == 0 && i > 0) {
        // A file created by a rotation that crashed before its first record.
        if (t.size > 0) {
          moveAside(f, 0, t.size, clock);
        }
        Files.delete(f);
        continue;
      }
      tail = t;
      break;
    }
    Tail t = requireNonNull(tail);
    // The key state evolves only after a checkpoint is durable, so a genuine tail ends in the key
    // state's epoch, or with the checkpoint that closed the epoch before it.
    boolean current = t.lastEpoch == epoch || (t.lastCheckpoint && t.lastEpoch + 1 == epoch);
    if (t.records > 0 && !current) {
      throw new IllegalStateException(
          "the audit log's tail (last record seq "
              + t.lastSeq
              + ", key epoch "
              + t.lastEpoch
              + ") is behind its key state (epoch "
              + epoch
              + "): records after a checkpoint were removed, or the log was restored from an"
              + " older copy; nothing was changed. Run the verifier with the anchors or witness"
              + " policy, keep this directory as evidence and start a new log in a new directory");
    }
    t.truncated = t.size - t.validEnd;
    if (t.truncated > 0) {
      moveAside(t.file, t.validEnd, t.size, clock);
      try (FileChannel c = FileChannel.open(t.file, StandardOpenOption.WRITE)) {
        c.truncate(t.validEnd);
        c.force(true);
      }
      logger.warn("audit log recovered: removed a torn tail of {} bytes", t.truncated);
    }
    if (t.records == 0) {
      throw new IllegalStateException(
          "the first audit log file holds no valid record; run the verifier and investigate");
    }
    return t;
  }

  private static final java.util.regex.Pattern KEY_ID =
      java.util.regex.Pattern.compile("\"keyId\":\"([0-9a-f]{64})\"");

  /**
   * The key id of the newest checkpoint in the log (the newest file's, or the previous file's
   * ROTATE seal), or null if none is found.
   */
  static @Nullable String lastKeyId(List<Path> files) throws IOException {
    for (int i = files.size() - 1; i >= 0; i--) {
      String found = null;
      try (InputStream in = Files.newInputStream(files.get(i))) {
        LineReader r = new LineReader(in);
        byte @Nullable [] line;
        while ((line = r.next()) != null) {
          if (!r.terminated()) {
            break;
          }
          Frame f = Frame.parse(line);
          if (f != null && f.checkpoint) {
            java.util.regex.Matcher m =
                KEY_ID.matcher(new String(line, java.nio.charset.StandardCharsets.UTF_8));
            if (m.find()) {
              found = m.group(1);
            }
          }
        }
      }
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static void moveAside(Path file, long from, long to, Clock clock) throws IOException {
    Path aside = file.resolveSibling(file.getFileName() + ".torn-" + clock.millis());
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ);
        FileChannel out =
            FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long pos = from;
      while (pos < to) {
        pos += in.transferTo(pos, to - pos, out);
      }
      out.force(true);
    }
  }

  /**
   * Finds the longest valid prefix of a file: framed lines, consecutive sequence numbers, linked
   * hashes, non-decreasing epochs, and a valid HMAC for records of the current epoch (the only key
   * the writer still has).
   */
  private static Tail scan(Path file, long epoch, byte[] key) throws IOException {
    Tail s = new Tail(file);
    s.size = Files.size(file);
    long firstSeq = LogFiles.firstSeq(file);
    Mac stateMac = Crypto.hmac(key);
    try (InputStream in = Files.newInputStream(file)) {
      LineReader r = new LineReader(in);
      byte @Nullable [] line;
      while ((line = r.next()) != null) {
        if (!r.terminated()) {
          break;
        }
        Frame f = Frame.parse(line);
        if (f == null) {
          break;
        }
        if (s.records == 0) {
          if (f.seq != firstSeq) {
            break;
          }
        } else {
          if (f.seq != s.lastSeq + 1 || !f.prev.equals(s.lastHash)) {
            break;
          }
          long expected = s.lastCheckpoint ? s.lastEpoch + 1 : s.lastEpoch;
          if (f.epoch != expected) {
            break;
          }
        }
        if (f.epoch > epoch) {
          s.aheadOfKeyState = true;
          break;
        }
        if (f.epoch == epoch) {
          stateMac.update(line, 0, f.bodyLength);
          String tag = Crypto.HEX.formatHex(stateMac.doFinal());
          if (!Crypto.hexEquals(tag, f.mac)) {
            break;
          }
        }
        s.records++;
        s.lastSeq = f.seq;
        s.lastHash = Crypto.sha256Hex(line, 0, line.length);
        s.lastEpoch = f.epoch;
        s.lastCheckpoint = f.checkpoint;
        s.lastReason = f.reason;
        s.validEnd = r.offset();
      }
    }
    return s;
  }
}
