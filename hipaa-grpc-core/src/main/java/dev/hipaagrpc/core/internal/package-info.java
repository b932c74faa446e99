/**
 * Mechanics shared by hipaa-grpc's own modules: refusing a call, argument checks, periodic reload
 * with last-good state.
 *
 * <p>Not API: these types are public only so that the other hipaa-grpc modules can share one
 * implementation of each. They may change in any release; do not use them from application code.
 */
@NullMarked
package dev.hipaagrpc.core.internal;

import org.jspecify.annotations.NullMarked;
