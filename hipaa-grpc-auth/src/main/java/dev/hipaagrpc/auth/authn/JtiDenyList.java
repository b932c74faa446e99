package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory {@link RevocationList}: revoked token ids, each kept until its token would have
 * expired anyway.
 *
 * <p>Bounded: at most {@code maxEntries} (default 100,000) ids are held; expired ids are purged
 * when the list is full, and a revocation that would exceed the bound after purging throws {@link
 * IllegalStateException} rather than silently dropping an earlier revocation.
 *
 * <p>Thread-safe.
 */
public final class JtiDenyList implements RevocationList {

  private final Clock clock;
  private final int maxEntries;
  private final Map<String, Long> expiresAtByKey = new ConcurrentHashMap<>();

  private JtiDenyList(Clock clock, int maxEntries) {
    this.clock = clock;
    this.maxEntries = maxEntries;
  }

  /** Returns an empty list holding at most 100,000 ids, on the system clock. */
  public static JtiDenyList create() {
    return create(Clock.systemUTC(), 100_000);
  }

  /**
   * Returns an empty list.
   *
   * @param clock the clock that decides when a revoked id may be forgotten
   * @param maxEntries the most ids held at once; positive
   */
  public static JtiDenyList create(Clock clock, int maxEntries) {
    requireNonNull(clock, "clock");
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("maxEntries must be positive");
    }
    return new JtiDenyList(clock, maxEntries);
  }

  /**
   * Revokes the token {@code tokenId} of {@code issuer} until {@code tokenExpiresAt}.
   *
   * @throws IllegalStateException if the list is full of unexpired revocations
   */
  public void revoke(String issuer, String tokenId, Instant tokenExpiresAt) {
    String key = key(requireNonNull(issuer, "issuer"), requireNonNull(tokenId, "tokenId"));
    long until = requireNonNull(tokenExpiresAt, "tokenExpiresAt").toEpochMilli();
    if (expiresAtByKey.size() >= maxEntries && !expiresAtByKey.containsKey(key)) {
      long now = clock.millis();
      expiresAtByKey.values().removeIf(exp -> exp < now);
      if (expiresAtByKey.size() >= maxEntries) {
        throw new IllegalStateException("deny list is full; raise maxEntries");
      }
    }
    expiresAtByKey.merge(key, until, Math::max);
  }

  @Override
  public boolean isRevoked(String issuer, String tokenId) {
    return expiresAtByKey.containsKey(key(issuer, tokenId));
  }

  /** Returns how many ids are held (expired ones included until purged). */
  public int size() {
    return expiresAtByKey.size();
  }

  private static String key(String issuer, String tokenId) {
    return issuer.length() + ":" + issuer + tokenId;
  }
}
