package dev.hipaagrpc.tls;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * What the server validated a client's chain against, kept in the TLS session so the transport
 * guard can re-check a live connection after a trust or revocation change. The check runs once per
 * session per trust generation; every other call costs a volatile read and a comparison.
 */
final class SessionTrust {

  static final String KEY = "dev.hipaagrpc.tls.SessionTrust";

  private final DelegatingTrustManager trust;
  private final X509Certificate[] chain;
  private final String authType;

  /** The generation last checked, and its result; written together. */
  private volatile Checked checked;

  private record Checked(long generation, boolean trusted) {}

  SessionTrust(
      DelegatingTrustManager trust, X509Certificate[] chain, String authType, long generation) {
    this.trust = trust;
    this.chain = chain;
    this.authType = authType;
    this.checked = new Checked(generation, true);
  }

  /** Whether the session's client chain is trusted under the trust material as it is now. */
  boolean trustedNow() {
    long now = trust.generation();
    Checked c = checked;
    if (c.generation == now) {
      return c.trusted;
    }
    boolean ok;
    try {
      trust.recheckClient(chain, authType);
      ok = true;
    } catch (CertificateException e) {
      ok = false;
    }
    // Races only repeat the same check; the last writer stores an equally valid answer.
    checked = new Checked(now, ok);
    return ok;
  }

  /** The SHA-256 of the client's leaf certificate, for the log. */
  String leafSha256Hex() {
    return Certs.sha256Hex(chain[0]);
  }
}
