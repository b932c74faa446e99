package dev.hipaagrpc.auth.ratelimit;

/**
 * Where token buckets live, answered on the calling thread. The default, {@link #inMemory(int)},
 * keeps them in this JVM. A store that replicas share over a network implements {@link
 * AsyncRateLimitStore} instead, so that no call thread waits for it.
 *
 * <p>Implementations must be thread-safe. When {@code tryAcquire} throws, the call's {@linkplain
 * RateLimitServerInterceptor.Priority priority class} applies (by default a local bucket decides).
 */
public interface RateLimitStore {

  /**
   * Takes one permit from the bucket named {@code key}, creating it full when absent.
   *
   * @param key identifies the caller and the method group; contains the caller's issuer and
   *     subject, so a shared store should be access-controlled like other identity data
   * @param burst the bucket's capacity (at least 1)
   * @param permitsPerSecond the refill rate (greater than 0)
   * @param nowMillis the current time, from the interceptor's clock
   * @return {@code 0} when the permit was granted; otherwise how many milliseconds until the next
   *     permit (at least 1)
   */
  long tryAcquire(String key, long burst, double permitsPerSecond, long nowMillis);

  /**
   * Returns a store in this JVM's memory that holds at most {@code maxBuckets} buckets: buckets
   * that have refilled completely are dropped as soon as they are seen idle, and when the table is
   * full of busy buckets the least recently used one is dropped (its caller starts again with a
   * full bucket), so memory stays bounded whatever the number of distinct callers.
   *
   * @throws IllegalArgumentException if {@code maxBuckets < 16}
   */
  static RateLimitStore inMemory(int maxBuckets) {
    return new TokenBuckets(maxBuckets);
  }
}
