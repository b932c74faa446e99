package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import io.grpc.Attributes;
import io.grpc.Grpc;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The identity a TLS peer proved with its certificate: always read from the <em>leaf</em>
 * certificate (the first of the peer's chain), never from an intermediate or root.
 *
 * <p>Exposes the SPIFFE ID (the single {@code spiffe://} URI SAN; a certificate with several, or
 * with a malformed one, has none), the DNS SANs, the subject common name (for callers that opt in
 * to using it), and the certificate's SHA-256 thumbprint as used by RFC 8705 ({@code x5t#S256},
 * unpadded base64url) and in lowercase hex.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PeerIdentity {

  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  private final X509Certificate leaf;
  private final @Nullable String spiffeId;
  private final List<String> dnsNames;
  private final List<String> uris;
  private final byte[] sha256;
  private final String sha256Hex;
  private final String x5tS256;

  private PeerIdentity(X509Certificate leaf) {
    this.leaf = leaf;
    List<String> dns = new ArrayList<>();
    List<String> uriList = new ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      sans = null;
    }
    if (sans != null) {
      for (List<?> san : sans) {
        if (san.size() < 2 || !(san.get(0) instanceof Integer) || !(san.get(1) instanceof String)) {
          continue;
        }
        int type = (Integer) san.get(0);
        String value = (String) san.get(1);
        if (type == SAN_DNS) {
          dns.add(value.toLowerCase(Locale.ROOT));
        } else if (type == SAN_URI) {
          uriList.add(value);
        }
      }
    }
    this.dnsNames = Collections.unmodifiableList(dns);
    this.uris = Collections.unmodifiableList(uriList);
    this.spiffeId = spiffeIdOf(uriList);
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded());
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded", e);
    }
    // Read on every call (principal fingerprint, token binding): computed once.
    this.sha256Hex = java.util.HexFormat.of().formatHex(sha256);
    this.x5tS256 = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(sha256);
  }

  /** Returns the identity of {@code leaf}. */
  public static PeerIdentity of(X509Certificate leaf) {
    return new PeerIdentity(requireNonNull(leaf, "leaf"));
  }

  /**
   * Returns the identity of the peer of a TLS session, or {@code null} when the session is null or
   * the peer presented no X.509 certificate. Derived once per session and kept in it (a session's
   * peer certificate never changes), so later calls on the connection cost one session lookup.
   */
  public static @Nullable PeerIdentity fromSession(@Nullable SSLSession session) {
    if (session == null) {
      return null;
    }
    Object cached = session.getValue(SESSION_KEY);
    if (cached instanceof PeerIdentity p) {
      return p;
    }
    if (cached == NO_PEER) {
      return null;
    }
    PeerIdentity peer = derive(session);
    session.putValue(SESSION_KEY, peer != null ? peer : NO_PEER);
    return peer;
  }

  private static final String SESSION_KEY = "dev.hipaagrpc.core.PeerIdentity";
  private static final Object NO_PEER = new Object();

  private static @Nullable PeerIdentity derive(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
      return null;
    }
    return new PeerIdentity((X509Certificate) chain[0]);
  }

  /**
   * Returns the peer identity of a call from its transport attributes (a {@code ServerCall}'s
   * {@code getAttributes()}), or {@code null} when the call did not arrive over TLS with a client
   * certificate.
   */
  public static @Nullable PeerIdentity fromAttributes(Attributes transportAttributes) {
    return fromSession(transportAttributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
  }

  /** The leaf certificate. */
  public X509Certificate certificate() {
    return leaf;
  }

  /** The SPIFFE ID ({@code spiffe://trust-domain/path}), or {@code null}. */
  public @Nullable String spiffeId() {
    return spiffeId;
  }

  /** The trust domain of the SPIFFE ID, or {@code null} when there is no SPIFFE ID. */
  public @Nullable String spiffeTrustDomain() {
    String id = spiffeId;
    if (id == null) {
      return null;
    }
    String rest = id.substring("spiffe://".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** The DNS subject alternative names, lowercased. */
  public List<String> dnsNames() {
    return dnsNames;
  }

  /** The URI subject alternative names, as written in the certificate. */
  public List<String> uris() {
    return uris;
  }

  /** The subject's common name, or {@code null}; use only where explicitly enabled. */
  public @Nullable String subjectCommonName() {
    try {
      LdapName name = new LdapName(leaf.getSubjectX500Principal().getName());
      for (Rdn rdn : name.getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType()) && rdn.getValue() instanceof String) {
          return (String) rdn.getValue();
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }

  /** The SHA-256 thumbprint of the DER certificate in lowercase hex (64 characters). */
  public String sha256Hex() {
    return sha256Hex;
  }

  /** The SHA-256 thumbprint as RFC 8705 {@code x5t#S256}: unpadded base64url. */
  public String x5tS256() {
    return x5tS256;
  }

  /** Prints the SPIFFE ID or first DNS name and the thumbprint; workload names, not people. */
  @Override
  public String toString() {
    String name = spiffeId != null ? spiffeId : dnsNames.isEmpty() ? "-" : dnsNames.get(0);
    return "PeerIdentity{" + name + ", sha256=" + sha256Hex() + "}";
  }

  /** Returns the one well-formed SPIFFE ID among {@code uris}, or null (none, or several). */
  static @Nullable String spiffeIdOf(List<String> uris) {
    String found = null;
    for (String candidate : uris) {
      if (!candidate.regionMatches(true, 0, "spiffe://", 0, 9)) {
        continue;
      }
      if (found != null || !isWellFormedSpiffeId(candidate)) {
        // An SVID carries exactly one SPIFFE ID; anything else is not an SVID.
        return null;
      }
      found = candidate;
    }
    return found;
  }

  private static boolean isWellFormedSpiffeId(String id) {
    if (id.length() > 2048 || !id.startsWith("spiffe://")) {
      return false;
    }
    URI uri;
    try {
      uri = new URI(id);
    } catch (URISyntaxException e) {
      return false;
    }
    String host = uri.getRawAuthority();
    if (host == null
        || host.isEmpty()
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null
        || uri.getRawUserInfo() != null
        || uri.getPort() != -1) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
        return false;
      }
    }
    String path = uri.getRawPath();
    if (path == null || path.isEmpty()) {
      return true;
    }
    for (String segment : path.substring(1).split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return false;
      }
      for (int i = 0; i < segment.length(); i++) {
        char c = segment.charAt(i);
        if (!((c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '.'
            || c == '-'
            || c == '_')) {
          return false;
        }
      }
    }
    return path.startsWith("/");
  }
}
