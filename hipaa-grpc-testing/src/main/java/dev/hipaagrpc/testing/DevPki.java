package dev.hipaagrpc.testing;

import static dev.hipaagrpc.testing.CertificateSigner.San.Kind.DNS;
import static dev.hipaagrpc.testing.CertificateSigner.San.Kind.IP;
import static dev.hipaagrpc.testing.CertificateSigner.San.Kind.URI;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A throw-away certificate authority for tests, examples and local development.
 *
 * <p><strong>DEVELOPMENT ONLY.</strong> Keys live in memory and in whatever directory you write
 * them to, unprotected; there is no key ceremony, no audit trail and no real revocation service.
 * Never use a {@code DevPki} certificate in production or with real patient data.
 *
 * <p>A {@code DevPki} holds a root CA and an intermediate CA ({@code root -> intermediate ->
 * leaf}). It issues server certificates (DNS SAN {@code localhost}, IP SAN {@code 127.0.0.1},
 * optionally a SPIFFE URI SAN), client certificates with a SPIFFE URI SAN and/or DNS SANs, and the
 * broken variants tests need: expired, not yet valid, and revoked (listed in the intermediate's
 * CRL). {@link #foreign()} is a second, unrelated CA whose certificates nothing here trusts.
 *
 * <pre>{@code
 * DevPki pki = DevPki.create();
 * DevPki.Credential server = pki.server();
 * DevPki.Credential client = pki.client("spiffe://hipaa-grpc.test/ns/clinic/sa/frontend");
 * Path trust = pki.writeTrustBundle(dir.resolve("ca.pem"));
 * DevPki.PemFiles serverFiles = server.writePem(dir, "server");
 * }</pre>
 *
 * <p>Defaults: EC P-256 keys signed with SHA256withECDSA ({@link KeyType#RSA_2048} with
 * SHA256withRSA on request); CAs valid from one day ago for ten years; leaves valid from one hour
 * ago for 90 days (a fresh leaf is 60 days clear of {@code CertificateExpiryMonitor}'s first
 * warning, as with a public CA's 90-day certificates); CRLs valid for seven days; trust domain
 * {@code hipaa-grpc.test}; the system UTC clock.
 *
 * <p>Thread-safe: certificates can be issued from several threads (each {@link LeafBuilder} by
 * one); revocation and CRL generation are synchronized.
 */
public final class DevPki {

  /** The key algorithm of every key this PKI generates. */
  public enum KeyType {
    /** ECDSA on NIST P-256, signed with SHA256withECDSA (the default). */
    EC_P256,
    /** RSA 2048, signed with SHA256withRSA. */
    RSA_2048
  }

  private static final Duration LEAF_VALIDITY = Duration.ofDays(90);

  private final KeyType keyType;
  private final Clock clock;
  private final String trustDomain;
  private final String name;
  private final SecureRandom random = new SecureRandom();
  private final CertificateSigner signer;
  private final KeyPair rootKeys;
  private final X509Certificate root;
  private final KeyPair intermediateKeys;
  private final X509Certificate intermediate;
  private final Map<BigInteger, Instant> revokedLeaves = new LinkedHashMap<>();
  private long crlNumber;
  private @Nullable DevPki foreign;

  private DevPki(Builder b) {
    this.keyType = b.keyType;
    this.clock = b.clock;
    this.trustDomain = b.trustDomain;
    this.name = b.name;
    this.signer =
        new CertificateSigner(
            keyType == KeyType.RSA_2048 ? "SHA256withRSA" : "SHA256withECDSA",
            b.ocspResponder,
            random);
    Instant now = clock.instant();
    Instant caFrom = now.minus(Duration.ofDays(1));
    Instant caTo = now.plus(Duration.ofDays(3650));
    this.rootKeys = generateKeyPair();
    this.root =
        signer.ca(
            name + " Root CA", rootKeys.getPublic(), null, rootKeys.getPrivate(), caFrom, caTo, 1);
    this.intermediateKeys = generateKeyPair();
    this.intermediate =
        signer.ca(
            name + " Intermediate CA",
            intermediateKeys.getPublic(),
            root,
            rootKeys.getPrivate(),
            caFrom,
            caTo,
            0);
  }

  /** Creates a PKI with the defaults (EC P-256, trust domain {@code hipaa-grpc.test}). */
  public static DevPki create() {
    return newBuilder().build();
  }

  /** Returns a builder for a PKI with non-default key type, clock or names. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The root CA certificate: the trust anchor to configure on both sides. */
  public X509Certificate rootCertificate() {
    return root;
  }

  /** The intermediate CA certificate that signs every leaf. */
  public X509Certificate intermediateCertificate() {
    return intermediate;
  }

  /** The SPIFFE trust domain used by the convenience methods, e.g. {@code hipaa-grpc.test}. */
  public String trustDomain() {
    return trustDomain;
  }

  /** Returns {@code spiffe://<trust domain>/<path>}. */
  public String spiffeId(String path) {
    requireNonNull(path, "path");
    return "spiffe://" + trustDomain + (path.startsWith("/") ? path : "/" + path);
  }

  /**
   * A second, unrelated PKI with the same settings (created on first use, then reused): its
   * certificates chain to a root that this PKI's trust bundle does not contain.
   */
  public synchronized DevPki foreign() {
    DevPki f = foreign;
    if (f == null) {
      f =
          newBuilder()
              .keyType(keyType)
              .clock(clock)
              .trustDomain("foreign." + trustDomain)
              .name("Foreign " + name)
              .build();
      foreign = f;
    }
    return f;
  }

  /** A server certificate for DNS {@code localhost} and IP {@code 127.0.0.1}. */
  public Credential server() {
    return newLeaf().dnsName("localhost").ipAddress("127.0.0.1").serverAuth().issue();
  }

  /** A server certificate for {@code localhost}/{@code 127.0.0.1} that also carries a SPIFFE ID. */
  public Credential server(String spiffeId) {
    return newLeaf().dnsName("localhost").ipAddress("127.0.0.1").uri(spiffeId).serverAuth().issue();
  }

  /** A client certificate whose only SAN is {@code spiffeId} (a {@code spiffe://} URI). */
  public Credential client(String spiffeId) {
    return newLeaf().uri(spiffeId).clientAuth().issue();
  }

  /** A client certificate whose only SAN is the DNS name {@code dnsName}. */
  public Credential clientWithDnsName(String dnsName) {
    return newLeaf().dnsName(dnsName).clientAuth().issue();
  }

  /** A client certificate that expired a day ago (valid from 31 days ago until 1 day ago). */
  public Credential expiredClient(String spiffeId) {
    Instant now = clock.instant();
    return newLeaf()
        .uri(spiffeId)
        .clientAuth()
        .validity(now.minus(Duration.ofDays(31)), now.minus(Duration.ofDays(1)))
        .issue();
  }

  /** A client certificate that becomes valid a day from now. */
  public Credential notYetValidClient(String spiffeId) {
    Instant now = clock.instant();
    return newLeaf()
        .uri(spiffeId)
        .clientAuth()
        .validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(31)))
        .issue();
  }

  /** A client certificate that is listed as revoked in this PKI's CRL from now on. */
  public Credential revokedClient(String spiffeId) {
    Credential c = client(spiffeId);
    revoke(c);
    return c;
  }

  /** Adds {@code credential}'s certificate to the intermediate CA's CRL. */
  public synchronized void revoke(Credential credential) {
    requireNonNull(credential, "credential");
    if (!credential
        .certificate()
        .getIssuerX500Principal()
        .equals(intermediate.getSubjectX500Principal())) {
      throw new IllegalArgumentException("credential was not issued by this PKI");
    }
    revokedLeaves.put(credential.certificate().getSerialNumber(), clock.instant());
  }

  /**
   * The current CRLs: the root's (listing no intermediate) and the intermediate's (listing every
   * revoked leaf), each valid from now for seven days. Both are needed to check a whole chain.
   */
  public synchronized List<X509CRL> crls() {
    Instant now = clock.instant();
    List<X509CRL> out = new ArrayList<>(2);
    out.add(signer.crl(root, rootKeys.getPrivate(), Map.of(), now, ++crlNumber));
    out.add(
        signer.crl(intermediate, intermediateKeys.getPrivate(), revokedLeaves, now, ++crlNumber));
    return Collections.unmodifiableList(out);
  }

  /** Writes the root certificate as PEM to {@code file} (atomically) and returns it. */
  public Path writeTrustBundle(Path file) {
    return write(file, PemWriter.encode(root), false);
  }

  /** Writes {@link #crls()} as PEM to {@code file} (atomically) and returns it. */
  public Path writeCrls(Path file) {
    return write(file, PemWriter.encode(crls().toArray()), false);
  }

  /** Returns a builder for a leaf certificate with custom names, validity or usage. */
  public LeafBuilder newLeaf() {
    return new LeafBuilder();
  }

  private KeyPair generateKeyPair() {
    try {
      KeyPairGenerator g;
      if (keyType == KeyType.RSA_2048) {
        g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048, random);
      } else {
        g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), random);
      }
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("key generation failed", e);
    }
  }

  private static Path write(Path file, String content, boolean secret) {
    requireNonNull(file, "file");
    try {
      PemWriter.writeAtomically(file, content, secret);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * A leaf certificate, its chain and its private key, issued by a {@link DevPki}.
   *
   * <p>Immutable and thread-safe.
   */
  public static final class Credential {
    private final X509Certificate certificate;
    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;

    Credential(X509Certificate certificate, X509Certificate intermediate, PrivateKey privateKey) {
      this.certificate = certificate;
      List<X509Certificate> c = new ArrayList<>(2);
      c.add(certificate);
      c.add(intermediate);
      this.chain = Collections.unmodifiableList(c);
      this.privateKey = privateKey;
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
      return certificate;
    }

    /** The chain to present: the leaf, then the intermediate CA (not the root). */
    public List<X509Certificate> chain() {
      return chain;
    }

    /** The leaf's private key. */
    public PrivateKey privateKey() {
      return privateKey;
    }

    /** Writes the chain as PEM to {@code file} (atomically) and returns it. */
    public Path writeChainPem(Path file) {
      return write(file, PemWriter.encode(chain.toArray()), false);
    }

    /** Writes the private key as unencrypted PKCS#8 PEM ({@code PRIVATE KEY}), owner-only. */
    public Path writeKeyPem(Path file) {
      return write(file, PemWriter.encodePkcs8(privateKey, null), true);
    }

    /**
     * Writes the private key as encrypted PKCS#8 PEM ({@code ENCRYPTED PRIVATE KEY}, AES-256-CBC
     * with a PBKDF2-derived key), owner-only.
     */
    public Path writeEncryptedKeyPem(Path file, char[] password) {
      requireNonNull(password, "password");
      return write(file, PemWriter.encodePkcs8(privateKey, password), true);
    }

    /**
     * Writes the private key in OpenSSL's traditional form: PKCS#1 ({@code RSA PRIVATE KEY}) for
     * RSA, SEC1 ({@code EC PRIVATE KEY}) for EC; owner-only.
     */
    public Path writeTraditionalKeyPem(Path file) {
      return write(file, PemWriter.encodeTraditional(privateKey), true);
    }

    /**
     * Writes {@code <baseName>.pem} (the chain) and {@code <baseName>.key} (unencrypted PKCS#8)
     * into {@code directory} and returns both paths.
     */
    public PemFiles writePem(Path directory, String baseName) {
      requireNonNull(directory, "directory");
      requireNonNull(baseName, "baseName");
      Path chainFile = writeChainPem(directory.resolve(baseName + ".pem"));
      Path keyFile = writeKeyPem(directory.resolve(baseName + ".key"));
      return new PemFiles(chainFile, keyFile);
    }

    /** Prints the subject and serial number only. */
    @Override
    public String toString() {
      return "Credential{"
          + certificate.getSubjectX500Principal().getName()
          + ", serial="
          + certificate.getSerialNumber().toString(16)
          + "}";
    }
  }

  /**
   * The two files written by {@link Credential#writePem}.
   *
   * @param certificateChain the PEM certificate chain, leaf first
   * @param privateKey the PEM PKCS#8 private key
   */
  public record PemFiles(Path certificateChain, Path privateKey) {
    /** Requires both paths. */
    public PemFiles {
      requireNonNull(certificateChain, "certificateChain");
      requireNonNull(privateKey, "privateKey");
    }
  }

  /**
   * Builds one leaf certificate. Defaults: no SANs (add at least one), valid from one hour ago for
   * 90 days, both server and client extended key usage unless one of {@link #serverAuth()} / {@link
   * #clientAuth()} is chosen.
   *
   * <p>Not thread-safe; use one builder per certificate.
   */
  public final class LeafBuilder {
    private final List<CertificateSigner.San> sans = new ArrayList<>();
    private @Nullable String commonName;
    private @Nullable Instant notBefore;
    private @Nullable Instant notAfter;
    private boolean server;
    private boolean client;

    private LeafBuilder() {}

    /** Sets the subject common name (default: the first SAN). */
    public LeafBuilder commonName(String commonName) {
      this.commonName = requireNonNull(commonName, "commonName");
      return this;
    }

    /** Adds a DNS subject alternative name. */
    public LeafBuilder dnsName(String dnsName) {
      sans.add(new CertificateSigner.San(DNS, requireNonNull(dnsName, "dnsName")));
      return this;
    }

    /** Adds an IP address subject alternative name, e.g. {@code 127.0.0.1}. */
    public LeafBuilder ipAddress(String ipAddress) {
      sans.add(new CertificateSigner.San(IP, requireNonNull(ipAddress, "ipAddress")));
      return this;
    }

    /** Adds a URI subject alternative name, e.g. a SPIFFE ID. */
    public LeafBuilder uri(String uri) {
      sans.add(new CertificateSigner.San(URI, requireNonNull(uri, "uri")));
      return this;
    }

    /** Sets the validity period. */
    public LeafBuilder validity(Instant notBefore, Instant notAfter) {
      this.notBefore = requireNonNull(notBefore, "notBefore");
      this.notAfter = requireNonNull(notAfter, "notAfter");
      return this;
    }

    /** Adds the TLS server extended key usage. */
    public LeafBuilder serverAuth() {
      this.server = true;
      return this;
    }

    /** Adds the TLS client extended key usage. */
    public LeafBuilder clientAuth() {
      this.client = true;
      return this;
    }

    /**
     * Generates a key pair and issues the certificate from the intermediate CA.
     *
     * @throws IllegalStateException if no SAN was added
     */
    public Credential issue() {
      if (sans.isEmpty()) {
        throw new IllegalStateException("add at least one SAN (dnsName, ipAddress or uri)");
      }
      Instant now = clock.instant();
      Instant from = notBefore != null ? notBefore : now.minus(Duration.ofHours(1));
      Instant to = notAfter != null ? notAfter : now.plus(LEAF_VALIDITY);
      String cn = commonName != null ? commonName : sans.get(0).value();
      KeyPair keys = generateKeyPair();
      boolean both = !server && !client;
      X509Certificate cert =
          signer.leaf(
              cn,
              keys.getPublic(),
              intermediate,
              intermediateKeys.getPrivate(),
              from,
              to,
              List.copyOf(sans),
              server || both,
              client || both);
      return new Credential(cert, intermediate, keys.getPrivate());
    }
  }

  /**
   * Configures a {@link DevPki}.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private KeyType keyType = KeyType.EC_P256;
    private Clock clock = Clock.systemUTC();
    private String trustDomain = "hipaa-grpc.test";
    private String name = "hipaa-grpc Dev";
    private @Nullable String ocspResponder;

    private Builder() {}

    /**
     * Puts an OCSP responder URL (authority information access) in every certificate issued below
     * the root (default none). This PKI runs no responder: use it to test OCSP failure handling.
     */
    public Builder ocspResponder(String url) {
      this.ocspResponder = requireNonNull(url, "url");
      return this;
    }

    /** Sets the key type (default {@link KeyType#EC_P256}). */
    public Builder keyType(KeyType keyType) {
      this.keyType = requireNonNull(keyType, "keyType");
      return this;
    }

    /** Sets the clock that defines "now" for validity periods (default system UTC). */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the SPIFFE trust domain (default {@code hipaa-grpc.test}). */
    public Builder trustDomain(String trustDomain) {
      requireNonNull(trustDomain, "trustDomain");
      if (!trustDomain.matches("[a-z0-9._-]+")) {
        throw new IllegalArgumentException("trust domain must match [a-z0-9._-]+");
      }
      this.trustDomain = trustDomain.toLowerCase(Locale.ROOT);
      return this;
    }

    /** Sets the name used in the CAs' subject names (default {@code hipaa-grpc Dev}). */
    public Builder name(String name) {
      requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9 ._-]{1,48}")) {
        throw new IllegalArgumentException("name must match [A-Za-z0-9 ._-]{1,48}");
      }
      this.name = name;
      return this;
    }

    /** Generates the root and intermediate CAs. */
    public DevPki build() {
      return new DevPki(this);
    }
  }
}
