package dev.hipaagrpc.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Validates peers against the current {@link TrustMaterial} with the JDK's PKIX validator: chain
 * building, validity, key usage, and (when CRLs are present or OCSP is on) revocation of every
 * certificate in the chain. A new PKIX delegate is built when the material changes. On the client
 * side it also insists that hostname verification is on and checks SPKI pins.
 */
final class DelegatingTrustManager extends X509ExtendedTrustManager {

  /** Revocation settings of a credentials builder. */
  record Revocation(boolean ocsp, boolean softFail) {}

  private record Built(TrustMaterial.Snapshot snapshot, X509ExtendedTrustManager delegate) {}

  private final TrustMaterial material;
  private final Revocation revocation;
  private final boolean client;
  private final List<byte[]> pins;
  private volatile @Nullable Built built;

  DelegatingTrustManager(
      TrustMaterial material, Revocation revocation, boolean client, List<byte[]> pins) {
    this.material = material;
    this.revocation = revocation;
    this.client = client;
    this.pins = pins;
  }

  private X509ExtendedTrustManager delegate() throws CertificateException {
    TrustMaterial.Snapshot s = material.current();
    Built b = built;
    if (b != null && b.snapshot.generation() == s.generation()) {
      return b.delegate;
    }
    synchronized (this) {
      b = built;
      if (b != null && b.snapshot.generation() == s.generation()) {
        return b.delegate;
      }
      X509ExtendedTrustManager d = build(s, revocation);
      built = new Built(s, d);
      return d;
    }
  }

  static X509ExtendedTrustManager build(TrustMaterial.Snapshot s, Revocation revocation)
      throws CertificateException {
    try {
      Set<TrustAnchor> anchors = new HashSet<>();
      for (X509Certificate c : s.anchors()) {
        anchors.add(new TrustAnchor(c, null));
      }
      PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, new X509CertSelector());
      if (!s.crls().isEmpty() || revocation.ocsp()) {
        PKIXRevocationChecker checker =
            (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
        Set<PKIXRevocationChecker.Option> options =
            EnumSet.noneOf(PKIXRevocationChecker.Option.class);
        if (!revocation.ocsp()) {
          options.add(PKIXRevocationChecker.Option.PREFER_CRLS);
          options.add(PKIXRevocationChecker.Option.NO_FALLBACK);
        }
        if (revocation.softFail()) {
          options.add(PKIXRevocationChecker.Option.SOFT_FAIL);
        }
        checker.setOptions(options);
        params.addCertPathChecker(checker);
        params.setRevocationEnabled(true);
        if (!s.crls().isEmpty()) {
          params.addCertStore(
              CertStore.getInstance("Collection", new CollectionCertStoreParameters(s.crls())));
        }
      } else {
        params.setRevocationEnabled(false);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(new CertPathTrustManagerParameters(params));
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new CertificateException("no X509ExtendedTrustManager from PKIX");
    } catch (GeneralSecurityException e) {
      throw new CertificateException("trust manager cannot be built", e);
    }
  }

  // ---- server side: validating client certificates

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, @Nullable Socket socket)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    long generation = material.current().generation();
    delegate().checkClientTrusted(chain, authType, engine);
    SSLSession handshake = engine.getHandshakeSession();
    if (handshake != null) {
      // A resumed session (stateful or a stateless ticket, TLS 1.2 or 1.3) skips this check and
      // the JDK hands out a fresh ticket on every resumption, so a session with a client
      // certificate could outlive any trust change. Such sessions are therefore never resumable:
      // every connection gets a full handshake against the current trust and CRLs. The mark lets
      // the transport guard re-check live connections when the trust changes.
      handshake.putValue(
          SessionTrust.KEY, new SessionTrust(this, chain.clone(), authType, generation));
      handshake.invalidate();
    }
  }

  /** The trust material's generation now. */
  long generation() {
    return material.current().generation();
  }

  /** Re-validates a client chain against the current trust and CRLs (no engine: no session). */
  void recheckClient(X509Certificate[] chain, String authType) throws CertificateException {
    delegate().checkClientTrusted(chain, authType);
  }

  // ---- client side: validating server certificates

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    // No engine, no host name: hostname verification would be skipped, so refuse.
    throw new CertificateException("server certificate check needs an SSLEngine");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, @Nullable Socket socket)
      throws CertificateException {
    throw new CertificateException("server certificate check needs an SSLEngine");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    String algorithm = engine.getSSLParameters().getEndpointIdentificationAlgorithm();
    if (client && (algorithm == null || algorithm.isEmpty())) {
      throw new CertificateException("hostname verification is not enabled");
    }
    delegate().checkServerTrusted(chain, authType, engine);
    if (!pins.isEmpty()) {
      checkPins(chain);
    }
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return material.current().anchors().toArray(new X509Certificate[0]);
  }

  /**
   * Passes if a pin matches a certificate of the path that PKIX just validated: the leaf, each
   * presented certificate that actually signed the one before it, or the anchor that signed the
   * last of those. An attacker cannot satisfy a pin by appending an unrelated pinned certificate.
   */
  private void checkPins(X509Certificate[] chain) throws CertificateException {
    List<X509Certificate> path = new ArrayList<>();
    path.add(chain[0]);
    X509Certificate last = chain[0];
    for (int i = 1; i < chain.length; i++) {
      X509Certificate next = chain[i];
      if (!last.getIssuerX500Principal().equals(next.getSubjectX500Principal())
          || !Certs.verifies(last, next.getPublicKey())) {
        break;
      }
      path.add(next);
      last = next;
    }
    for (X509Certificate anchor : material.current().anchors()) {
      if (last.getIssuerX500Principal().equals(anchor.getSubjectX500Principal())
          && Certs.verifies(last, anchor.getPublicKey())) {
        path.add(anchor);
      }
    }
    for (X509Certificate c : path) {
      byte[] spki = Certs.spkiSha256(c);
      for (byte[] pin : pins) {
        if (MessageDigest.isEqual(pin, spki)) {
          return;
        }
      }
    }
    throw new CertificateException("no SPKI pin matches the server's certificate path");
  }
}
