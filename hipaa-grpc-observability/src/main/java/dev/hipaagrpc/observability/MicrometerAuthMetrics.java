package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.auth.authn.KeyFetchObserver;
import dev.hipaagrpc.auth.authn.KeySource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Identity-provider meters: {@code hipaa.grpc.auth.idp.requests}, a counter of OIDC discovery, JWK
 * Set and introspection requests, tags {@code kind} ({@code discovery}, {@code jwks}, {@code
 * introspection}), {@code outcome} ({@code ok}, {@code error}, {@code rejected}) and {@code source}
 * (a name you give, bounded by your configuration: never the issuer URL a token names); and {@code
 * hipaa.grpc.auth.keys.age}, a gauge of the seconds since a remote key source last fetched its keys
 * (tag {@code source}; NaN before the first fetch), which grows past the cache lifetime only while
 * the provider cannot be reached.
 *
 * <pre>{@code
 * KeySource keys = KeySource.fromOidcDiscovery(issuer)
 *     .observer(MicrometerAuthMetrics.create(registry, "workforce-idp"))
 *     .build();
 * MicrometerAuthMetrics.bindKeyAge(registry, keys, "workforce-idp");
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class MicrometerAuthMetrics implements KeyFetchObserver {

  private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  private final Map<Kind, Map<Outcome, Counter>> counters = new EnumMap<>(Kind.class);

  private MicrometerAuthMetrics(MeterRegistry registry, String source) {
    for (Kind kind : Kind.values()) {
      Map<Outcome, Counter> byOutcome = new EnumMap<>(Outcome.class);
      for (Outcome outcome : Outcome.values()) {
        byOutcome.put(
            outcome,
            Counter.builder("hipaa.grpc.auth.idp.requests")
                .description("Requests to the identity provider, by kind and outcome")
                .tag("kind", kind.tag())
                .tag("outcome", outcome.tag())
                .tag("source", source)
                .register(registry));
      }
      counters.put(kind, byOutcome);
    }
  }

  /**
   * Registers the counters for one key source or introspection endpoint, named {@code source}.
   *
   * @param source a short name from your configuration ({@code [A-Za-z0-9][A-Za-z0-9_.-]*}, at most
   *     64 characters), for example the issuer's name in your properties
   * @throws IllegalArgumentException if {@code source} is not such a name
   */
  public static MicrometerAuthMetrics create(MeterRegistry registry, String source) {
    requireNonNull(registry, "registry");
    return new MicrometerAuthMetrics(registry, checkSource(source));
  }

  /**
   * Registers the {@code hipaa.grpc.auth.keys.age} gauge for {@code keys}, tag {@code source}.
   *
   * @throws IllegalArgumentException if {@code source} is not a name as in {@link #create}
   */
  public static void bindKeyAge(MeterRegistry registry, KeySource keys, String source) {
    requireNonNull(registry, "registry");
    requireNonNull(keys, "keys");
    Gauge.builder("hipaa.grpc.auth.keys.age", keys, MicrometerAuthMetrics::ageSeconds)
        .description("Seconds since the key source last fetched its keys")
        .baseUnit("seconds")
        .tag("source", checkSource(source))
        .register(registry);
  }

  private static double ageSeconds(KeySource keys) {
    Instant at = keys.keysFetchedAt();
    if (at == null) {
      return Double.NaN;
    }
    return Math.max(0, keys.clock().millis() - at.toEpochMilli()) / 1000.0;
  }

  private static String checkSource(String source) {
    requireNonNull(source, "source");
    if (!SOURCE.matcher(source).matches()) {
      throw new IllegalArgumentException(
          "source must be a short configured name ([A-Za-z0-9][A-Za-z0-9_.-]*, 64 characters at"
              + " most)");
    }
    return source;
  }

  @Override
  public void onFetch(Kind kind, Outcome outcome) {
    Map<Outcome, Counter> byOutcome = counters.get(kind);
    Counter c = byOutcome == null ? null : byOutcome.get(outcome);
    if (c != null) {
      c.increment();
    }
  }
}
