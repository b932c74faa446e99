package dev.hipaagrpc.auth.authn;

/**
 * Tells whether a token id ({@code jti}) has been revoked before its expiry.
 *
 * <p>Consulted on every call that carries a token with a {@code jti}, including calls answered from
 * the verified-token cache, so an implementation must be fast and must not block on the network
 * (keep a local copy refreshed in the background). {@link JtiDenyList} is an in-memory
 * implementation.
 *
 * <p>Implementations must be thread-safe.
 */
public interface RevocationList {

  /**
   * Returns whether the token {@code tokenId} issued by {@code issuer} is revoked.
   *
   * @param issuer the token's verified {@code iss}
   * @param tokenId the token's verified {@code jti}
   */
  boolean isRevoked(String issuer, String tokenId);
}
