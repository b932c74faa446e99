package dev.hipaagrpc.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Merkle tree hashes of the tree of one size, read from the log's tiles: what inclusion and
 * consistency proofs need. A perfect, aligned subtree of 256<sup>l</sup>·2<sup>j</sup> leaves is
 * computed from 2<sup>j</sup> hashes of one level-l tile; any other range is split as RFC 6962
 * splits it. Not thread-safe; one instance per proof.
 */
final class TileHashes implements Merkle.Hashes {

  private final Tiles tiles;
  private final long treeSize;
  private final Map<String, byte[]> cache = new HashMap<>();

  TileHashes(Tiles tiles, long treeSize) {
    this.tiles = tiles;
    this.treeSize = treeSize;
  }

  /**
   * {@inheritDoc}
   *
   * @throws UncheckedIOException if a tile cannot be read
   * @throws IllegalStateException if a tile the tree of this size needs is missing
   */
  @Override
  public byte[] mth(long from, long to) {
    long n = to - from;
    if (n == 1 || (Long.bitCount(n) == 1 && from % n == 0)) {
      int bits = Long.numberOfTrailingZeros(n);
      int level = bits / 8;
      int j = bits % 8;
      long first = from >>> (8 * level);
      return perfect(level, first, 1 << j);
    }
    long k = Merkle.split(n);
    return Merkle.nodeHash(mth(from, from + k), mth(from + k, to));
  }

  /** The hash over {@code count} (a power of two) level hashes starting at {@code first}. */
  private byte[] perfect(int level, long first, int count) {
    if (count == 1) {
      return hash(level, first);
    }
    return Merkle.nodeHash(
        perfect(level, first, count / 2), perfect(level, first + count / 2, count / 2));
  }

  private byte[] hash(int level, long index) {
    long tile = index / Tiles.WIDTH;
    long fullTiles = treeSize >>> (8 * (level + 1));
    int width = tile < fullTiles ? Tiles.WIDTH : (int) ((treeSize >>> (8 * level)) & 0xff);
    String key = level + "/" + tile;
    byte[] b = cache.get(key);
    if (b == null) {
      try {
        b = tiles.read(level, tile, width);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (b == null) {
        throw new IllegalStateException(
            "tile " + level + "/" + tile + " of the tree of size " + treeSize + " is missing");
      }
      cache.put(key, b);
    }
    int at = (int) (index % Tiles.WIDTH);
    if (at >= b.length / Tiles.HASH) {
      throw new IllegalStateException("hash outside the tree of size " + treeSize);
    }
    return Merkle.hashAt(b, at * Tiles.HASH);
  }
}
