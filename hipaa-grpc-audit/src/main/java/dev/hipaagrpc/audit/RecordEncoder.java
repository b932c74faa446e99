package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;

/**
 * Frames a batch of records into one reusable buffer (see {@link Frame}): the body as UTF-8, the
 * HMAC under the epoch key, the newline. The hash that links the next record covers the line
 * without its newline. Not thread-safe: only the sink's writer thread uses it.
 */
final class RecordEncoder {

  private static final byte[] MAC_PREFIX = ",\"mac\":\"".getBytes(UTF_8);

  private final StringBuilder scratch = new StringBuilder(1024);
  private final MessageDigest digest = Crypto.sha256();
  // The batch being framed: [0, len). Reused across batches.
  private byte[] buf = new byte[64 * 1024];
  private int len;

  /** Starts a new batch. */
  void reset() {
    len = 0;
  }

  /** The record prefix in the reusable builder; append the body, then {@link #finish}. */
  StringBuilder start(long seq, long epoch, String prev, String kind) {
    StringBuilder sb = scratch;
    sb.setLength(0);
    return sb.append("{\"seq\":")
        .append(seq)
        .append(",\"epoch\":")
        .append(epoch)
        .append(",\"prev\":\"")
        .append(prev)
        .append("\",\"")
        .append(kind)
        .append("\":");
  }

  /**
   * Frames {@code body} (the builder {@link #start} returned) into the batch and returns the hash
   * that the next record must link to.
   */
  String finish(StringBuilder body, Mac mac) {
    int start = len;
    // Json escapes lone surrogates, so the body always encodes losslessly.
    put(body.toString().getBytes(UTF_8));
    mac.update(buf, start, len - start);
    put(MAC_PREFIX);
    put(Crypto.HEX.formatHex(mac.doFinal()).getBytes(UTF_8));
    ensure(3);
    buf[len++] = '"';
    buf[len++] = '}';
    digest.update(buf, start, len - start);
    String hash = Crypto.HEX.formatHex(digest.digest());
    buf[len++] = '\n';
    return hash;
  }

  /** The framed batch. */
  ByteBuffer bytes() {
    return ByteBuffer.wrap(buf, 0, len);
  }

  /** The batch as text without its final newline: a single checkpoint line, for the hook. */
  String lastBatchLine() {
    return new String(buf, 0, len - 1, UTF_8);
  }

  private void put(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, len, b.length);
    len += b.length;
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
  }
}
