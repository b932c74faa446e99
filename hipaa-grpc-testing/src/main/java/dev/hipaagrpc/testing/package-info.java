/**
 * Test kits for services that use hipaa-grpc, kept out of every production jar: the development PKI
 * ({@link dev.hipaagrpc.testing.DevPki}), the PHI canary kit ({@link
 * dev.hipaagrpc.testing.PhiCanaries}), an in-memory audit sink ({@link
 * dev.hipaagrpc.testing.InMemoryAuditSink}), a string echo service ({@link
 * dev.hipaagrpc.testing.Echo}) and a real {@code redis-server} process ({@link
 * dev.hipaagrpc.testing.RedisServerProcess}).
 *
 * <p>Depend on {@code hipaa-grpc-testing} with {@code <scope>test</scope>}. The canary kit needs
 * {@code hipaa-grpc-masking} and the in-memory sink {@code hipaa-grpc-audit} on the test class
 * path; both are optional dependencies of this module.
 */
@NullMarked
package dev.hipaagrpc.testing;

import org.jspecify.annotations.NullMarked;
