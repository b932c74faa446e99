package dev.hipaagrpc.tls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** Validation shared by the materials and builders; every failure is a fixed reason code. */
final class Certs {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Certs() {}

  /** Checks a private key and the chain it proves, leaf first, at {@code now}. */
  static void checkIdentity(PrivateKey key, List<X509Certificate> chain, Instant now)
      throws MaterialException {
    if (chain.isEmpty()) {
      throw new MaterialException("empty", "certificate chain is empty");
    }
    for (X509Certificate c : chain) {
      checkValidity(c, now);
      checkStrength(c);
    }
    for (int i = 0; i + 1 < chain.size(); i++) {
      X509Certificate child = chain.get(i);
      X509Certificate parent = chain.get(i + 1);
      if (!child.getIssuerX500Principal().equals(parent.getSubjectX500Principal())
          || !verifies(child, parent.getPublicKey())) {
        throw new MaterialException(
            "broken_chain", "certificate " + i + " is not issued by certificate " + (i + 1));
      }
    }
    if (!keyMatches(key, chain.get(0).getPublicKey())) {
      throw new MaterialException(
          "key_mismatch", "private key does not match the leaf certificate");
    }
  }

  /** Checks trust anchors (each currently valid and strong) and CRLs (not past nextUpdate). */
  static void checkTrust(List<X509Certificate> anchors, List<X509CRL> crls, Instant now)
      throws MaterialException {
    if (anchors.isEmpty()) {
      throw new MaterialException("empty", "trust bundle holds no certificate");
    }
    for (X509Certificate c : anchors) {
      checkValidity(c, now);
      checkStrength(c);
    }
    for (X509CRL crl : crls) {
      Date next = crl.getNextUpdate();
      if (crl.getThisUpdate().toInstant().isAfter(now)) {
        throw new MaterialException("not_yet_valid", "CRL thisUpdate is in the future");
      }
      if (next != null && next.toInstant().isBefore(now)) {
        throw new MaterialException("expired", "CRL is past its nextUpdate");
      }
    }
  }

  static void checkValidity(X509Certificate c, Instant now) throws MaterialException {
    if (now.isBefore(c.getNotBefore().toInstant())) {
      throw new MaterialException(
          "not_yet_valid", "certificate " + sha256Prefix(c) + " is not yet valid");
    }
    if (now.isAfter(c.getNotAfter().toInstant())) {
      throw new MaterialException("expired", "certificate " + sha256Prefix(c) + " has expired");
    }
  }

  /** Refuses RSA below 2048 bits, EC below 256 bits, and MD5/SHA-1 signatures on non-roots. */
  static void checkStrength(X509Certificate c) throws MaterialException {
    PublicKey key = c.getPublicKey();
    if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < 2048) {
      throw new MaterialException("weak_key", "RSA key shorter than 2048 bits");
    }
    if (key instanceof ECPublicKey ec
        && ec.getParams().getCurve().getField().getFieldSize() < 256) {
      throw new MaterialException("weak_key", "EC key smaller than 256 bits");
    }
    String alg = c.getSigAlgName().toUpperCase(Locale.ROOT);
    boolean selfSigned = c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
    if (!selfSigned && (alg.contains("MD5") || alg.contains("SHA1"))) {
      throw new MaterialException("weak_key", "certificate signed with MD5 or SHA-1");
    }
  }

  static boolean verifies(X509Certificate child, PublicKey issuerKey) {
    try {
      child.verify(issuerKey);
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Whether {@code key} is the private half of {@code publicKey}: sign and verify a nonce. */
  static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
    String alg;
    String keyAlg = key.getAlgorithm();
    if ("EC".equalsIgnoreCase(keyAlg)) {
      alg = "SHA256withECDSA";
    } else if ("RSA".equalsIgnoreCase(keyAlg)) {
      alg = "SHA256withRSA";
    } else if ("RSASSA-PSS".equalsIgnoreCase(keyAlg)) {
      return false;
    } else {
      alg = keyAlg; // EdDSA: Ed25519 / Ed448 sign with their own name
    }
    if (!keyAlg.equalsIgnoreCase(publicKey.getAlgorithm())) {
      return false;
    }
    byte[] nonce = new byte[32];
    RANDOM.nextBytes(nonce);
    try {
      Signature signer = Signature.getInstance(alg);
      signer.initSign(key);
      signer.update(nonce);
      byte[] sig = signer.sign();
      Signature verifier = Signature.getInstance(alg);
      verifier.initVerify(publicKey);
      verifier.update(nonce);
      return verifier.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is mandatory", e);
    }
  }

  static String sha256Hex(X509Certificate c) {
    try {
      return HexFormat.of().formatHex(sha256(c.getEncoded()));
    } catch (CertificateEncodingException e) {
      return "unencodable";
    }
  }

  /** A short thumbprint for logs: certificates are public, but keep log lines short. */
  static String sha256Prefix(X509Certificate c) {
    String h = sha256Hex(c);
    return "sha256:" + (h.length() > 16 ? h.substring(0, 16) : h);
  }

  /** SHA-256 of the certificate's SubjectPublicKeyInfo, as used by SPKI pinning (RFC 7469). */
  static byte[] spkiSha256(X509Certificate c) {
    return sha256(c.getPublicKey().getEncoded());
  }
}
