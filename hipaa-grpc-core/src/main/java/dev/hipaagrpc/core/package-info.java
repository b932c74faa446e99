/**
 * The shared vocabulary of hipaa-grpc: the caller's {@link dev.hipaagrpc.core.Principal}, the
 * per-call {@link dev.hipaagrpc.core.CallFacts} that inner interceptors publish to and the audit
 * layer reads, the peer's {@link dev.hipaagrpc.core.PeerIdentity}, the {@link
 * dev.hipaagrpc.core.Actions action} of an rpc, the {@link dev.hipaagrpc.core.KeyedIdentifier}
 * format, the correlation id, and the {@link dev.hipaagrpc.core.SecurityStack} that orders the
 * layers, with its {@link dev.hipaagrpc.core.PostureReport posture report}.
 *
 * <p>This module depends on {@code grpc-api}, {@code grpc-protobuf} (for the action option), {@code
 * slf4j-api} and {@code gson} (the posture report's JSON writer) only, so that every other module
 * can share these types without depending on one another.
 */
@NullMarked
package dev.hipaagrpc.core;

import org.jspecify.annotations.NullMarked;
