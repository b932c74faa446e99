/**
 * Transmission security (45 CFR 164.312(e)): TLS 1.3/1.2-only server and client credentials with
 * mutual authentication, certificate rotation without restart, revocation, an expiry monitor, a
 * plaintext guard, hardened server limits, and a development PKI for tests.
 */
@NullMarked
package dev.hipaagrpc.tls;

import org.jspecify.annotations.NullMarked;
