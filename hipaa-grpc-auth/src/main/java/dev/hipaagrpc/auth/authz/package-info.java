/**
 * Default-deny access control (45 CFR 164.312(a)): a versioned policy stated in code, in a policy
 * file ({@code hipaagrpc/auth/authz/policy.proto}, text or JSON) or in method options, SMART on
 * FHIR scopes checked against each rpc's {@code (hipaagrpc.core.action)}, purpose of use, patient
 * and tenant scoping, and break-glass emergency access. Entry points: {@link
 * dev.hipaagrpc.auth.authz.AuthorizationServerInterceptor} and {@link
 * dev.hipaagrpc.auth.authz.AuthorizationPolicy}.
 */
@NullMarked
package dev.hipaagrpc.auth.authz;

import org.jspecify.annotations.NullMarked;
