/**
 * The bridge from the caller hipaa-grpc authenticated to Spring Security, active when {@code
 * spring-security-core} is on the class path: {@link
 * dev.hipaagrpc.spring.security.SecurityContextBridge} and {@link
 * dev.hipaagrpc.spring.security.HipaaGrpcAuthentication}.
 */
@NullMarked
package dev.hipaagrpc.spring.security;

import org.jspecify.annotations.NullMarked;
