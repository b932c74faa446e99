package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The writer's Merkle tree over the log and its checkpoint notes: the tree grows by the leaf hashes
 * the encoder computed for each written batch; at each checkpoint record its tiles are written
 * under {@code <dir>/tile/} and a C2SP checkpoint note (origin, size, root, Ed25519 signature) to
 * {@code <dir>/checkpoint}, the layout of c2sp.org/tlog-tiles. Tiles and note are derived data:
 * written atomically but not synced; on start the tree is restored from the tiles at the note's
 * size, checked against the note's root, and completed from the log lines after it. Not
 * thread-safe: the sink's writer thread only.
 */
final class LogTree {

  static final String NOTE_FILE = "checkpoint";
  static final String DEFAULT_ORIGIN_PREFIX = "hipaagrpc.dev/audit/";

  private final Path dir;
  private final KeyPair signing;
  private final @Nullable String configuredOrigin;
  private final MerkleTree tree;
  private volatile @Nullable String origin; // read by the sink's posture from other threads

  LogTree(Path dir, KeyPair signing, @Nullable String origin) {
    this.dir = dir;
    this.signing = signing;
    this.configuredOrigin = origin;
    this.tree = new MerkleTree(new Tiles(dir), true);
  }

  /** The default origin of a log: derived from its genesis record, so unique per log. */
  static String defaultOrigin(String genesisLineHashHex) {
    return DEFAULT_ORIGIN_PREFIX + genesisLineHashHex.substring(0, 16);
  }

  long size() {
    return tree.size();
  }

  @Nullable String origin() {
    return origin;
  }

  /** Appends the leaf hashes of a written batch. */
  void add(RecordEncoder encoder) {
    tree.add(encoder.leafHashes(), 0, encoder.leafCount());
  }

  /** A new log: its genesis record (hashing to {@code genesisHashHex}) was just written. */
  void started(String genesisHashHex) {
    origin = configuredOrigin != null ? configuredOrigin : defaultOrigin(genesisHashHex);
  }

  /**
   * Writes the tiles for the current size and the signed checkpoint note; returns the note.
   *
   * @throws IOException if a tile or the note cannot be written (the tree is unchanged then)
   */
  String checkpoint() throws IOException {
    String o = origin;
    if (o == null) {
      throw new IllegalStateException("the log's origin is not known yet");
    }
    byte[] root = tree.root();
    tree.writePartials();
    String note =
        SignedNotes.sign(
            SignedNotes.checkpointText(o, tree.size(), root),
            o,
            signing.getPrivate(),
            signing.getPublic());
    Path file = dir.resolve(NOTE_FILE);
    Path tmp = dir.resolve(NOTE_FILE + ".tmp");
    Files.writeString(tmp, note, UTF_8);
    LogFiles.replace(tmp, file);
    return note;
  }

  /**
   * Rebuilds the tree over the {@code size} records of the recovered log in {@code files}.
   *
   * @throws IllegalStateException if the note is ahead of the log, names another origin than the
   *     configured one, or if the tree cannot be rebuilt (tiles missing and the head pruned)
   */
  void restore(List<Path> files, long size) throws IOException {
    tree.reset();
    long from = 0;
    SignedNotes.Checkpoint cp = readNote(dir);
    if (cp != null) {
      if (configuredOrigin != null && !configuredOrigin.equals(cp.origin())) {
        throw new IllegalStateException(
            "the log's checkpoint note names another origin than origin(...): a log keeps its"
                + " origin for life; configure the one in "
                + dir.resolve(NOTE_FILE));
      }
      if (cp.size() > size) {
        throw new IllegalStateException(
            "the log's checkpoint note covers "
                + cp.size()
                + " records but the log holds "
                + size
                + ": records were removed; keep this directory as evidence, verify it and start a"
                + " new log in a new directory");
      }
      origin = cp.origin();
      if (tree.restore(cp.size()) && Arrays.equals(tree.root(), cp.root())) {
        from = cp.size();
      } else {
        tree.reset();
      }
    }
    long firstSeq = LogFiles.firstSeq(files.get(0));
    if (from == 0 && firstSeq != 0) {
      throw new IllegalStateException(
          "the Merkle tiles of the last checkpoint are missing or damaged and the log's head was"
              + " pruned, so the tree cannot be rebuilt; restore "
              + dir.resolve("tile")
              + " from a copy");
    }
    if (origin == null) {
      origin = configuredOrigin;
    }
    hashLines(files, from, size);
  }

  /** Adds the leaf hashes of records {@code [from, to)}, read from the log files. */
  private void hashLines(List<Path> files, long from, long to) throws IOException {
    if (from >= to) {
      return;
    }
    int i = files.size() - 1;
    while (i > 0 && LogFiles.firstSeq(files.get(i)) > from) {
      i--;
    }
    long seq = LogFiles.firstSeq(files.get(i));
    for (; i < files.size() && seq < to; i++) {
      seq = LogFiles.firstSeq(files.get(i));
      try (InputStream in = Files.newInputStream(files.get(i))) {
        LineReader r = new LineReader(in);
        byte @Nullable [] line;
        while (seq < to && (line = r.next()) != null) {
          if (seq == 0 && origin == null) {
            origin = defaultOrigin(Crypto.sha256Hex(line, 0, line.length));
          }
          if (seq >= from) {
            byte[] h = Merkle.leafHash(line, 0, line.length);
            tree.add(h, 0, 1);
          }
          seq++;
        }
      }
    }
    if (tree.size() != to) {
      throw new IllegalStateException(
          "the log files hold fewer records than recovery found; run the verifier");
    }
  }

  /** The checkpoint note in {@code dir}, parsed (its signature is not checked), or null. */
  static SignedNotes.@Nullable Checkpoint readNote(Path dir) throws IOException {
    Path file = dir.resolve(NOTE_FILE);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    SignedNotes.Note n = SignedNotes.parse(Files.readString(file, UTF_8));
    return n == null ? null : SignedNotes.checkpoint(n.text());
  }
}
