package dev.hipaagrpc.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.CertificateExpiryMonitor;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.TrustMaterial;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The audit dispatcher's metrics and the certificate gauges, as Micrometer meters. */
class AuditAndCertificateMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void auditMetrics_recordWhatTheDispatcherReports() {
    MicrometerAuditMetrics m = MicrometerAuditMetrics.create(registry);
    m.queueDepth(17);
    m.batchWritten(40, TimeUnit.MILLISECONDS.toNanos(3));
    m.synced(40, TimeUnit.MILLISECONDS.toNanos(2));
    m.synced(10, TimeUnit.MILLISECONDS.toNanos(4));
    m.sinkFailed();
    m.eventsLost(5);
    m.callRefused();

    assertThat(registry.get("hipaa.grpc.audit.queue.depth").gauge().value()).isEqualTo(17);
    assertThat(registry.get("hipaa.grpc.audit.batch.events").summary().totalAmount()).isEqualTo(40);
    assertThat(registry.get("hipaa.grpc.audit.sync").timer().count()).isEqualTo(2);
    assertThat(registry.get("hipaa.grpc.audit.sync").timer().max(TimeUnit.MILLISECONDS))
        .isEqualTo(4);
    assertThat(registry.get("hipaa.grpc.audit.sink.failures").counter().count()).isEqualTo(1);
    assertThat(registry.get("hipaa.grpc.audit.events.lost").counter().count()).isEqualTo(5);
    assertThat(registry.get("hipaa.grpc.audit.calls.refused").counter().count()).isEqualTo(1);
  }

  @Test
  void shippingMetrics_lagAckAgeAndFailures_asMeters() {
    Instant t0 = Instant.parse("2026-05-01T00:00:00Z");
    Clock at10s = Clock.fixed(t0.plusSeconds(10), ZoneOffset.UTC);
    MicrometerShippingMetrics m = MicrometerShippingMetrics.create(registry, at10s);
    m.lag(42, 9000);
    m.acknowledged(30, t0.toEpochMilli());
    m.acknowledged(12, t0.toEpochMilli());
    m.sendFailed();

    assertThat(registry.get("hipaa.grpc.audit.shipping.lag.records").gauge().value()).isEqualTo(42);
    assertThat(registry.get("hipaa.grpc.audit.shipping.lag.bytes").gauge().value()).isEqualTo(9000);
    assertThat(registry.get("hipaa.grpc.audit.shipping.ack.age").gauge().value()).isEqualTo(10);
    assertThat(registry.get("hipaa.grpc.audit.shipping.records").counter().count()).isEqualTo(42);
    assertThat(registry.get("hipaa.grpc.audit.shipping.send.failures").counter().count())
        .isEqualTo(1);
    assertThat(registry.getMeters())
        .filteredOn(x -> x.getId().getName().startsWith("hipaa.grpc.audit.shipping"))
        .allSatisfy(x -> assertThat(x.getId().getTags()).isEmpty());
  }

  @Test
  void certificateGauges_fewestDaysLeftPerRole_followTheClock() {
    DevPki pki = DevPki.create();
    DevPki.Credential server = pki.server();
    Instant notAfter = server.certificate().getNotAfter().toInstant();
    IdentityMaterial identity = IdentityMaterial.of(server.privateKey(), server.chain());
    TrustMaterial trust = TrustMaterial.of(List.of(pki.rootCertificate()));
    Instant now = notAfter.minus(Duration.ofDays(12)).minusSeconds(60);
    CertificateExpiryMonitor monitor =
        CertificateExpiryMonitor.newBuilder()
            .watch(identity)
            .watch(trust)
            .clock(Clock.fixed(now, ZoneOffset.UTC))
            .build();

    CertificateGauges.bind(registry, monitor);

    assertThat(
            registry
                .get("hipaa.grpc.tls.certificate.days.left")
                .tag("role", "identity")
                .gauge()
                .value())
        .isEqualTo(12);
    assertThat(
            registry
                .get("hipaa.grpc.tls.certificate.days.left")
                .tag("role", "trust")
                .gauge()
                .value())
        .isGreaterThan(12);
  }
}
