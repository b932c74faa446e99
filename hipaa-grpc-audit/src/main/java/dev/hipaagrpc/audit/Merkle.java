package dev.hipaagrpc.audit;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * RFC 6962 (section 2) Merkle tree hashing over SHA-256, and the inclusion and consistency proof
 * algorithms of RFC 9162 section 2.1.3–2.1.4 (the same proofs as RFC 6962 section 2.1.1–2.1.2).
 * Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right). Stateless.
 */
final class Merkle {

  /** Gives the RFC 6962 Merkle tree hash of leaves {@code [from, to)}. */
  interface Hashes {
    byte[] mth(long from, long to);
  }

  private Merkle() {}

  static byte[] leafHash(byte[] data, int off, int len) {
    MessageDigest md = Crypto.sha256();
    md.update((byte) 0);
    md.update(data, off, len);
    return md.digest();
  }

  static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest md = Crypto.sha256();
    md.update((byte) 1);
    md.update(left);
    md.update(right);
    return md.digest();
  }

  /** The root of an empty tree: SHA-256 of nothing. */
  static byte[] emptyRoot() {
    return Crypto.sha256().digest();
  }

  /** The largest power of two smaller than {@code n} (n > 1). */
  static long split(long n) {
    return Long.highestOneBit(n - 1);
  }

  /** MTH over leaf hashes held in memory (tests and small ranges). */
  static byte[] mth(List<byte[]> leafHashes, int from, int to) {
    int n = to - from;
    if (n == 0) {
      return emptyRoot();
    }
    if (n == 1) {
      return leafHashes.get(from);
    }
    int k = (int) split(n);
    return nodeHash(mth(leafHashes, from, from + k), mth(leafHashes, from + k, to));
  }

  /** PATH(m, D[0:n]) of RFC 6962 2.1.1: the inclusion proof of leaf m in the tree of size n. */
  static List<byte[]> inclusionProof(long m, long n, Hashes h) {
    if (m < 0 || m >= n) {
      throw new IllegalArgumentException("leaf index out of range");
    }
    List<byte[]> out = new ArrayList<>();
    path(m, 0, n, h, out);
    return out;
  }

  private static void path(long m, long from, long to, Hashes h, List<byte[]> out) {
    long n = to - from;
    if (n == 1) {
      return;
    }
    long k = split(n);
    if (m < k) {
      path(m, from, from + k, h, out);
      out.add(h.mth(from + k, to));
    } else {
      path(m - k, from + k, to, h, out);
      out.add(h.mth(from, from + k));
    }
  }

  /** PROOF(m, D[0:n]) of RFC 6962 2.1.2: the consistency proof from size m to size n. */
  static List<byte[]> consistencyProof(long m, long n, Hashes h) {
    if (m < 1 || m > n) {
      throw new IllegalArgumentException("tree sizes out of range");
    }
    List<byte[]> out = new ArrayList<>();
    if (m < n) {
      subproof(m, 0, n, true, h, out);
    }
    return out;
  }

  private static void subproof(long m, long from, long to, boolean b, Hashes h, List<byte[]> out) {
    long n = to - from;
    if (m == n) {
      if (!b) {
        out.add(h.mth(from, to));
      }
      return;
    }
    long k = split(n);
    if (m <= k) {
      subproof(m, from, from + k, b, h, out);
      out.add(h.mth(from + k, to));
    } else {
      subproof(m - k, from + k, to, false, h, out);
      out.add(h.mth(from, from + k));
    }
  }

  /**
   * Verifies an inclusion proof (RFC 9162 2.1.3.2): whether {@code leafHash} at {@code index} is in
   * the tree of {@code size} with {@code root}.
   */
  static boolean verifyInclusion(
      long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
    if (index < 0 || index >= size) {
      return false;
    }
    long fn = index;
    long sn = size - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = nodeHash(p, r);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>= 1;
            sn >>= 1;
          }
        }
      } else {
        r = nodeHash(r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(r, root);
  }

  /**
   * Verifies a consistency proof (RFC 9162 2.1.4.2) between the tree of {@code size1} with {@code
   * root1} and the tree of {@code size2} with {@code root2}.
   */
  static boolean verifyConsistency(
      long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof) {
    if (size1 < 1 || size1 > size2) {
      return false;
    }
    if (size1 == size2) {
      return proof.isEmpty() && MessageDigest.isEqual(root1, root2);
    }
    if (proof.isEmpty()) {
      return false;
    }
    List<byte[]> path = new ArrayList<>(proof);
    if (Long.bitCount(size1) == 1) {
      path.add(0, root1);
    }
    long fn = size1 - 1;
    long sn = size2 - 1;
    while ((fn & 1) == 1) {
      fn >>= 1;
      sn >>= 1;
    }
    byte[] fr = path.get(0);
    byte[] sr = path.get(0);
    for (int i = 1; i < path.size(); i++) {
      byte[] c = path.get(i);
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>= 1;
            sn >>= 1;
          }
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(fr, root1) && MessageDigest.isEqual(sr, root2);
  }

  /** A copy of 32 bytes at {@code off}. */
  static byte[] hashAt(byte[] buf, int off) {
    return Arrays.copyOfRange(buf, off, off + 32);
  }
}
