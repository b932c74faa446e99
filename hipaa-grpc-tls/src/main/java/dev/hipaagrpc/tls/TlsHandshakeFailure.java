package dev.hipaagrpc.tls;

import java.util.Locale;

/**
 * Why the server refused a TLS connection: a bounded set of reasons, for a metric tag or an alert.
 * Never derived from text the peer chose beyond matching it against this list.
 *
 * <p>Immutable and thread-safe.
 */
public enum TlsHandshakeFailure {
  /** The client spoke plaintext (HTTP/2 cleartext, HTTP/1, anything that is not a TLS record). */
  PLAINTEXT,
  /** The client offers only protocol versions the server does not enable (TLS 1.1 or older). */
  PROTOCOL_VERSION,
  /** No cipher suite in common (CBC-only, static-RSA-only, suites outside the profile). */
  NO_CIPHER_OVERLAP,
  /** No handshake signature scheme or key-exchange group in common (SHA-1 only, X25519 only). */
  NO_SIGNATURE_OR_GROUP_OVERLAP,
  /** The client did not offer ALPN {@code h2}. */
  NO_ALPN,
  /** Client authentication is required and the client presented no certificate. */
  CERTIFICATE_REQUIRED,
  /** The client certificate does not chain to a trusted CA. */
  UNKNOWN_CA,
  /** The client certificate (or one of its chain) has expired or is not yet valid. */
  CERTIFICATE_EXPIRED,
  /** The client certificate (or one of its chain) is revoked. */
  CERTIFICATE_REVOKED,
  /** The client certificate was refused for another reason (key usage, name, key size). */
  BAD_CERTIFICATE,
  /** The client tried to renegotiate a TLS 1.2 session. */
  RENEGOTIATION,
  /** The client ended the handshake with an alert of its own (it refused the server). */
  PEER_ALERT,
  /** Anything else. */
  OTHER;

  /** The reason as a metric tag value: the constant's name in lower case. */
  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
