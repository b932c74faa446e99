/**
 * Per-caller token-bucket rate limits by role and method group, decided before a request is read.
 * Entry point: {@link dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor}; {@link
 * dev.hipaagrpc.auth.ratelimit.RateLimitStore} is the blocking SPI for buckets (the default keeps
 * them in memory), {@link dev.hipaagrpc.auth.ratelimit.AsyncRateLimitStore} the asynchronous SPI
 * for a store that replicas share (Redis: module {@code hipaa-grpc-ratelimit-redis}), whose
 * failures go to each call's {@link
 * dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor.Priority}.
 */
@NullMarked
package dev.hipaagrpc.auth.ratelimit;

import org.jspecify.annotations.NullMarked;
