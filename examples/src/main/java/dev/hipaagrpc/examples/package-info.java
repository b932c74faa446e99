/**
 * The patient-records example: a service wired with every hipaa-grpc safeguard, a demo that calls
 * it as several kinds of caller, and a standalone server for any gRPC client.
 */
@NullMarked
package dev.hipaagrpc.examples;

import org.jspecify.annotations.NullMarked;
