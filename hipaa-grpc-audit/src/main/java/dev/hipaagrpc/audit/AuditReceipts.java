package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Receipts: self-contained proofs that one audit record is in the log, checkable offline by a
 * patient, an investigator or OCR with the log's public key alone. A receipt is a
 * c2sp.org/tlog-proof ({@code c2sp.org/tlog-proof@v1}): an {@code extra} line holding the record
 * line (base64), the record's {@code index} (its sequence number), the RFC 6962 inclusion proof
 * (one base64 hash a line) and, after an empty line, the signed checkpoint note it proves inclusion
 * in, verbatim (with any witness cosignatures). See {@code audit-format.md}.
 *
 * <p>Receipts are made from the log directory's tiles and latest checkpoint note, so a record is
 * provable once a checkpoint after it was written. Stateless and thread-safe.
 */
public final class AuditReceipts {

  static final String HEADER = "c2sp.org/tlog-proof@v1";
  private static final Pattern EVENT_ID = Pattern.compile("[0-9A-Za-z_-]{1,64}");
  private static final Pattern INDEX = Pattern.compile("index (0|[1-9][0-9]{0,18})");

  /**
   * A receipt that verified. Immutable.
   *
   * @param origin the log's origin (first line of the checkpoint note)
   * @param seq the record's sequence number
   * @param treeSize the size of the tree the record was proven in
   * @param record the record line (JSON, as in the log)
   * @param note the checkpoint note the receipt carries
   */
  public record Verified(String origin, long seq, long treeSize, String record, String note) {}

  private AuditReceipts() {}

  /**
   * Makes the receipt of the record with sequence number {@code seq} against the latest checkpoint
   * note in {@code directory}.
   *
   * @throws IOException if the log or its tiles cannot be read
   * @throws IllegalStateException if the record is not covered by a checkpoint note yet, or the
   *     tiles the proof needs are missing
   */
  public static String create(Path directory, long seq) throws IOException {
    requireNonNull(directory, "directory");
    String note = Files.readString(directory.resolve(LogTree.NOTE_FILE), UTF_8);
    SignedNotes.Note n = SignedNotes.parse(note);
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    if (cp == null) {
      throw new IllegalStateException("the log's checkpoint note is unreadable");
    }
    if (seq < 0 || seq >= cp.size()) {
      throw new IllegalStateException(
          "record seq "
              + seq
              + " is not covered by the latest checkpoint note (tree size "
              + cp.size()
              + "); it is after the next checkpoint");
    }
    byte[] line = line(directory, seq);
    List<byte[]> proof =
        Merkle.inclusionProof(seq, cp.size(), new TileHashes(new Tiles(directory), cp.size()));
    if (!Merkle.verifyInclusion(
        seq, cp.size(), Merkle.leafHash(line, 0, line.length), proof, cp.root())) {
      throw new IllegalStateException(
          "the record and the tiles do not reproduce the checkpoint's root: run the verifier");
    }
    StringBuilder out = new StringBuilder(HEADER).append('\n');
    out.append("extra ").append(Base64.getEncoder().encodeToString(line)).append('\n');
    out.append("index ").append(seq).append('\n');
    for (byte[] h : proof) {
      out.append(Base64.getEncoder().encodeToString(h)).append('\n');
    }
    return out.append('\n').append(note).toString();
  }

  /**
   * Makes the receipt of the event with id {@code eventId} (see {@link #create}).
   *
   * @throws IllegalArgumentException if the id is malformed or no record holds it
   */
  public static String forEvent(Path directory, String eventId) throws IOException {
    if (!EVENT_ID.matcher(requireNonNull(eventId, "eventId")).matches()) {
      throw new IllegalArgumentException("not an event id");
    }
    byte[] needle = ("\"eventId\":\"" + eventId + "\"").getBytes(UTF_8);
    for (Path f : LogFiles.list(requireNonNull(directory, "directory"))) {
      long seq = LogFiles.firstSeq(f);
      try (InputStream in = Files.newInputStream(f)) {
        LineReader r = new LineReader(in);
        byte @Nullable [] l;
        while ((l = r.next()) != null) {
          if (contains(l, needle)) {
            return create(directory, seq);
          }
          seq++;
        }
      }
    }
    throw new IllegalArgumentException("no record holds that event id");
  }

  /**
   * Verifies a receipt against the log's checkpoint public key: the note's Ed25519 signature under
   * its origin, the record's sequence number, and the inclusion proof to the note's root.
   * Cosignatures other than the log's are not checked here.
   *
   * @throws IllegalArgumentException if the receipt does not verify, saying why
   */
  public static Verified verify(String receipt, PublicKey logKey) {
    requireNonNull(receipt, "receipt");
    requireNonNull(logKey, "logKey");
    int blank = receipt.indexOf("\n\n");
    if (!receipt.startsWith(HEADER + "\n") || blank < 0) {
      throw new IllegalArgumentException("not a c2sp.org/tlog-proof@v1 receipt");
    }
    String[] head = receipt.substring(0, blank).split("\n", -1);
    String note = receipt.substring(blank + 2);
    if (head.length < 3 || !head[1].startsWith("extra ")) {
      throw new IllegalArgumentException("the receipt carries no record (extra line)");
    }
    byte[] line;
    try {
      line = Base64.getDecoder().decode(head[1].substring(6));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the receipt's extra line is not base64", e);
    }
    var m = INDEX.matcher(head[2]);
    if (!m.matches()) {
      throw new IllegalArgumentException("the receipt's index line is malformed");
    }
    long index = Long.parseLong(m.group(1));
    List<byte[]> proof = new ArrayList<>();
    for (int i = 3; i < head.length; i++) {
      byte[] h;
      try {
        h = Base64.getDecoder().decode(head[i]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("a proof line is not base64", e);
      }
      if (h.length != 32) {
        throw new IllegalArgumentException("a proof line is not a SHA-256 hash");
      }
      proof.add(h);
    }
    SignedNotes.Note n = SignedNotes.parse(note);
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    if (n == null || cp == null) {
      throw new IllegalArgumentException("the receipt's checkpoint note is malformed");
    }
    if (!SignedNotes.verify(n, cp.origin(), logKey)) {
      throw new IllegalArgumentException(
          "the checkpoint note is not signed by this log key under its origin");
    }
    Frame f = Frame.parse(line);
    if (f == null || f.seq != index) {
      throw new IllegalArgumentException("the record's sequence number is not the proof's index");
    }
    if (!Merkle.verifyInclusion(
        index, cp.size(), Merkle.leafHash(line, 0, line.length), proof, cp.root())) {
      throw new IllegalArgumentException(
          "the inclusion proof does not lead to the checkpoint's root: the record is not in it");
    }
    return new Verified(cp.origin(), index, cp.size(), new String(line, UTF_8), note);
  }

  /**
   * The RFC 6962 consistency proof from the tree of {@code oldSize} to that of {@code newSize},
   * read from the directory's tiles (a checkpointed size's partial tiles, or the full tiles that
   * replaced them).
   */
  static List<byte[]> consistencyProof(Path directory, long oldSize, long newSize) {
    return Merkle.consistencyProof(oldSize, newSize, new TileHashes(new Tiles(directory), newSize));
  }

  private static byte[] line(Path directory, long seq) throws IOException {
    Path file = null;
    for (Path f : LogFiles.list(directory)) {
      if (LogFiles.firstSeq(f) <= seq) {
        file = f;
      }
    }
    if (file == null) {
      throw new IllegalStateException("the log no longer holds record seq " + seq);
    }
    long at = LogFiles.firstSeq(file);
    try (InputStream in = Files.newInputStream(file)) {
      LineReader r = new LineReader(in);
      byte @Nullable [] l;
      while ((l = r.next()) != null) {
        if (at == seq) {
          return l;
        }
        at++;
      }
    }
    throw new IllegalStateException("the log no longer holds record seq " + seq);
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
