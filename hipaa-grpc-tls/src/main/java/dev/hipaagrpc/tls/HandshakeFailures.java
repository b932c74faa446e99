package dev.hipaagrpc.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.util.AttributeKey;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/** Classifies refused handshakes and reports each refused connection once to the observer. */
final class HandshakeFailures {

  private static final AttributeKey<Boolean> REPORTED =
      AttributeKey.valueOf(HandshakeFailures.class, "reported");

  private final TlsHandshakeObserver observer;

  HandshakeFailures(TlsHandshakeObserver observer) {
    this.observer = observer;
  }

  /** Reports {@code reason} unless this connection was already reported. */
  void report(Channel channel, TlsHandshakeFailure reason) {
    if (channel.attr(REPORTED).setIfAbsent(Boolean.TRUE) != null) {
      return;
    }
    try {
      observer.onHandshakeFailure(reason);
    } catch (RuntimeException e) {
      // An observer must not throw; a metric is not worth a refused connection's stack trace.
    }
  }

  /**
   * Reports a failed handshake when a TLS failure caused it (a peer that just closes the TCP
   * connection is not a refused handshake).
   */
  void reportFailure(Channel channel, @Nullable Throwable cause) {
    SSLException tls = sslCause(cause);
    if (tls != null) {
      report(channel, classify(tls));
    }
  }

  static @Nullable SSLException sslCause(@Nullable Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SSLException e) {
        return e;
      }
    }
    return null;
  }

  /** The reason for a TLS failure, from the exception types the JDK and Netty use. */
  static TlsHandshakeFailure classify(SSLException failure) {
    if (failure instanceof NotSslRecordException) {
      return TlsHandshakeFailure.PLAINTEXT;
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CertificateExpiredException
          || t instanceof CertificateNotYetValidException) {
        return TlsHandshakeFailure.CERTIFICATE_EXPIRED;
      }
      if (t instanceof CertPathValidatorException v) {
        if (v.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
          return TlsHandshakeFailure.CERTIFICATE_REVOKED;
        }
        if (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED
            || v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
          return TlsHandshakeFailure.CERTIFICATE_EXPIRED;
        }
        if (v.getReason()
            == CertPathValidatorException.BasicReason.UNDETERMINED_REVOCATION_STATUS) {
          return TlsHandshakeFailure.CERTIFICATE_REVOKED;
        }
      }
      if (t instanceof CertPathBuilderException) {
        return TlsHandshakeFailure.UNKNOWN_CA;
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CertificateException) {
        return TlsHandshakeFailure.BAD_CERTIFICATE;
      }
    }
    String m = String.valueOf(failure.getMessage()).toLowerCase(Locale.ROOT);
    if (m.contains("received fatal alert")) {
      return TlsHandshakeFailure.PEER_ALERT;
    }
    if (m.contains("empty client certificate chain") || m.contains("certificate_required")) {
      return TlsHandshakeFailure.CERTIFICATE_REQUIRED;
    }
    if ((m.contains("protocol") && (m.contains("not enabled") || m.contains("not supported")))
        || m.contains("no appropriate protocol")
        || m.contains("unsupported protocol")) {
      return TlsHandshakeFailure.PROTOCOL_VERSION;
    }
    if (m.contains("no cipher suites in common") || m.contains("cipher suite")) {
      return TlsHandshakeFailure.NO_CIPHER_OVERLAP;
    }
    if (m.contains("signature") || m.contains("named group") || m.contains("key share")) {
      return TlsHandshakeFailure.NO_SIGNATURE_OR_GROUP_OVERLAP;
    }
    if (m.contains("path") && m.contains("trust")) {
      return TlsHandshakeFailure.UNKNOWN_CA;
    }
    return TlsHandshakeFailure.OTHER;
  }
}
