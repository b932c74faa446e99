package dev.hipaagrpc.testing;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * Every X.509 construction of the development PKI, through BouncyCastle, so that {@link DevPki}'s
 * public API speaks JDK types only. Thread-safe (stateless but for a thread-safe random).
 */
final class CertificateSigner {

  /** A subject alternative name, by kind. */
  record San(Kind kind, String value) {
    enum Kind {
      DNS,
      IP,
      URI
    }

    GeneralName toGeneralName() {
      int tag =
          switch (kind) {
            case DNS -> GeneralName.dNSName;
            case IP -> GeneralName.iPAddress;
            case URI -> GeneralName.uniformResourceIdentifier;
          };
      return new GeneralName(tag, value);
    }
  }

  private static final String ORGANIZATION = "hipaa-grpc development";

  private final String signatureAlgorithm;
  private final @Nullable String ocspResponder;
  private final SecureRandom random;

  CertificateSigner(
      String signatureAlgorithm, @Nullable String ocspResponder, SecureRandom random) {
    this.signatureAlgorithm = signatureAlgorithm;
    this.ocspResponder = ocspResponder;
    this.random = random;
  }

  /**
   * A CA certificate, self-signed when {@code issuer} is null.
   *
   * @param pathLength how many CAs may follow it in a chain
   */
  X509Certificate ca(
      String commonName,
      PublicKey subjectKey,
      @Nullable X509Certificate issuer,
      PrivateKey issuerKey,
      Instant notBefore,
      Instant notAfter,
      int pathLength) {
    List<Extension> extensions = new ArrayList<>();
    extensions.add(extension(Extension.basicConstraints, true, new BasicConstraints(pathLength)));
    extensions.add(
        extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)));
    return sign(name(commonName), subjectKey, issuer, issuerKey, notBefore, notAfter, extensions);
  }

  /** A leaf certificate with the given SANs and extended key usages. */
  X509Certificate leaf(
      String commonName,
      PublicKey subjectKey,
      X509Certificate issuer,
      PrivateKey issuerKey,
      Instant notBefore,
      Instant notAfter,
      List<San> sans,
      boolean serverAuth,
      boolean clientAuth) {
    boolean rsa = "RSA".equals(subjectKey.getAlgorithm());
    List<KeyPurposeId> purposes = new ArrayList<>(2);
    if (serverAuth) {
      purposes.add(KeyPurposeId.id_kp_serverAuth);
    }
    if (clientAuth) {
      purposes.add(KeyPurposeId.id_kp_clientAuth);
    }
    List<Extension> extensions = new ArrayList<>();
    extensions.add(extension(Extension.basicConstraints, true, new BasicConstraints(false)));
    extensions.add(
        extension(
            Extension.keyUsage,
            true,
            new KeyUsage(
                rsa
                    ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                    : KeyUsage.digitalSignature)));
    extensions.add(
        extension(
            Extension.extendedKeyUsage,
            false,
            new ExtendedKeyUsage(purposes.toArray(new KeyPurposeId[0]))));
    extensions.add(
        extension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(sans.stream().map(San::toGeneralName).toArray(GeneralName[]::new))));
    return sign(name(commonName), subjectKey, issuer, issuerKey, notBefore, notAfter, extensions);
  }

  /** A CRL of {@code issuer} listing {@code revoked} (serial to revocation time), valid 7 days. */
  X509CRL crl(
      X509Certificate issuer,
      PrivateKey issuerKey,
      Map<BigInteger, Instant> revoked,
      Instant now,
      long number) {
    try {
      X509v2CRLBuilder b = new JcaX509v2CRLBuilder(issuer, Date.from(now.minusSeconds(60)));
      b.setNextUpdate(Date.from(now.plus(Duration.ofDays(7))));
      for (Map.Entry<BigInteger, Instant> e : revoked.entrySet()) {
        b.addCRLEntry(e.getKey(), Date.from(e.getValue()), CRLReason.keyCompromise);
      }
      b.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer.getPublicKey()));
      b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(number)));
      return new JcaX509CRLConverter().getCRL(b.build(signer(issuerKey)));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("CRL generation failed", e);
    }
  }

  private X509Certificate sign(
      X500Name subject,
      PublicKey subjectKey,
      @Nullable X509Certificate issuer,
      PrivateKey issuerKey,
      Instant notBefore,
      Instant notAfter,
      List<Extension> extensions) {
    try {
      BigInteger serial = new BigInteger(127, random).add(BigInteger.ONE);
      X500Name issuerName =
          issuer == null
              ? subject
              : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              issuerName, serial, Date.from(notBefore), Date.from(notAfter), subject, subjectKey);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      b.addExtension(
          Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
      b.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          issuer == null
              ? utils.createAuthorityKeyIdentifier(subjectKey)
              : utils.createAuthorityKeyIdentifier(issuer));
      for (Extension e : extensions) {
        b.addExtension(e);
      }
      String ocsp = ocspResponder;
      if (issuer != null && ocsp != null) {
        b.addExtension(
            Extension.authorityInfoAccess,
            false,
            new AuthorityInformationAccess(
                new AccessDescription(
                    AccessDescription.id_ad_ocsp,
                    new GeneralName(GeneralName.uniformResourceIdentifier, ocsp))));
      }
      return new JcaX509CertificateConverter().getCertificate(b.build(signer(issuerKey)));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("certificate generation failed", e);
    }
  }

  /**
   * {@code CN=<commonName>,O=hipaa-grpc development}, the values as UTF8Strings: built, not parsed
   * from a DN string, so no character of the name needs escaping.
   */
  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, new DERUTF8String(commonName))
        .addRDN(BCStyle.O, new DERUTF8String(ORGANIZATION))
        .build();
  }

  private static Extension extension(
      ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
    try {
      return Extension.create(oid, critical, value);
    } catch (IOException e) {
      throw new IllegalStateException("extension encoding failed", e);
    }
  }

  private ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm).setSecureRandom(random).build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("signer creation failed", e);
    }
  }
}
