/**
 * Metrics and tracing for the hipaa-grpc stack: {@link
 * dev.hipaagrpc.observability.MicrometerCallObserver} and {@link
 * dev.hipaagrpc.observability.OpenTelemetryCallObserver} observe every call ({@code
 * SecurityStack.Builder.observe}), {@link dev.hipaagrpc.observability.MicrometerAuditMetrics} binds
 * the audit dispatcher, {@link dev.hipaagrpc.observability.CertificateGauges} the certificate
 * expiry monitor. Tag and attribute values are bounded and never carry PHI.
 */
@NullMarked
package dev.hipaagrpc.observability;

import org.jspecify.annotations.NullMarked;
