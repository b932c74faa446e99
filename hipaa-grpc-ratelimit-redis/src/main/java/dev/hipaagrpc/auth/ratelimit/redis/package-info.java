/**
 * One rate limit across replicas: {@link dev.hipaagrpc.auth.ratelimit.redis.RedisRateLimitStore},
 * the {@link dev.hipaagrpc.auth.ratelimit.AsyncRateLimitStore} of hipaa-grpc-auth's rate limiter on
 * Redis (Lettuce).
 */
@NullMarked
package dev.hipaagrpc.auth.ratelimit.redis;

import org.jspecify.annotations.NullMarked;
