package dev.hipaagrpc.auth.authn;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A bounded map from a SHA-256 hash of a token's signing input ({@code header.payload}, which
 * canonical base64url makes the one spelling of its bytes) to its verification result, so a
 * repeated token skips parsing and signature verification. The entry keeps the canonical signature,
 * and a hit counts only when the presented signature is that one in an accepted form (so a high-S
 * ECDSA re-encoding hits the same entry, and a forged signature does not). Holds hashes and
 * signatures, never signing inputs or tokens. Callers re-check expiry, revocation, key trust and
 * certificate binding on every hit. Thread-safe.
 */
final class VerifiedTokenCache {

  /** A token hash with a precomputed hash code. */
  static final class Key {
    final byte[] hash;
    private final int hashCode;

    Key(byte[] hash) {
      this.hash = hash;
      this.hashCode = Arrays.hashCode(hash);
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Key other && Arrays.equals(hash, other.hash);
    }

    @Override
    public int hashCode() {
      return hashCode;
    }
  }

  private static final MessageDigest SHA256_PROTOTYPE;

  static {
    try {
      SHA256_PROTOTYPE = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final int maxEntries;
  private final ConcurrentHashMap<Key, JwtVerified> map;

  VerifiedTokenCache(int maxEntries) {
    this.maxEntries = maxEntries;
    this.map = new ConcurrentHashMap<>(Math.min(maxEntries, 1024));
  }

  /** The key of {@code token[0, end)}, its signing input. */
  static Key keyOf(String token, int end) {
    MessageDigest md;
    try {
      md = (MessageDigest) SHA256_PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    int n = end;
    byte[] bytes = new byte[n];
    for (int i = 0; i < n; i++) {
      bytes[i] = (byte) token.charAt(i); // the caller checked the token is ASCII
    }
    return new Key(md.digest(bytes));
  }

  @Nullable JwtVerified get(Key key) {
    return maxEntries == 0 ? null : map.get(key);
  }

  void remove(Key key) {
    map.remove(key);
  }

  void put(Key key, JwtVerified value, long nowMillis) {
    if (maxEntries == 0) {
      return;
    }
    if (map.size() >= maxEntries) {
      map.values().removeIf(v -> v.expiresAtMillis + v.skewMillis < nowMillis);
      // Still full: drop an arbitrary eighth. Cheap, bounded, and a dropped entry costs only one
      // more signature verification.
      int toDrop = map.size() - maxEntries + Math.max(1, maxEntries / 8);
      Iterator<Key> it = map.keySet().iterator();
      while (toDrop-- > 0 && it.hasNext()) {
        it.next();
        it.remove();
      }
    }
    map.put(key, value);
  }

  int size() {
    return map.size();
  }
}
