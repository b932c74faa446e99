package dev.hipaagrpc.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.jspecify.annotations.Nullable;

/**
 * PEM reading and writing. Error messages name the file kind and the problem, never the content: a
 * key file's bytes are a secret.
 */
final class Pem {

  // Not registered globally: used only for password-based key encryption, which the JDK's
  // providers do not expose under the OIDs that OpenSSL writes.
  private static final Provider BC = new BouncyCastleProvider();

  private Pem() {}

  static List<X509Certificate> readCertificates(byte[] pem) throws IOException {
    List<X509Certificate> out = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (Reader reader =
            new InputStreamReader(new ByteArrayInputStream(pem), StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        if (o instanceof X509CertificateHolder holder) {
          try {
            out.add(converter.getCertificate(holder));
          } catch (CertificateException e) {
            throw new IOException("malformed certificate in PEM file", e);
          }
        } else {
          throw new IOException("unexpected object in certificate PEM file");
        }
      }
    }
    if (out.isEmpty()) {
      throw new IOException("no certificate in PEM file");
    }
    return out;
  }

  static List<X509CRL> readCrls(byte[] pem) throws IOException {
    List<X509CRL> out = new ArrayList<>();
    JcaX509CRLConverter converter = new JcaX509CRLConverter();
    try (Reader reader =
            new InputStreamReader(new ByteArrayInputStream(pem), StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        if (o instanceof X509CRLHolder holder) {
          try {
            out.add(converter.getCRL(holder));
          } catch (CRLException e) {
            throw new IOException("malformed CRL in PEM file", e);
          }
        } else {
          throw new IOException("unexpected object in CRL PEM file");
        }
      }
    }
    if (out.isEmpty()) {
      throw new IOException("no CRL in PEM file");
    }
    return out;
  }

  /**
   * Reads one private key: PKCS#8 ({@code PRIVATE KEY}), encrypted PKCS#8 ({@code ENCRYPTED PRIVATE
   * KEY}), PKCS#1 ({@code RSA PRIVATE KEY}), SEC1 ({@code EC PRIVATE KEY}), or a legacy
   * OpenSSL-encrypted PKCS#1/SEC1 key.
   */
  static PrivateKey readPrivateKey(byte[] pem, char @Nullable [] password) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    PrivateKey key = null;
    try (Reader reader =
            new InputStreamReader(new ByteArrayInputStream(pem), StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        if (key != null) {
          throw new IOException("more than one object in private key PEM file");
        }
        key = toPrivateKey(o, converter, password);
      }
    }
    if (key == null) {
      throw new IOException("no private key in PEM file");
    }
    return key;
  }

  private static PrivateKey toPrivateKey(
      Object o, JcaPEMKeyConverter converter, char @Nullable [] password) throws IOException {
    try {
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        // SEC1 keys may omit the public key: take the private half alone.
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
        if (password == null) {
          throw new IOException("private key is encrypted and no password was given");
        }
        PrivateKeyInfo info =
            encrypted.decryptPrivateKeyInfo(
                new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password));
        return converter.getPrivateKey(info);
      }
      if (o instanceof PEMEncryptedKeyPair encryptedPair) {
        if (password == null) {
          throw new IOException("private key is encrypted and no password was given");
        }
        PEMKeyPair pair =
            encryptedPair.decryptKeyPair(
                new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password));
        // SEC1 keys may omit the public key: take the private half alone.
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
    } catch (PKCSException | OperatorCreationException | PEMException e) {
      // The cause of a failed decryption may quote key bytes: do not chain it.
      throw new IOException("private key cannot be decoded or decrypted (wrong password?)");
    }
    throw new IOException("PEM file does not hold a private key");
  }

  private static @Nullable Object readObject(PEMParser parser) throws IOException {
    try {
      return parser.readObject();
    } catch (IOException | RuntimeException e) {
      // PEMParser messages can include fragments of the input, which may be key material.
      throw new IOException("malformed PEM file");
    }
  }
}
