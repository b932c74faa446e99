package dev.hipaagrpc.auth.ratelimit;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The in-memory {@link RateLimitStore}: striped, access-ordered tables of token buckets with a hard
 * bound on their total size.
 */
final class TokenBuckets implements RateLimitStore {

  private static final int STRIPES = 16;
  // How many least-recently-used buckets each acquire looks at for eviction: amortized sweeping
  // with a constant per-call cost.
  private static final int SWEEP = 2;

  private final Stripe[] stripes = new Stripe[STRIPES];
  private final int maxBuckets;

  TokenBuckets(int maxBuckets) {
    if (maxBuckets < STRIPES) {
      throw new IllegalArgumentException("maxBuckets must be at least " + STRIPES);
    }
    this.maxBuckets = maxBuckets;
    int perStripe = maxBuckets / STRIPES;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe(perStripe);
    }
  }

  @Override
  public long tryAcquire(String key, long burst, double permitsPerSecond, long nowMillis) {
    Stripe stripe = stripes[(key.hashCode() & 0x7fffffff) % STRIPES];
    synchronized (stripe) {
      stripe.sweep(nowMillis);
      Bucket bucket = stripe.get(key);
      if (bucket == null) {
        bucket = new Bucket(burst, permitsPerSecond, nowMillis);
        stripe.put(key, bucket);
      } else {
        bucket.reconfigure(burst, permitsPerSecond);
        bucket.refill(nowMillis);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      long wait = (long) Math.ceil((1 - bucket.tokens) * 1000 / bucket.rate);
      return Math.max(1, wait);
    }
  }

  /** The number of buckets held (for tests and metrics). */
  int size() {
    int size = 0;
    for (Stripe stripe : stripes) {
      synchronized (stripe) {
        size += stripe.size();
      }
    }
    return size;
  }

  int maxBuckets() {
    return maxBuckets;
  }

  private static final class Bucket {
    long burst;
    double rate;
    double tokens;
    long lastMillis;

    Bucket(long burst, double rate, long nowMillis) {
      this.burst = burst;
      this.rate = rate;
      this.tokens = (double) burst;
      this.lastMillis = nowMillis;
    }

    void reconfigure(long burst, double rate) {
      this.burst = burst;
      this.rate = rate;
      this.tokens = Math.min(tokens, (double) burst);
    }

    void refill(long nowMillis) {
      if (nowMillis > lastMillis) { // a clock that goes back refills nothing
        tokens = Math.min((double) burst, tokens + (nowMillis - lastMillis) * rate / 1000);
        lastMillis = nowMillis;
      }
    }

    /** A bucket that would be full now carries no state: dropping it changes nothing. */
    boolean fullAt(long nowMillis) {
      return tokens + Math.max(0, nowMillis - lastMillis) * rate / 1000 >= burst;
    }
  }

  @SuppressWarnings("serial") // never serialized
  private static final class Stripe extends LinkedHashMap<String, Bucket> {
    private final int capacity;

    Stripe(int capacity) {
      super(16, 0.75f, /* accessOrder= */ true);
      this.capacity = capacity;
    }

    void sweep(long nowMillis) {
      Iterator<Bucket> it = values().iterator();
      for (int i = 0; i < SWEEP && it.hasNext(); i++) {
        if (it.next().fullAt(nowMillis)) {
          it.remove();
        } else {
          return;
        }
      }
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
      return size() > capacity;
    }
  }
}
