package dev.hipaagrpc.auth.ratelimit;

import java.util.concurrent.CompletionStage;

/**
 * A rate-limit store answered asynchronously: the SPI for stores shared by replicas behind a load
 * balancer (Redis: module {@code hipaa-grpc-ratelimit-redis}), so that N replicas enforce one limit
 * instead of N.
 *
 * <p>The interceptor never blocks on a store: it asks before the request is read and continues the
 * call when the returned stage completes. When the stage fails, the {@linkplain
 * RateLimitServerInterceptor.Priority priority class} of the call decides what happens (a local
 * bucket, a refusal with {@code UNAVAILABLE}, or nothing, for classes that are never limited).
 *
 * <p>Implementations must be thread-safe, must not block the calling thread, and must complete
 * every stage within a short bound of their own (a command timeout): a stage that never completes
 * holds its call until the caller's deadline.
 */
public interface AsyncRateLimitStore {

  /**
   * Takes one permit from the bucket named {@code key}, creating it full when absent.
   *
   * @param key identifies the caller and the method group; it contains the caller's issuer and
   *     subject, so a store outside this JVM must keep only a keyed hash of it (the Redis store
   *     keeps {@link dev.hipaagrpc.core.KeyedIdentifier keyed identifiers})
   * @param burst the bucket's capacity (at least 1)
   * @param permitsPerSecond the refill rate (greater than 0)
   * @param nowMillis the interceptor's clock; a store with a clock of its own (Redis {@code TIME})
   *     ignores it, so that replicas' clocks do not matter
   * @return a stage that completes with {@code 0} when the permit was granted, otherwise with the
   *     milliseconds until the next permit (at least 1); or completes exceptionally when the store
   *     cannot decide (unreachable, timed out, overloaded)
   */
  CompletionStage<Long> acquire(String key, long burst, double permitsPerSecond, long nowMillis);
}
