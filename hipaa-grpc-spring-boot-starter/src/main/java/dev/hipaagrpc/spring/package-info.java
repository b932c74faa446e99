/**
 * Spring Boot auto-configuration for hipaa-grpc: {@link
 * dev.hipaagrpc.spring.HipaaGrpcAutoConfiguration} wires the whole stack and its mutual TLS onto
 * Spring Boot's gRPC server from {@link dev.hipaagrpc.spring.HipaaGrpcProperties}.
 */
@NullMarked
package dev.hipaagrpc.spring;

import org.jspecify.annotations.NullMarked;
