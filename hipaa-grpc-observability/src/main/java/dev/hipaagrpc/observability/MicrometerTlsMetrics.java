package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.tls.TlsHandshakeFailure;
import dev.hipaagrpc.tls.TlsHandshakeObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * {@code hipaa.grpc.tls.handshake.failures}: a counter of refused TLS connections, tag {@code
 * reason} (one of {@link TlsHandshakeFailure}'s bounded values: {@code plaintext}, {@code
 * protocol_version}, {@code no_cipher_overlap}, {@code unknown_ca}, {@code certificate_expired},
 * …). Every reason is registered at zero when created, so an alert on a rate works from the start.
 * Give it to {@code MtlsServerCredentials.Builder.handshakeObserver}.
 *
 * <p>Thread-safe.
 */
public final class MicrometerTlsMetrics implements TlsHandshakeObserver {

  private final Map<TlsHandshakeFailure, Counter> counters =
      new EnumMap<>(TlsHandshakeFailure.class);

  private MicrometerTlsMetrics(MeterRegistry registry) {
    for (TlsHandshakeFailure reason : TlsHandshakeFailure.values()) {
      counters.put(
          reason,
          Counter.builder("hipaa.grpc.tls.handshake.failures")
              .description("TLS connections refused during the handshake, by reason")
              .tag("reason", reason.tag())
              .register(registry));
    }
  }

  /** Registers the counters in {@code registry}. */
  public static MicrometerTlsMetrics create(MeterRegistry registry) {
    return new MicrometerTlsMetrics(requireNonNull(registry, "registry"));
  }

  @Override
  public void onHandshakeFailure(TlsHandshakeFailure reason) {
    Counter c = counters.get(reason);
    if (c != null) {
      c.increment();
    }
  }
}
