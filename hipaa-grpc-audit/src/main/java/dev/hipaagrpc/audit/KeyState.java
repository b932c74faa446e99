package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;

/**
 * The writer's forward-secure chain key: the current epoch and K<sub>epoch</sub>, kept in the key
 * state file ({@code hipaagrpc-audit-chain-key/1 <epoch> <hex key>}, owner-only, replaced
 * atomically). {@link #evolve} persists K<sub>epoch+1</sub> before erasing K<sub>epoch</sub>, so a
 * crash between the two leaves the file holding a key the log can still be continued with. Not
 * thread-safe: only the sink's writer thread uses it.
 */
final class KeyState {

  private static final String HEADER = "hipaagrpc-audit-chain-key/1";

  /** What the key state file holds. */
  static final class Stored {
    final long epoch;
    final byte[] key;

    Stored(long epoch, byte[] key) {
      this.epoch = epoch;
      this.key = key;
    }
  }

  private final Path file;
  private long epoch;
  private byte[] key = new byte[32];
  private Mac mac = Crypto.hmac(key);

  KeyState(Path file) {
    this.file = file;
  }

  long epoch() {
    return epoch;
  }

  /** The HMAC under the current key; reused record after record. */
  Mac mac() {
    return mac;
  }

  /** Takes {@code newKey} (not copied) as the key of {@code newEpoch}, erasing the previous one. */
  void set(long newEpoch, byte[] newKey) {
    Arrays.fill(key, (byte) 0);
    key = newKey;
    epoch = newEpoch;
    mac = Crypto.hmac(key);
  }

  /** K_{i+1} = H(K_i): persist the new key first, then forget the old one. */
  void evolve() throws IOException {
    byte[] next = Crypto.evolve(key);
    write(epoch + 1, next);
    set(epoch + 1, next);
  }

  /** Erases the key from memory (the file keeps it). */
  void erase() {
    Arrays.fill(key, (byte) 0);
  }

  /** Reads the key state file, or returns null if there is none. */
  @Nullable Stored read() throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    String[] parts = new String(Files.readAllBytes(file), UTF_8).trim().split(" ", -1);
    if (parts.length != 3 || !parts[0].equals(HEADER)) {
      throw new IllegalStateException("audit key state file is not in the expected format");
    }
    try {
      byte[] k = Crypto.HEX.parseHex(parts[2]);
      if (k.length != 32) {
        throw new IllegalStateException("audit key state file holds a key of the wrong length");
      }
      return new Stored(Long.parseLong(parts[1]), k);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("audit key state file is not in the expected format", e);
    }
  }

  /** Replaces the key state file atomically with {@code newEpoch} and {@code newKey}. */
  void write(long newEpoch, byte[] newKey) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    AuditKeys.createOwnerOnly(tmp);
    byte[] content =
        (HEADER + " " + newEpoch + " " + Crypto.HEX.formatHex(newKey) + "\n").getBytes(UTF_8);
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        c.write(buf);
      }
      c.force(true);
    } finally {
      Arrays.fill(content, (byte) 0);
    }
    LogFiles.replace(tmp, file);
    LogFiles.syncDirectory(file.toAbsolutePath().getParent());
  }
}
