/**
 * Minimum necessary (45 CFR 164.502(b)) and encryption of identifiers (164.312(a)(2)(iv)): {@code
 * .proto} sensitivity options, role-based response masking, safe printing, a status sanitizer, and
 * tokenization.
 */
@NullMarked
package dev.hipaagrpc.masking;

import org.jspecify.annotations.NullMarked;
