/**
 * Audit shipping across replicas (45 CFR 164.312(b) audit controls, 164.312(c) integrity): {@link
 * dev.hipaagrpc.audit.kafka.KafkaAuditForwarder} publishes each replica's chained audit log, record
 * by record and unchanged, to a Kafka topic keyed by the log's origin, keeping its position only
 * after the broker acknowledged; {@link dev.hipaagrpc.audit.kafka.ShippedLogVerifier} (and {@link
 * dev.hipaagrpc.audit.kafka.KafkaAuditReceiver}, which feeds it from the topic) checks continuity,
 * the hash chain and the signed checkpoints per origin, centrally; {@link
 * dev.hipaagrpc.audit.kafka.ShippingRetentionGate} keeps the local retention from deleting a file
 * that was not shipped.
 */
@NullMarked
package dev.hipaagrpc.audit.kafka;

import org.jspecify.annotations.NullMarked;
