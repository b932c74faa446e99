package dev.hipaagrpc.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Merkle tree's tiles as c2sp.org/tlog-tiles lays them out, under {@code <log dir>/tile/}: a
 * tile at level L with index N is {@code tile/<L>/<N>} when full (256 hashes, 8192 bytes) and
 * {@code tile/<L>/<N>.p/<W>} when partial (W hashes), N written in 3-digit groups, all but the last
 * prefixed with {@code x}. Level-0 hashes are leaf hashes; a level L+1 hash is the Merkle tree hash
 * of a full tile at level L. Not thread-safe for writing (the sink's writer thread writes); reads
 * from other threads see whole tiles.
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

  /** The partial tile directories of full tiles written since the last checkpoint. */
  private List<Path> retiring = new ArrayList<>();

  /** Those of the checkpoint before: deleted at this one. */
  private List<Path> retired = new ArrayList<>();

  /**
   * Writes a tile (atomically: a reader sees the whole tile or none). Not synced: derived data. A
   * full tile replaces the tile's partial ones, each a prefix of it ({@link #read} serves their
   * widths from the full tile), but they are deleted only at the checkpoint after the one that
   * wrote it ({@link #checkpointed}): until then the checkpoint before keeps the partial tiles it
   * was signed with, so a crash that tears off the last checkpoint still restores the one before
   * from tiles written a checkpoint earlier, whatever became of the full tile's unsynced data. The
   * directory thus holds the partial tiles of at most a few checkpoints, however many were signed.
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
      retiring.add(p.resolveSibling(p.getFileName() + ".p"));
    }
  }

  /**
   * Called once per checkpoint, after its tiles are written: deletes the partial tiles that full
   * tiles written at the checkpoint before replaced. Partial tiles replaced before this instance
   * was created stay (disk space only, never a wrong answer).
   */
  void checkpointed() {
    for (Path partials : retired) {
      deletePartials(partials);
    }
    retired = retiring;
    retiring = new ArrayList<>();
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
      // Left behind; readers prefer the partial tile and fall back to the full one anyway.
    }
  }

  /**
   * Reads the first {@code width} hashes of tile {@code index} at {@code level}: the partial tile
   * of that width, or the full tile if the partial one is gone. Null if neither is there whole.
   */
  byte @Nullable [] read(int level, long index, int width) throws IOException {
    if (width < WIDTH) {
      byte[] b = readIfPresent(path(level, index, width));
      if (b != null && b.length == width * HASH) {
        return b;
      }
    }
    // The full tile, also when the writer deleted the partial one since (its prefix is the same).
    byte[] b = readIfPresent(path(level, index, WIDTH));
    if (b != null && b.length == WIDTH * HASH) {
      return Arrays.copyOf(b, width * HASH);
    }
    return null;
  }

  private static byte @Nullable [] readIfPresent(Path p) throws IOException {
    try {
      return Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
