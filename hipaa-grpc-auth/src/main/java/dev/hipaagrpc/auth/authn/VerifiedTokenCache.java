package dev.hipaagrpc.auth.authn;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Verified tokens, in two bounded levels, so a repeated token skips parsing and signature
 * verification.
 *
 * <p>The canonical level maps a SHA-256 hash of a token's signing input ({@code header.payload},
 * which canonical base64url makes the one spelling of its bytes) to its verification result. The
 * entry keeps the canonical signature, and a hit counts only when the presented signature is that
 * one in an accepted form (so a high-S ECDSA re-encoding hits the same entry, and a forged
 * signature does not).
 *
 * <p>In front of it, the exact level maps the {@code authorization} header value exactly as
 * presented (after it verified, directly or through the canonical level) to the same result, so the
 * common case, a client resending the same token, costs one string hash and one constant-time
 * comparison instead of a copy and a SHA-256 of the whole token. This level holds the header values
 * themselves, in memory only, each until it expires or is evicted: the process's heap is as
 * sensitive as its traffic. Callers re-check expiry, revocation, key trust and certificate binding
 * on every hit of either level. Thread-safe.
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

  /** A presented header value, compared in constant time for its length. */
  static final class Exact {
    private final String value;
    private final int hashCode;

    Exact(String value) {
      this.value = value;
      this.hashCode = value.hashCode();
    }

    @Override
    public boolean equals(@Nullable Object o) {
      if (!(o instanceof Exact other) || other.value.length() != value.length()) {
        return false;
      }
      // Constant time: a hash collision must not let a caller learn a cached token by timing.
      String a = value;
      String b = other.value;
      int diff = 0;
      for (int i = 0; i < a.length(); i++) {
        diff |= a.charAt(i) ^ b.charAt(i);
      }
      return diff == 0;
    }

    @Override
    public int hashCode() {
      return hashCode;
    }
  }

  /** An exact-level entry: the result, and the canonical key to drop with it. */
  static final class ExactEntry {
    final Key key;
    final JwtVerified verified;

    ExactEntry(Key key, JwtVerified verified) {
      this.key = key;
      this.verified = verified;
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
  private final ConcurrentHashMap<Exact, ExactEntry> exact;

  VerifiedTokenCache(int maxEntries) {
    this.maxEntries = maxEntries;
    this.map = new ConcurrentHashMap<>(Math.min(maxEntries, 1024));
    this.exact = new ConcurrentHashMap<>(Math.min(maxEntries, 1024));
  }

  /** The entry for {@code headerValue} exactly as presented, or null. */
  @Nullable ExactEntry getExact(String headerValue) {
    return maxEntries == 0 ? null : exact.get(new Exact(headerValue));
  }

  /** Remembers that {@code headerValue} verified as {@code value}, stored under {@code key}. */
  void putExact(String headerValue, Key key, JwtVerified value, long nowMillis) {
    if (maxEntries == 0) {
      return;
    }
    if (exact.size() >= maxEntries) {
      exact.values().removeIf(e -> expired(e.verified, nowMillis));
      dropEighth(exact);
    }
    exact.put(new Exact(headerValue), new ExactEntry(key, value));
  }

  /** Forgets {@code headerValue} and its canonical entry. */
  void removeExact(String headerValue, ExactEntry entry) {
    exact.remove(new Exact(headerValue), entry);
    map.remove(entry.key, entry.verified);
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

  /**
   * Forgets the canonical entry. Exact entries sharing its result stay until evicted: every hit
   * re-checks expiry and key trust, so they cannot outlive what the entry would have allowed.
   */
  void remove(Key key) {
    map.remove(key);
  }

  private static boolean expired(JwtVerified v, long nowMillis) {
    return v.expiresAtMillis + v.skewMillis < nowMillis;
  }

  /** When still full: drop an arbitrary eighth. Cheap, bounded, and costs one verification each. */
  private <K> void dropEighth(ConcurrentHashMap<K, ?> m) {
    int toDrop = m.size() - maxEntries + Math.max(1, maxEntries / 8);
    Iterator<K> it = m.keySet().iterator();
    while (toDrop-- > 0 && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  void put(Key key, JwtVerified value, long nowMillis) {
    if (maxEntries == 0) {
      return;
    }
    if (map.size() >= maxEntries) {
      map.values().removeIf(v -> expired(v, nowMillis));
      dropEighth(map);
    }
    map.put(key, value);
  }

  /** Canonical entries: one per token, whatever its spellings. */
  int size() {
    return map.size();
  }

  /** Exact entries: one per spelling presented. */
  int exactSize() {
    return exact.size();
  }
}
