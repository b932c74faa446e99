package dev.hipaagrpc.tls;

/**
 * Hears about refused TLS connections of credentials built by {@link MtlsServerCredentials}, one
 * report per refused connection, for metrics (see {@code MicrometerTlsMetrics} in
 * hipaa-grpc-observability). The server also logs refusals itself, in bounded volume.
 *
 * <p>Called on a Netty event loop: implementations must be thread-safe, quick and non-blocking, and
 * must not throw (an exception is ignored). They get the reason only: never an address, a
 * certificate or anything else the peer sent.
 */
@FunctionalInterface
public interface TlsHandshakeObserver {

  /** Does nothing: the default. */
  TlsHandshakeObserver NOOP = reason -> {};

  /** One connection was refused during the TLS handshake (or renegotiation) for {@code reason}. */
  void onHandshakeFailure(TlsHandshakeFailure reason);
}
