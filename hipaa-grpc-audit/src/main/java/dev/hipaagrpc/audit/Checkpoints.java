package dev.hipaagrpc.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** The record framing and checkpoint signature shared by the writer and the verifier. */
final class Checkpoints {

  /** {@code ,"mac":"} + 64 hex + {@code "}}. */
  static final int MAC_SUFFIX = 74;

  static final Pattern PREFIX =
      Pattern.compile(
          "^\\{\"seq\":(0|[1-9][0-9]{0,18}),\"epoch\":(0|[1-9][0-9]{0,18}),"
              + "\"prev\":\"([0-9a-f]{64})\",\"(event|checkpoint)\":");
  static final Pattern REASON = Pattern.compile("^\\{\"reason\":\"([A-Z_]+)\"");
  static final Pattern FILE_NAME = Pattern.compile("audit-([0-9]{20})\\.jsonl");

  private Checkpoints() {}

  /** The parsed frame of a line; the body is everything before the mac suffix. */
  static final class Frame {
    final long seq;
    final long epoch;
    final String prev;
    final boolean checkpoint;
    final @Nullable String reason;
    final int bodyLength;
    final String mac;

    private Frame(
        long seq,
        long epoch,
        String prev,
        boolean checkpoint,
        @Nullable String reason,
        int bodyLength,
        String mac) {
      this.seq = seq;
      this.epoch = epoch;
      this.prev = prev;
      this.checkpoint = checkpoint;
      this.reason = reason;
      this.bodyLength = bodyLength;
      this.mac = mac;
    }
  }

  /** Parses the frame of a line, or returns null if it is not framed as our writer frames. */
  static @Nullable Frame frame(byte[] line) {
    int n = line.length;
    if (n < 140) {
      return null;
    }
    String suffix = new String(line, n - MAC_SUFFIX, MAC_SUFFIX, StandardCharsets.ISO_8859_1);
    if (!suffix.startsWith(",\"mac\":\"") || !suffix.endsWith("\"}")) {
      return null;
    }
    String mac = suffix.substring(8, 72);
    for (int i = 0; i < mac.length(); i++) {
      char c = mac.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return null;
      }
    }
    String head = new String(line, 0, Math.min(n, 200), StandardCharsets.ISO_8859_1);
    Matcher m = PREFIX.matcher(head);
    if (!m.find()) {
      return null;
    }
    boolean checkpoint = m.group(4).equals("checkpoint");
    String reason = null;
    if (checkpoint) {
      Matcher r = REASON.matcher(head.substring(m.end()));
      if (r.find()) {
        reason = r.group(1);
      }
    }
    try {
      return new Frame(
          Long.parseLong(m.group(1)),
          Long.parseLong(m.group(2)),
          m.group(3),
          checkpoint,
          reason,
          n - MAC_SUFFIX,
          mac);
    } catch (NumberFormatException e) {
      return null;
    }
  }

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
      String keyId) {
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
            + keyId;
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
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(data);
      return s.verify(Base64.getDecoder().decode(signatureBase64));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
