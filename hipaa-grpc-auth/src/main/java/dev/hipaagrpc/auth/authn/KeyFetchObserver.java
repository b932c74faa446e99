package dev.hipaagrpc.auth.authn;

import java.util.Locale;

/**
 * Hears about every request a remote {@link KeySource} (OIDC discovery, JWK Set) or a {@link
 * TokenIntrospection} makes to the identity provider, for metrics (see {@code
 * MicrometerAuthMetrics} in hipaa-grpc-observability). One observer is given per source, so a name
 * bounded by the configuration (an issuer's) can be bound to it; the observer is told the kind and
 * the outcome only, never a URI, a token or a response.
 *
 * <p>Called on the fetching thread (the refresh executor, or a call's thread for a fetch caused by
 * an unknown key id or an introspection): implementations must be thread-safe, quick, and must not
 * throw (an exception is ignored).
 */
@FunctionalInterface
public interface KeyFetchObserver {

  /** Does nothing: the default. */
  KeyFetchObserver NOOP = (kind, outcome) -> {};

  /** What was requested. */
  enum Kind {
    /** The OpenID Connect discovery document. */
    DISCOVERY,
    /** The JWK Set. */
    JWKS,
    /** An RFC 7662 introspection request. */
    INTROSPECTION;

    /** The kind as a metric tag value: the name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How it ended. */
  enum Outcome {
    /** An acceptable answer (for introspection: active or inactive). */
    OK,
    /** No answer: connection, TLS, timeout or HTTP status error. */
    ERROR,
    /** An answer that was refused: malformed, no usable key, another issuer, oversized. */
    REJECTED;

    /** The outcome as a metric tag value: the name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** One request ended with {@code outcome}. */
  void onFetch(Kind kind, Outcome outcome);
}
