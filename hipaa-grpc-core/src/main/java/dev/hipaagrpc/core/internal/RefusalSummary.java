package dev.hipaagrpc.core.internal;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import io.grpc.Status;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts refused calls by class and logs them in at most one WARN line per minute: {@code
 * hipaa-grpc refused 14 calls in the last 60 s: PERMISSION_DENIED default-deny=3, UNAUTHENTICATED
 * expired_token=11}. A class is the status code and the fixed failure code or policy rule id that
 * decided it, so the line is bounded by the server's own vocabulary and never carries a value from
 * a request; details of each refusal stay at DEBUG in the refusing layer.
 *
 * <p>The line for a period is written by the first refusal after the period ended: the first
 * refusal after a quiet minute is reported at once, and an ongoing attack once a minute. At most
 * {@value #MAX_CLASSES} classes are kept per period (the rest are counted as {@code other}).
 * Thread-safe.
 */
public final class RefusalSummary {
  private static final Logger logger = LoggerFactory.getLogger("dev.hipaagrpc.refusals");
  static final long PERIOD_NANOS = 60_000_000_000L;
  static final int MAX_CLASSES = 64;

  private static final RefusalSummary SHARED = new RefusalSummary();

  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

  /** No summary yet: the first refusal is reported at once. */
  private static final long NEVER = Long.MIN_VALUE;

  private final AtomicLong periodStart = new AtomicLong(NEVER);

  RefusalSummary() {}

  /** Counts a refused call of this JVM's stacks. */
  public static void record(Status.Code code, @Nullable CallFacts facts) {
    SHARED.count(code, facts, System.nanoTime());
  }

  /**
   * Counts a refused call whose class is {@code code} and {@code reason}, a fixed word of the
   * refusing layer (such as {@code malformed_request}), for refusals that carry no failure code or
   * rule id in the call's facts.
   */
  public static void record(Status.Code code, String reason) {
    SHARED.countClass(code, code + " " + reason, System.nanoTime());
  }

  /** Counts one refusal at {@code nowNanos}; returns the summary line when one is due, or null. */
  @Nullable String count(Status.Code code, @Nullable CallFacts facts, long nowNanos) {
    return countClass(code, code + " " + detail(code, facts), nowNanos);
  }

  /** Counts one refusal of class {@code cls}; returns the summary line when one is due, or null. */
  @Nullable String countClass(Status.Code code, String cls, long nowNanos) {
    LongAdder adder = counts.get(cls);
    if (adder == null) {
      adder =
          counts.size() < MAX_CLASSES ? counts.computeIfAbsent(cls, k -> new LongAdder()) : null;
      if (adder == null) {
        adder = counts.computeIfAbsent(code + " other", k -> new LongAdder());
      }
    }
    adder.increment();
    long start = periodStart.get();
    boolean due = start == NEVER || nowNanos - start >= PERIOD_NANOS;
    if (!due || !periodStart.compareAndSet(start, nowNanos)) {
      return null;
    }
    return emit(start, nowNanos);
  }

  /**
   * Writes the summary of the refusals counted since the last line now, instead of with the next
   * refusal after the period (for a server shutting down, or a test), and starts a new period.
   * Returns the line, or null when nothing was refused.
   */
  public static @Nullable String flush() {
    return SHARED.flush(System.nanoTime());
  }

  @Nullable String flush(long nowNanos) {
    return emit(periodStart.getAndSet(nowNanos), nowNanos);
  }

  private @Nullable String emit(long start, long nowNanos) {
    long seconds = start == NEVER ? 60 : Math.min(3600, (nowNanos - start) / 1_000_000_000L);
    Map<String, Long> snapshot = new TreeMap<>();
    long total = 0;
    for (Map.Entry<String, LongAdder> e : counts.entrySet()) {
      long n = e.getValue().sumThenReset();
      if (n > 0) {
        snapshot.put(e.getKey(), n);
        total += n;
      }
    }
    counts.clear();
    if (total == 0) {
      return null;
    }
    StringBuilder line = new StringBuilder("hipaa-grpc refused ").append(total).append(" calls");
    line.append(" in the last ").append(seconds).append(" s:");
    String sep = " ";
    for (Map.Entry<String, Long> e : snapshot.entrySet()) {
      line.append(sep).append(e.getKey()).append('=').append(e.getValue());
      sep = ", ";
    }
    String summary = line.toString();
    logger.warn("{}", summary);
    return summary;
  }

  /** The fixed code or rule id that decided the refusal, or {@code -}. */
  private static String detail(Status.Code code, @Nullable CallFacts facts) {
    if (facts == null) {
      return "-";
    }
    String failure = facts.authenticationFailure();
    if (failure != null
        && (code == Status.Code.UNAUTHENTICATED || code == Status.Code.UNAVAILABLE)) {
      return failure;
    }
    AccessDecision decision = facts.decision();
    if (decision != null && !decision.permitted()) {
      return decision.ruleId();
    }
    return "-";
  }
}
