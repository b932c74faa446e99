/**
 * The shared vocabulary of hipaa-grpc: the caller's {@link dev.hipaagrpc.core.Principal}, the
 * per-call {@link dev.hipaagrpc.core.CallFacts} that inner interceptors publish to and the audit
 * layer reads, the peer's {@link dev.hipaagrpc.core.PeerIdentity}, and the correlation id.
 *
 * <p>This module depends on {@code grpc-api} alone, so that every other module can share these
 * types without depending on one another.
 */
@NullMarked
package dev.hipaagrpc.core;

import org.jspecify.annotations.NullMarked;
