package dev.hipaagrpc.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;

/** The checkpoint signature and key id, shared by the writer and the verifier. */
final class Checkpoints {

  private Checkpoints() {}

  static String keyId(PublicKey key) {
    byte[] enc = key.getEncoded();
    return Crypto.sha256Hex(enc, 0, enc.length);
  }

  /** The exact bytes a checkpoint signature covers. */
  static byte[] canonical(
      long seq,
      long epoch,
      String prev,
      String reason,
      String time,
      long truncatedBytes,
      String keyId,
      String nextKey) {
    String s =
        "hipaagrpc.audit.checkpoint/1\n"
            + seq
            + "\n"
            + epoch
            + "\n"
            + prev
            + "\n"
            + reason
            + "\n"
            + time
            + "\n"
            + truncatedBytes
            + "\n"
            + keyId
            // Only a KEY_ROTATION names a next key; other checkpoints keep the original layout.
            + (nextKey.isEmpty() ? "" : "\n" + nextKey);
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String sign(PrivateKey key, byte[] data) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(data);
      return Base64.getEncoder().encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign checkpoint with Ed25519", e);
    }
  }

  static boolean verify(PublicKey key, byte[] data, String signatureBase64) {
    try {
      return verify(key, data, Base64.getDecoder().decode(signatureBase64));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  static boolean verify(PublicKey key, byte[] data, byte[] signature) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(data);
      return s.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
