package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The forwarder's persisted position: the last line the broker acknowledged, one line of text
 * {@code hipaagrpc-audit-shipping/1 <origin> <file> <seq> <end offset> <line length> <sha256 hex>},
 * replaced atomically (temporary file, fsync, rename, directory fsync). Immutable.
 */
final class ShippingPosition {

  private static final String MAGIC = "hipaagrpc-audit-shipping/1";
  private static final Pattern LINE =
      Pattern.compile(
          MAGIC
              + " (\\S+) (audit-[0-9]{20}\\.jsonl) (0|[1-9][0-9]{0,18}) ([1-9][0-9]{0,18})"
              + " ([1-9][0-9]{0,9}) ([0-9a-f]{64})\n?");

  final String origin;
  final String file;
  final long seq;

  /** The byte offset just after the shipped line's newline. */
  final long end;

  final int length;
  final String sha256;

  ShippingPosition(String origin, String file, long seq, long end, int length, String sha256) {
    this.origin = origin;
    this.file = file;
    this.seq = seq;
    this.end = end;
    this.length = length;
    this.sha256 = sha256;
  }

  /**
   * Reads the position, or returns null if the file does not exist.
   *
   * @throws IllegalStateException if the file is not a position file
   */
  static @Nullable ShippingPosition read(Path p) throws IOException {
    String s;
    try {
      s = Files.readString(p, US_ASCII);
    } catch (NoSuchFileException e) {
      return null;
    }
    Matcher m = LINE.matcher(s);
    if (!m.matches()) {
      throw new IllegalStateException(
          "the shipping position file " + p + " is not one the forwarder wrote; refusing to guess");
    }
    try {
      return new ShippingPosition(
          m.group(1),
          m.group(2),
          Long.parseLong(m.group(3)),
          Long.parseLong(m.group(4)),
          Integer.parseInt(m.group(5)),
          m.group(6));
    } catch (NumberFormatException e) {
      throw new IllegalStateException("the shipping position file " + p + " is damaged", e);
    }
  }

  /** Replaces the file at {@code p} with this position, durably. */
  void write(Path p) throws IOException {
    String s =
        MAGIC + " " + origin + " " + file + " " + seq + " " + end + " " + length + " " + sha256
            + "\n";
    Path dir = p.toAbsolutePath().getParent();
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    try (FileChannel c =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(s.getBytes(US_ASCII));
      while (b.hasRemaining()) {
        c.write(b);
      }
      c.force(true);
    }
    try {
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
    }
    if (dir != null) {
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      } catch (IOException | RuntimeException e) {
        // Not every platform syncs a directory; the rename itself is atomic.
      }
    }
  }

  /**
   * Whether the log directory {@code logDir} still holds the line this position names, byte for
   * byte (its file, at its offset, with its hash): a position of another log, or of a log since
   * replaced, does not.
   */
  boolean heldBy(Path logDir) throws IOException {
    Path f = logDir.resolve(file);
    long start = end - length - 1;
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
      if (start < 0 || c.size() < end) {
        return false;
      }
      ByteBuffer b = ByteBuffer.allocate(length + 2);
      long from = start == 0 ? 0 : start - 1;
      b.limit((int) (end - from));
      while (b.hasRemaining()) {
        if (c.read(b, from + b.position()) < 0) {
          return false;
        }
      }
      byte[] a = b.array();
      int at = (int) (start - from);
      if ((start > 0 && a[0] != '\n') || a[at + length] != '\n') {
        return false;
      }
      return KafkaClients.sha256Hex(java.util.Arrays.copyOfRange(a, at, at + length))
          .equals(sha256);
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return file + " seq " + seq;
  }
}
