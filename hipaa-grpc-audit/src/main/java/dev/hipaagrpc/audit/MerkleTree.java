package dev.hipaagrpc.audit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The growing RFC 6962 tree over the log's records (leaf i = the line of record seq i, without its
 * newline), kept as the right edge of its tlog-tiles: for each level, the hashes since the last
 * full tile. Leaves are appended as 32-byte hashes (copied, no allocation once the buffer has
 * grown); full tiles are folded into the level above, and written when a {@link Tiles} store is
 * given, only in {@link #fold}, which the sink calls at checkpoint time. Not thread-safe.
 */
final class MerkleTree {

  private static final int LEVELS = 8; // 256^8 leaves: more than a long counts

  private final @Nullable Tiles tiles;
  private final boolean writeTiles;
  private final byte[][] buf = new byte[LEVELS][];
  private final int[] count = new int[LEVELS];
  // The level index (in hashes of that level) of buf[l][0]: always a multiple of 256.
  private final long[] start = new long[LEVELS];
  private long size;

  /**
   * A tree that restores from {@code tiles} (if not null) and, if {@code writeTiles}, writes its
   * tiles there.
   */
  MerkleTree(@Nullable Tiles tiles, boolean writeTiles) {
    this.tiles = tiles;
    this.writeTiles = writeTiles && tiles != null;
    for (int l = 0; l < LEVELS; l++) {
      buf[l] = new byte[Tiles.WIDTH * Tiles.HASH];
    }
  }

  long size() {
    return size;
  }

  /** Appends {@code n} leaf hashes from {@code hashes} at {@code off}. */
  void add(byte[] hashes, int off, int n) {
    push(0, hashes, off, n);
    size += n;
  }

  private void push(int level, byte[] hashes, int off, int n) {
    int need = (count[level] + n) * Tiles.HASH;
    if (need > buf[level].length) {
      buf[level] = Arrays.copyOf(buf[level], Math.max(need, buf[level].length * 2));
    }
    System.arraycopy(hashes, off, buf[level], count[level] * Tiles.HASH, n * Tiles.HASH);
    count[level] += n;
  }

  /**
   * Folds every full tile into the level above, writing it first when there is a store (so that a
   * failed write leaves the state as it was, to be retried).
   */
  void fold() throws IOException {
    for (int l = 0; l < LEVELS - 1; l++) {
      while (count[l] >= Tiles.WIDTH) {
        Tiles t = tiles;
        if (writeTiles && t != null) {
          t.write(l, start[l] / Tiles.WIDTH, buf[l], 0, Tiles.WIDTH);
        }
        byte[] h = perfect(buf[l], 0, Tiles.WIDTH);
        int rest = count[l] - Tiles.WIDTH;
        System.arraycopy(buf[l], Tiles.WIDTH * Tiles.HASH, buf[l], 0, rest * Tiles.HASH);
        count[l] = rest;
        start[l] += Tiles.WIDTH;
        push(l + 1, h, 0, 1);
      }
    }
  }

  /** Writes the partial tile of every level that has one (the tiles this size needs). */
  void writePartials() throws IOException {
    Tiles t = tiles;
    if (!writeTiles || t == null) {
      return;
    }
    for (int l = 0; l < LEVELS; l++) {
      if (count[l] > 0 && count[l] < Tiles.WIDTH) {
        t.write(l, start[l] / Tiles.WIDTH, buf[l], 0, count[l]);
      }
    }
    t.checkpointed();
  }

  /** The root hash at the current size. Folds first. */
  byte[] root() throws IOException {
    fold();
    List<byte[]> frontier = new ArrayList<>();
    for (int l = LEVELS - 1; l >= 0; l--) {
      int pos = 0;
      for (int j = 7; j >= 0; j--) {
        if ((count[l] & (1 << j)) != 0) {
          frontier.add(perfect(buf[l], pos, 1 << j));
          pos += 1 << j;
        }
      }
    }
    if (frontier.isEmpty()) {
      return Merkle.emptyRoot();
    }
    byte[] h = frontier.get(frontier.size() - 1);
    for (int i = frontier.size() - 2; i >= 0; i--) {
      h = Merkle.nodeHash(frontier.get(i), h);
    }
    return h;
  }

  /** The hash of the perfect subtree over {@code n} (a power of two) hashes at {@code pos}. */
  private static byte[] perfect(byte[] b, int pos, int n) {
    if (n == 1) {
      return Merkle.hashAt(b, pos * Tiles.HASH);
    }
    return Merkle.nodeHash(perfect(b, pos, n / 2), perfect(b, pos + n / 2, n / 2));
  }

  /**
   * Restores the right edge of the tree of {@code treeSize} from the store's tiles. Returns false
   * (leaving the tree empty) if a tile it needs is missing or short.
   */
  boolean restore(long treeSize) throws IOException {
    Tiles t = tiles;
    if (t == null) {
      return false;
    }
    reset();
    for (int l = 0; l < LEVELS; l++) {
      long above = treeSize >>> (8 * (l + 1));
      int w = (int) ((treeSize >>> (8 * l)) & 0xff);
      start[l] = above * Tiles.WIDTH;
      if (w > 0) {
        byte[] b = t.read(l, above, w);
        if (b == null) {
          reset();
          return false;
        }
        push(l, b, 0, w);
      }
    }
    size = treeSize;
    return true;
  }

  void reset() {
    Arrays.fill(count, 0);
    Arrays.fill(start, 0);
    size = 0;
  }
}
