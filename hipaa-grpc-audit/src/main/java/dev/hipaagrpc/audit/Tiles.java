package dev.hipaagrpc.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The Merkle tree's tiles as c2sp.org/tlog-tiles lays them out, under {@code <log dir>/tile/}: a
 * tile at level L with index N is {@code tile/<L>/<N>} when full (256 hashes, 8192 bytes) and
 * {@code tile/<L>/<N>.p/<W>} when partial (W hashes), N written in 3-digit groups, all but the last
 * prefixed with {@code x}. Level-0 hashes are leaf hashes; a level L+1 hash is the Merkle tree hash
 * of a full tile at level L. Stateless apart from the directory.
 */
final class Tiles {

  static final int WIDTH = 256;
  static final int HASH = 32;

  private final Path dir;

  Tiles(Path logDir) {
    this.dir = logDir;
  }

  /** The path of tile {@code index} at {@code level}; width 256 is the full tile. */
  Path path(int level, long index, int width) {
    StringBuilder n = new StringBuilder();
    String digits = Long.toString(index);
    int pad = (3 - digits.length() % 3) % 3;
    digits = "0".repeat(pad) + digits;
    for (int i = 0; i < digits.length(); i += 3) {
      if (i + 3 < digits.length()) {
        n.append('x').append(digits, i, i + 3).append('/');
      } else {
        n.append(digits, i, i + 3);
      }
    }
    String rel = "tile/" + level + "/" + n + (width == WIDTH ? "" : ".p/" + width);
    return dir.resolve(rel);
  }

  /**
   * Writes a tile (atomically: a reader sees the whole tile or none). Not synced: derived data. A
   * full tile replaces the tile's partial ones: they are deleted once it is written, since each is
   * a prefix of it ({@link #read} then serves their widths from the full tile), so the directory
   * holds at most one partial tile set per level however many checkpoints were signed.
   */
  void write(int level, long index, byte[] hashes, int off, int width) throws IOException {
    Path p = path(level, index, width);
    Files.createDirectories(p.getParent());
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    try (var out = Files.newOutputStream(tmp)) {
      out.write(hashes, off, width * HASH);
    }
    LogFiles.replace(tmp, p);
    if (width == WIDTH) {
      deletePartials(p.resolveSibling(p.getFileName() + ".p"));
    }
  }

  /** Best effort: a partial tile left behind is only disk space, never a wrong answer. */
  private static void deletePartials(Path partials) {
    if (!Files.isDirectory(partials)) {
      return;
    }
    try (var widths = Files.newDirectoryStream(partials)) {
      for (Path w : widths) {
        Files.deleteIfExists(w);
      }
      Files.deleteIfExists(partials);
    } catch (IOException e) {
      // Left for the next full tile's write or an operator; readers prefer the full tile anyway.
    }
  }

  /**
   * Reads the first {@code width} hashes of tile {@code index} at {@code level}: the partial tile
   * of that width, or the full tile if the partial one is gone. Null if neither is there whole.
   */
  byte @Nullable [] read(int level, long index, int width) throws IOException {
    Path partial = path(level, index, width);
    if (width < WIDTH && Files.isRegularFile(partial)) {
      byte[] b = Files.readAllBytes(partial);
      if (b.length == width * HASH) {
        return b;
      }
    }
    Path full = path(level, index, WIDTH);
    if (Files.isRegularFile(full)) {
      byte[] b = Files.readAllBytes(full);
      if (b.length == WIDTH * HASH) {
        return Arrays.copyOf(b, width * HASH);
      }
    }
    return null;
  }
}
