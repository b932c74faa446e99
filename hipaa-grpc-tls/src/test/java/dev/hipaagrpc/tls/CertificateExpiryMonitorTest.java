package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateExpiryMonitorTest {

  /** A clock the test moves by hand. */
  private static final class MutableClock extends Clock {
    private Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void check_clockCrossesThresholds_firesOncePerThreshold() {
    DevPki pki = DevPki.create();
    Instant issued = Instant.now();
    DevPki.Credential leaf =
        pki.newLeaf()
            .dnsName("localhost")
            .validity(issued.minus(Duration.ofDays(1)), issued.plus(Duration.ofDays(40)))
            .issue();
    IdentityMaterial identity = IdentityMaterial.of(leaf.privateKey(), List.of(leaf.certificate()));
    MutableClock clock = new MutableClock(issued);
    List<CertificateExpiryMonitor.CertificateStatus> fired = new ArrayList<>();
    CertificateExpiryMonitor monitor =
        CertificateExpiryMonitor.newBuilder()
            .watch(identity)
            .clock(clock)
            .listener(fired::add)
            .build();

    CertificateExpiryMonitor.Report r = monitor.check();
    assertThat(fired).isEmpty();
    assertThat(r.healthy()).isTrue();
    assertThat(r.soonest().daysLeft()).isEqualTo(39); // 40 days minus a few ms

    clock.advance(Duration.ofDays(11)); // 29 days left
    monitor.check();
    monitor.check(); // same threshold: no repeat
    assertThat(fired).extracting(s -> s.threshold()).containsExactly(Duration.ofDays(30));

    clock.advance(Duration.ofDays(23)); // 6 days left
    monitor.check();
    clock.advance(Duration.ofDays(5).plusHours(12)); // 12 hours left
    r = monitor.check();
    assertThat(r.healthy()).isFalse();
    clock.advance(Duration.ofDays(1)); // expired
    r = monitor.check();
    assertThat(fired)
        .extracting(s -> s.threshold())
        .containsExactly(
            Duration.ofDays(30), Duration.ofDays(7), Duration.ofDays(1), Duration.ZERO);
    assertThat(fired.get(3).isExpired()).isTrue();
    assertThat(fired.get(3).role()).isEqualTo("identity");
    assertThat(fired.get(3).sha256()).isEqualTo(Certs.sha256Hex(leaf.certificate()));
    assertThat(r.healthy()).isFalse();
  }

  @Test
  void check_firstSeenInsideSmallThreshold_firesOnlyTheSmallest() {
    DevPki pki = DevPki.create();
    Instant now = Instant.now();
    DevPki.Credential leaf =
        pki.newLeaf()
            .dnsName("localhost")
            .validity(now.minusSeconds(60), now.plus(Duration.ofDays(5)))
            .issue();
    List<CertificateExpiryMonitor.CertificateStatus> fired = new ArrayList<>();
    CertificateExpiryMonitor.newBuilder()
        .watch(IdentityMaterial.of(leaf.privateKey(), List.of(leaf.certificate())))
        .clock(new MutableClock(now))
        .listener(fired::add)
        .build()
        .check();
    assertThat(fired).extracting(s -> s.threshold()).containsExactly(Duration.ofDays(7));
  }

  @Test
  void check_trustMaterialWithCustomThresholds_reportsCas() {
    DevPki pki = DevPki.create();
    MutableClock clock = new MutableClock(Instant.now());
    List<CertificateExpiryMonitor.CertificateStatus> fired = new ArrayList<>();
    CertificateExpiryMonitor monitor =
        CertificateExpiryMonitor.newBuilder()
            .watch(TrustMaterial.of(List.of(pki.rootCertificate())))
            .thresholds(Duration.ofDays(90))
            .clock(clock)
            .listener(fired::add)
            .build();
    assertThat(monitor.check().certificates())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.role()).isEqualTo("trust");
              assertThat(s.threshold()).isNull();
            });
    clock.advance(Duration.ofDays(3650 - 80));
    monitor.check();
    assertThat(fired).extracting(s -> s.threshold()).containsExactly(Duration.ofDays(90));
  }

  @Test
  void build_nothingWatched_refused() {
    assertThatThrownBy(() -> CertificateExpiryMonitor.newBuilder().build())
        .isInstanceOf(IllegalStateException.class);
  }
}
