package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;

/**
 * Frames a batch of records into one reusable buffer (see {@link Frame}): the prefix, the body
 * encoded once straight to UTF-8, the HMAC under the epoch key over those bytes, the newline. The
 * hash that links the next record covers the line without its newline; it is kept as hex bytes,
 * ready for the next prefix. The same bytes give the record's RFC 6962 leaf hash, kept for the
 * Merkle tree. No allocation per record. Not thread-safe: only the sink's writer thread uses it.
 */
final class RecordEncoder {

  private static final byte[] SEQ = "{\"seq\":".getBytes(US_ASCII);
  private static final byte[] EPOCH = ",\"epoch\":".getBytes(US_ASCII);
  private static final byte[] PREV = ",\"prev\":\"".getBytes(US_ASCII);
  private static final byte[] EVENT = "\",\"event\":".getBytes(US_ASCII);
  private static final byte[] CHECKPOINT = "\",\"checkpoint\":".getBytes(US_ASCII);
  private static final byte[] MAC_PREFIX = ",\"mac\":\"".getBytes(US_ASCII);
  private static final byte[] MAC_END = "\"}".getBytes(US_ASCII);

  // The batch being framed: [0, length). Reused across batches.
  private final JsonBytes out = new JsonBytes(64 * 1024);
  private final MessageDigest digest = Crypto.sha256();
  private final MessageDigest leafDigest = Crypto.sha256();
  // The batch's RFC 6962 leaf hashes, 32 bytes each: [0, leafCount * 32). Reused across batches.
  private byte[] leaves = new byte[64 * 32];
  private int leafCount;
  private final byte[] macValue = new byte[32];
  private final byte[] hashValue = new byte[32];
  // Hex of the hash the next record links to.
  private final byte[] prevHex = new byte[64];
  private int recordStart;

  RecordEncoder() {
    prevHash(Crypto.ZERO_HASH);
  }

  /** Starts a new batch. */
  void reset() {
    out.reset();
    leafCount = 0;
  }

  /** The leaf hashes of the batch's records, 32 bytes each, in order. */
  byte[] leafHashes() {
    return leaves;
  }

  /** How many records the batch holds. */
  int leafCount() {
    return leafCount;
  }

  /** The hash the next record links to, as hex. */
  String prevHash() {
    return new String(prevHex, US_ASCII);
  }

  /** Sets the hash the next record links to (at start, after recovery, or to roll back). */
  void prevHash(String hex) {
    if (hex.length() != 64 || !Crypto.isLowerHex(hex)) {
      throw new IllegalArgumentException("not a SHA-256 hex");
    }
    System.arraycopy(hex.getBytes(US_ASCII), 0, prevHex, 0, 64);
  }

  /** Writes the record prefix; write the body into the returned buffer, then {@link #finish}. */
  JsonBytes start(long seq, long epoch, boolean checkpoint) {
    recordStart = out.length();
    out.raw(SEQ);
    out.number(seq);
    out.raw(EPOCH);
    out.number(epoch);
    out.raw(PREV);
    out.raw(prevHex);
    out.raw(checkpoint ? CHECKPOINT : EVENT);
    return out;
  }

  /**
   * Ends the record {@link #start} began: appends its HMAC and the newline, and makes its hash the
   * one the next record links to.
   */
  void finish(Mac mac) {
    int start = recordStart;
    mac.update(out.array(), start, out.length() - start);
    try {
      mac.doFinal(macValue, 0);
    } catch (ShortBufferException e) {
      throw new IllegalStateException("HMAC-SHA256 is 32 bytes", e);
    }
    out.raw(MAC_PREFIX);
    out.hex(macValue);
    out.raw(MAC_END);
    digest.update(out.array(), start, out.length() - start);
    try {
      digest.digest(hashValue, 0, 32);
    } catch (DigestException e) {
      throw new IllegalStateException("SHA-256 is 32 bytes", e);
    }
    JsonBytes.hex(hashValue, prevHex, 0);
    if ((leafCount + 1) * 32 > leaves.length) {
      leaves = Arrays.copyOf(leaves, leaves.length * 2);
    }
    leafDigest.update((byte) 0);
    leafDigest.update(out.array(), start, out.length() - start);
    try {
      leafDigest.digest(leaves, leafCount * 32, 32);
    } catch (DigestException e) {
      throw new IllegalStateException("SHA-256 is 32 bytes", e);
    }
    leafCount++;
    out.put('\n');
  }

  /** The framed batch. */
  ByteBuffer bytes() {
    return ByteBuffer.wrap(out.array(), 0, out.length());
  }

  /** The batch as text without its final newline: a single checkpoint line, for the hook. */
  String lastBatchLine() {
    return new String(out.array(), 0, out.length() - 1, UTF_8);
  }
}
