package dev.hipaagrpc.examples;

import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.TrustMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CRL;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Everything the example needs on disk, made on first start: a development PKI (DEVELOPMENT ONLY:
 * {@link DevPki}), the demo identity provider's signing key, and the audit keys.
 *
 * <pre>
 * DIR/pki/ca.pem                       trust bundle (dev root CA)
 * DIR/pki/crl.pem                      the CAs' CRLs (checked on every handshake, re-read each minute)
 * DIR/pki/server.pem, server.key       the server's chain and key (localhost, 127.0.0.1)
 * DIR/pki/portal.pem, portal.key       the client portal's certificate (a SPIFFE ID)
 * DIR/pki/foreign.pem, foreign.key     a client certificate from an unrelated CA
 * DIR/idp/signing-key.pem (+ .pub)     the demo identity provider's ES256 key
 * DIR/audit-keys/                      genesis chain key, identifier key, checkpoint key pair
 * DIR/audit/                           the audit log
 * </pre>
 *
 * <p>The server reads whatever PEM files sit in {@code DIR/pki}: put your own PKI there (same file
 * names; {@code crl.pem} optional) and it is used as is. A PKI this class generated carries a
 * marker file and is generated again, whole, when its server certificate is within 30 days of
 * expiry or its CRL within a day of its next update (the throwaway CA's key is never written to
 * disk, so nothing can re-sign them); a PKI without the marker is never touched.
 */
final class DemoEnvironment {

  static final String TRUST_DOMAIN = "demo.hospital.example";
  static final String PORTAL_SPIFFE_ID = "spiffe://" + TRUST_DOMAIN + "/ns/clinical/sa/portal";

  final Path dir;
  final Path pkiDir;
  final Path caPem;
  final Path crlPem;
  private final Path generatedMarker;
  final Path serverPem;
  final Path serverKey;
  final Path portalPem;
  final Path portalKey;
  final Path foreignPem;
  final Path foreignKey;
  final Path idpKey;
  final Path auditDir;
  final Path genesisKey;
  final Path identifierKey;
  final Path checkpointPrivateKey;
  final Path checkpointPublicKey;

  private DemoEnvironment(Path dir) {
    this.dir = dir;
    Path pki = dir.resolve("pki");
    this.pkiDir = pki;
    caPem = pki.resolve("ca.pem");
    crlPem = pki.resolve("crl.pem");
    generatedMarker = pki.resolve(".generated-development-pki");
    serverPem = pki.resolve("server.pem");
    serverKey = pki.resolve("server.key");
    portalPem = pki.resolve("portal.pem");
    portalKey = pki.resolve("portal.key");
    foreignPem = pki.resolve("foreign.pem");
    foreignKey = pki.resolve("foreign.key");
    idpKey = dir.resolve("idp").resolve("signing-key.pem");
    auditDir = dir.resolve("audit");
    Path keys = dir.resolve("audit-keys");
    genesisKey = keys.resolve("genesis-chain.key");
    identifierKey = keys.resolve("identifier-hmac.key");
    checkpointPrivateKey = keys.resolve("checkpoint-ed25519.key");
    checkpointPublicKey = keys.resolve("checkpoint-ed25519.pub");
  }

  /** Loads the environment under {@code dir}, creating whatever is missing. */
  static DemoEnvironment createOrLoad(Path dir) throws IOException {
    DemoEnvironment env = new DemoEnvironment(dir.toAbsolutePath().normalize());
    if (!Files.exists(env.caPem) || env.generatedPkiNeedsRenewal()) {
      DevPki pki = DevPki.newBuilder().trustDomain(TRUST_DOMAIN).name("hipaa-grpc demo").build();
      Files.createDirectories(env.pkiDir);
      pki.writeTrustBundle(env.caPem);
      pki.writeCrls(env.crlPem);
      pki.server().writePem(env.pkiDir, "server");
      pki.client(PORTAL_SPIFFE_ID).writePem(env.pkiDir, "portal");
      pki.foreign().client(PORTAL_SPIFFE_ID).writePem(env.pkiDir, "foreign");
      Files.writeString(
          env.generatedMarker,
          "Written by the hipaa-grpc example (DevPki, DEVELOPMENT ONLY). Delete this file to keep"
              + " the PKI in this directory as it is.\n");
    }
    if (!Files.exists(env.idpKey)) {
      DemoIdentityProvider.writeSigningKey(DemoIdentityProvider.newSigningKey(), env.idpKey);
    }
    if (!Files.exists(env.genesisKey)) {
      Files.createDirectories(env.dir.resolve("audit-keys"));
      AuditKeys.writeSecretKey(env.genesisKey, AuditKeys.newSecretKey());
      AuditKeys.writeSecretKey(env.identifierKey, AuditKeys.newSecretKey());
      KeyPair checkpoint = AuditKeys.newSigningKeyPair();
      AuditKeys.writePrivateKey(env.checkpointPrivateKey, checkpoint.getPrivate());
      AuditKeys.writePublicKey(env.checkpointPublicKey, checkpoint.getPublic());
    }
    return env;
  }

  /** The CRL files to check, if there are any. */
  List<Path> crlFiles() {
    return Files.exists(crlPem) ? List.of(crlPem) : List.of();
  }

  /** A generated PKI close to its server certificate's expiry or its CRL's next update. */
  private boolean generatedPkiNeedsRenewal() throws IOException {
    if (!Files.exists(generatedMarker)) {
      return false;
    }
    if (!Files.exists(crlPem)) {
      return true; // generated before CRLs were part of it
    }
    Instant now = Instant.now();
    try (InputStream leafIn = Files.newInputStream(serverPem);
        InputStream crlIn = Files.newInputStream(crlPem)) {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      X509Certificate leaf = (X509Certificate) x509.generateCertificate(leafIn);
      if (leaf.getNotAfter().toInstant().isBefore(now.plus(Duration.ofDays(30)))) {
        return true;
      }
      for (CRL crl : x509.generateCRLs(crlIn)) {
        Date next = ((X509CRL) crl).getNextUpdate();
        if (next == null || next.toInstant().isBefore(now.plus(Duration.ofDays(1)))) {
          return true;
        }
      }
      return false;
    } catch (GeneralSecurityException e) {
      return true; // unreadable: it was ours, make it again
    }
  }

  KeyPair idpSigningKey() throws IOException {
    return DemoIdentityProvider.readSigningKey(idpKey);
  }

  /** TLS for the demo identity provider's HTTPS endpoints: the server certificate. */
  SSLContext idpServerTls() throws IOException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      PrivateKey key = readPkcs8(serverKey);
      store.setKeyEntry(
          "server",
          key,
          new char[0],
          IdentityMaterial.fromPemFiles(serverPem, serverKey)
              .certificateChain()
              .toArray(new Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(store, new char[0]);
      SSLContext context = SSLContext.getInstance("TLSv1.3");
      context.init(kmf.getKeyManagers(), null, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build the identity provider's TLS context", e);
    }
  }

  /** TLS that trusts the dev root only, for fetching the JWKS. */
  SSLContext trustingDevRoot() throws IOException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (X509Certificate ca : TrustMaterial.fromPemFiles(caPem).trustedCertificates()) {
        store.setCertificateEntry("ca-" + i++, ca);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLSv1.3");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build a TLS context trusting the dev root", e);
    }
  }

  private static PrivateKey readPkcs8(Path pem) throws IOException {
    try (org.bouncycastle.openssl.PEMParser parser =
        new org.bouncycastle.openssl.PEMParser(java.nio.file.Files.newBufferedReader(pem))) {
      if (parser.readObject() instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info) {
        return new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(info);
      }
    }
    throw new IOException("no PKCS#8 private key in " + pem.getFileName());
  }
}
