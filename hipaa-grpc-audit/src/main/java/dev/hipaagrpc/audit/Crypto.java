package dev.hipaagrpc.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Hashes, MACs and the forward-secure key evolution shared by the writer and the verifier. */
final class Crypto {

  static final HexFormat HEX = HexFormat.of();
  static final String ZERO_HASH = "0".repeat(64);
  private static final byte[] EVOLVE_LABEL =
      "hipaagrpc.audit/chain-key-evolve/1".getBytes(StandardCharsets.US_ASCII);

  private Crypto() {}

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  static Mac hmac(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** K_{i+1} = SHA-256(label || K_i): one-way, so K_{i+1} reveals nothing about K_i. */
  static byte[] evolve(byte[] key) {
    MessageDigest md = sha256();
    md.update(EVOLVE_LABEL);
    return md.digest(key);
  }

  /** Returns K_epoch from K_0 (the verifier's view). */
  static byte[] keyForEpoch(byte[] genesisKey, long epoch) {
    byte[] k = genesisKey.clone();
    for (long i = 0; i < epoch; i++) {
      byte[] next = evolve(k);
      Arrays.fill(k, (byte) 0);
      k = next;
    }
    return k;
  }

  static String sha256Hex(byte[] data, int off, int len) {
    MessageDigest md = sha256();
    md.update(data, off, len);
    return HEX.formatHex(md.digest());
  }

  /** Whether {@code s} is lower-case hex only (the one spelling our formats allow). */
  static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  static boolean hexEquals(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
  }

  static byte[] requireKey(byte[] key, String name) {
    if (key.length < 32) {
      throw new IllegalArgumentException(name + " must be at least 32 bytes");
    }
    return key.clone();
  }
}
