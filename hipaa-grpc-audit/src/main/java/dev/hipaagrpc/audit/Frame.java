package dev.hipaagrpc.audit;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The frame of one log line as {@link RecordEncoder} writes it: {@code {"seq":N,"epoch":E,
 * "prev":"<hex>","event"|"checkpoint":...,"mac":"<hex>"}}. Parsed without a JSON parser so that
 * recovery and the verifier can judge the chain before trusting the content.
 */
final class Frame {

  /** {@code ,"mac":"} + 64 hex + {@code "}}. */
  static final int MAC_SUFFIX = 74;

  private static final Pattern PREFIX =
      Pattern.compile(
          "^\\{\"seq\":(0|[1-9][0-9]{0,18}),\"epoch\":(0|[1-9][0-9]{0,18}),"
              + "\"prev\":\"([0-9a-f]{64})\",\"(event|checkpoint)\":");
  private static final Pattern REASON = Pattern.compile("^\\{\"reason\":\"([A-Z_]+)\"");

  final long seq;
  final long epoch;
  final String prev;
  final boolean checkpoint;
  final @Nullable String reason;

  /** The body is everything before the mac suffix: what the HMAC covers. */
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

  /** Parses the frame of a line, or returns null if it is not framed as our writer frames. */
  static @Nullable Frame parse(byte[] line) {
    int n = line.length;
    if (n < 140) {
      return null;
    }
    String suffix = new String(line, n - MAC_SUFFIX, MAC_SUFFIX, StandardCharsets.ISO_8859_1);
    if (!suffix.startsWith(",\"mac\":\"") || !suffix.endsWith("\"}")) {
      return null;
    }
    String mac = suffix.substring(8, 72);
    if (!Crypto.isLowerHex(mac)) {
      return null;
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
}
