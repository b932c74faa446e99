package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import java.io.IOException;

/**
 * Supplies the bearer access token a client attaches to its calls through {@link
 * BearerCallCredentials}.
 *
 * <p>Implementations must be thread-safe; {@link #token()} is called for every call, from the
 * channel's executor, and should return a cached token quickly.
 */
public interface AccessTokenSource {

  /**
   * Returns a currently valid access token.
   *
   * @throws IOException when no token can be obtained (the call then fails with UNAVAILABLE)
   */
  String token() throws IOException;

  /**
   * Tells the source that a server refused, at {@code instant}, a token it supplied ({@code
   * invalid_token}): a caching source drops its token if it obtained it before then, so the next
   * {@link #token()} gets a fresh one (a token obtained since is kept). Called by {@link
   * BearerCallCredentials#refreshOnInvalidToken()}. Default: nothing (a static token cannot be
   * refreshed).
   */
  default void invalidateIssuedBefore(java.time.Instant instant) {}

  /**
   * Returns a source that always supplies {@code token}, for tokens managed outside this library.
   *
   * @throws IllegalArgumentException if the token is blank or not printable ASCII
   */
  static AccessTokenSource ofStatic(String token) {
    requireNonNull(token, "token");
    if (token.isBlank()) {
      throw new IllegalArgumentException("token must not be blank");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= 0x20 || c > 0x7e) {
        throw new IllegalArgumentException("token must be printable ASCII without spaces");
      }
    }
    return () -> token;
  }
}
