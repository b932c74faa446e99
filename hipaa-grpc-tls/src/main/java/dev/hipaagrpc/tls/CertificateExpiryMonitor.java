package dev.hipaagrpc.tls;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.PostureSource;
import dev.hipaagrpc.core.Safeguard;
import java.io.Closeable;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports how long the serving certificates and trusted CAs have left, and warns as each crosses a
 * threshold.
 *
 * <pre>{@code
 * CertificateExpiryMonitor monitor = CertificateExpiryMonitor.newBuilder()
 *     .watch(serverIdentity).watch(clientCas)
 *     .listener(status -> alerts.page(status))
 *     .build();
 * Closeable handle = monitor.checkEvery(Duration.ofHours(1), scheduler);
 * // in a health check:
 * boolean ok = monitor.check().healthy();
 * }</pre>
 *
 * <p>Every {@link #check()} reads the material's <em>current</em> certificates (so it follows
 * rotations), logs at WARN and calls the listener once per certificate and threshold crossed: a
 * certificate first seen with 5 days left fires once for the 7-day threshold, and again at 1 day
 * and at expiry. Defaults: thresholds 30, 7 and 1 days; the system UTC clock; no listener. Logs
 * name certificates by subject and a SHA-256 prefix: CA and service names, never people.
 *
 * <p>Thread-safe.
 */
public final class CertificateExpiryMonitor implements PostureSource {

  private static final Logger logger = LoggerFactory.getLogger(CertificateExpiryMonitor.class);

  /** Hears about certificates crossing a threshold. Called on the checking thread. */
  @FunctionalInterface
  public interface Listener {
    /** {@code status} has just crossed {@link CertificateStatus#threshold()}. */
    void onThresholdCrossed(CertificateStatus status);
  }

  private final List<IdentityMaterial> identities;
  private final List<TrustMaterial> trusts;
  private final List<Duration> thresholds; // descending
  private final Clock clock;
  private final @Nullable Listener listener;
  // certificate sha256 -> smallest threshold already reported (ZERO = expired)
  private final Map<String, Duration> reported = new HashMap<>();

  private CertificateExpiryMonitor(Builder b) {
    this.identities = List.copyOf(b.identities);
    this.trusts = List.copyOf(b.trusts);
    TreeSet<Duration> sorted = new TreeSet<>(Collections.reverseOrder());
    sorted.addAll(b.thresholds);
    this.thresholds = List.copyOf(sorted);
    this.clock = b.clock;
    this.listener = b.listener;
  }

  /** Returns a builder with the defaults above. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Checks every watched certificate now, warns about newly crossed thresholds, and returns the
   * report. Cheap enough for a health check (no I/O).
   */
  public synchronized Report check() {
    List<CertificateStatus> out = statuses(clock.instant());
    for (CertificateStatus s : out) {
      Duration crossed = s.threshold();
      if (crossed == null) {
        continue;
      }
      Duration before = reported.get(s.sha256());
      if (before != null && before.compareTo(crossed) <= 0) {
        continue;
      }
      reported.put(s.sha256(), crossed);
      logger.warn(
          "{} certificate {} ({}) {}",
          s.role(),
          s.subject(),
          s.sha256().substring(0, 16),
          s.isExpired() ? "HAS EXPIRED" : "expires in " + s.daysLeft() + " days");
      Listener l = listener;
      if (l != null) {
        try {
          l.onThresholdCrossed(s);
        } catch (RuntimeException e) {
          logger.warn("CertificateExpiryMonitor listener threw; ignored", e);
        }
      }
    }
    // Forget certificates no longer watched (rotated away), so the map stays small.
    java.util.Set<String> present = new java.util.HashSet<>();
    for (CertificateStatus s : out) {
      present.add(s.sha256());
    }
    reported.keySet().retainAll(present);
    Duration smallest =
        thresholds.isEmpty() ? Duration.ZERO : thresholds.get(thresholds.size() - 1);
    return new Report(out, smallest);
  }

  /**
   * Calls {@link #check()} now and then every {@code period} on {@code executor} until the returned
   * handle is closed.
   *
   * @throws IllegalArgumentException if the period is not positive
   */
  public Closeable checkEvery(Duration period, ScheduledExecutorService executor) {
    requireNonNull(period, "period");
    requireNonNull(executor, "executor");
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive");
    }
    ScheduledFuture<?> f =
        executor.scheduleWithFixedDelay(
            () -> {
              try {
                check();
              } catch (RuntimeException e) {
                logger.warn("Certificate expiry check failed; will retry", e);
              }
            },
            0,
            period.toNanos(),
            TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  private List<CertificateStatus> statuses(Instant now) {
    List<CertificateStatus> out = new ArrayList<>();
    for (IdentityMaterial id : identities) {
      for (X509Certificate c : id.certificateChain()) {
        out.add(status("identity", c, now));
      }
    }
    for (TrustMaterial t : trusts) {
      for (X509Certificate c : t.trustedCertificates()) {
        out.add(status("trust", c, now));
      }
    }
    return out;
  }

  /**
   * Every watched certificate as one {@code tls.certificates} item (164.312(e)(1)): role, subject,
   * SHA-256, not-after and days left; WARN once one has crossed a threshold, UNSAFE once one has
   * expired. Unlike {@link #check()} it neither logs nor tells the listener.
   */
  @Override
  public List<PostureItem> posture() {
    List<Object> certs = new ArrayList<>();
    PostureItem.Status worst = PostureItem.Status.OK;
    for (CertificateStatus s : statuses(clock.instant())) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("role", s.role());
      c.put("subject", s.subject());
      c.put("sha256", s.sha256());
      c.put("notAfter", s.notAfter());
      c.put("daysLeft", s.daysLeft());
      certs.add(c);
      if (s.isExpired()) {
        worst = PostureItem.Status.UNSAFE;
      } else if (s.threshold() != null && worst == PostureItem.Status.OK) {
        worst = PostureItem.Status.WARN;
      }
    }
    String note =
        switch (worst) {
          case UNSAFE -> "a watched certificate has expired";
          case WARN -> "a watched certificate expires within a warning threshold";
          case OK -> null;
        };
    return List.of(
        PostureItem.of("tls.certificates", Safeguard.TRANSMISSION_SECURITY, worst, certs, note));
  }

  private CertificateStatus status(String role, X509Certificate c, Instant now) {
    Instant notAfter = c.getNotAfter().toInstant();
    Duration left = Duration.between(now, notAfter);
    Duration threshold = null;
    if (left.isNegative() || left.isZero()) {
      threshold = Duration.ZERO;
    } else {
      for (Duration t : thresholds) {
        if (left.compareTo(t) <= 0) {
          threshold = t; // thresholds descend: the last match is the smallest crossed
        }
      }
    }
    return new CertificateStatus(
        role, c.getSubjectX500Principal().getName(), Certs.sha256Hex(c), notAfter, left, threshold);
  }

  /**
   * One certificate's standing at the time of a check.
   *
   * @param role {@code identity} (a certificate we present) or {@code trust} (a CA we trust)
   * @param subject the certificate's subject DN (RFC 2253)
   * @param sha256 the certificate's SHA-256 thumbprint, lowercase hex
   * @param notAfter the end of validity
   * @param timeLeft time until {@code notAfter}; negative once expired
   * @param threshold the smallest threshold crossed, {@link Duration#ZERO} if expired, or {@code
   *     null} if none
   */
  public record CertificateStatus(
      String role,
      String subject,
      String sha256,
      Instant notAfter,
      Duration timeLeft,
      @Nullable Duration threshold) {

    /** Whole days left, rounded down; negative once expired. */
    public long daysLeft() {
      return timeLeft.toDays();
    }

    /** Whether the certificate has expired. */
    public boolean isExpired() {
      return timeLeft.isNegative() || timeLeft.isZero();
    }
  }

  /**
   * The result of one {@link #check()}.
   *
   * <p>Immutable.
   */
  public static final class Report {
    private final List<CertificateStatus> certificates;
    private final Duration smallestThreshold;

    Report(List<CertificateStatus> certificates, Duration smallestThreshold) {
      this.certificates = List.copyOf(certificates);
      this.smallestThreshold = smallestThreshold;
    }

    /** Every watched certificate. */
    public List<CertificateStatus> certificates() {
      return certificates;
    }

    /** The certificate that expires first, or {@code null} when nothing is watched. */
    public @Nullable CertificateStatus soonest() {
      CertificateStatus min = null;
      for (CertificateStatus s : certificates) {
        if (min == null || s.timeLeft().compareTo(min.timeLeft()) < 0) {
          min = s;
        }
      }
      return min;
    }

    /**
     * Whether a health check should pass: no watched certificate has expired or has less time left
     * than the smallest threshold (1 day by default).
     */
    public boolean healthy() {
      for (CertificateStatus s : certificates) {
        if (s.isExpired() || s.timeLeft().compareTo(smallestThreshold) < 0) {
          return false;
        }
      }
      return true;
    }
  }

  /** Configures a {@link CertificateExpiryMonitor}. Not thread-safe. */
  public static final class Builder {
    private final List<IdentityMaterial> identities = new ArrayList<>();
    private final List<TrustMaterial> trusts = new ArrayList<>();
    private List<Duration> thresholds =
        List.of(Duration.ofDays(30), Duration.ofDays(7), Duration.ofDays(1));
    private Clock clock = Clock.systemUTC();
    private @Nullable Listener listener;

    private Builder() {}

    /** Watches an identity's whole chain (leaf and intermediates). */
    public Builder watch(IdentityMaterial identity) {
      identities.add(requireNonNull(identity, "identity"));
      return this;
    }

    /** Watches the CA certificates of a trust material. */
    public Builder watch(TrustMaterial trust) {
      trusts.add(requireNonNull(trust, "trust"));
      return this;
    }

    /** Sets the warning thresholds (default 30, 7 and 1 days). */
    public Builder thresholds(Duration... thresholds) {
      List<Duration> list = List.of(thresholds);
      for (Duration d : list) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("thresholds must be positive");
        }
      }
      this.thresholds = list;
      return this;
    }

    /** Sets the clock (default system UTC); inject one in tests. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the listener for crossed thresholds (default none; crossings are always logged). */
    public Builder listener(Listener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the monitor.
     *
     * @throws IllegalStateException if nothing is watched
     */
    public CertificateExpiryMonitor build() {
      if (identities.isEmpty() && trusts.isEmpty()) {
        throw new IllegalStateException(
            "watch(...) at least one IdentityMaterial or TrustMaterial");
      }
      return new CertificateExpiryMonitor(this);
    }
  }
}
