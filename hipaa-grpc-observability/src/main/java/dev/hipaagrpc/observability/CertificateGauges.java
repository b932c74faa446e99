package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.tls.CertificateExpiryMonitor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;

/**
 * {@code hipaa.grpc.tls.certificate.days.left} gauges from a {@link CertificateExpiryMonitor}: the
 * fewest whole days left among the certificates of each role, tag {@code role} = {@code identity}
 * (what the server presents) or {@code trust} (the CAs it trusts); negative once one has expired.
 * Each read checks the monitor's current material, so rotation shows at the next scrape. Alert well
 * before zero (the monitor's own WARN thresholds are 30, 14, 7 and 1 days).
 */
public final class CertificateGauges {
  private CertificateGauges() {}

  /** Registers the gauges for {@code monitor} in {@code registry}. */
  public static void bind(MeterRegistry registry, CertificateExpiryMonitor monitor) {
    requireNonNull(registry, "registry");
    requireNonNull(monitor, "monitor");
    for (String role : List.of("identity", "trust")) {
      Gauge.builder("hipaa.grpc.tls.certificate.days.left", monitor, m -> fewestDays(m, role))
          .description("Fewest whole days left before a certificate of this role expires")
          .tag("role", role)
          .register(registry);
    }
  }

  private static double fewestDays(CertificateExpiryMonitor monitor, String role) {
    long fewest = Long.MAX_VALUE;
    for (CertificateExpiryMonitor.CertificateStatus s : monitor.check().certificates()) {
      if (s.role().equals(role)) {
        fewest = Math.min(fewest, s.daysLeft());
      }
    }
    return fewest == Long.MAX_VALUE ? Double.NaN : fewest;
  }
}
