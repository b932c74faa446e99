/**
 * Audit controls (45 CFR 164.312(b)) and integrity (164.312(c)): a structured event for every call,
 * delivered under an explicit policy that never drops silently, to a hash-chained, forward-secure,
 * signed log that a verifier can check.
 */
@NullMarked
package dev.hipaagrpc.audit;

import org.jspecify.annotations.NullMarked;
