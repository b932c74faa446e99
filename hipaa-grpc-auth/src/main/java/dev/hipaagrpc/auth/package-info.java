/**
 * Person or entity authentication (45 CFR 164.312(d)) and access control (164.312(a)): bearer JWTs
 * verified against JWKS, mTLS peer identity, certificate-bound tokens, default-deny authorization
 * with SMART on FHIR scopes, patient and tenant scoping, break-glass, and rate limits.
 */
@NullMarked
package dev.hipaagrpc.auth;

import org.jspecify.annotations.NullMarked;
