/**
 * Per-caller token-bucket rate limits by role and method group, decided before a request is read.
 * Entry point: {@link dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor}; {@link
 * dev.hipaagrpc.auth.ratelimit.RateLimitStore} is the SPI for buckets shared across replicas (the
 * default keeps them in memory).
 */
@NullMarked
package dev.hipaagrpc.auth.ratelimit;

import org.jspecify.annotations.NullMarked;
