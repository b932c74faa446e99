package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Checkpoint;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Safeguard;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tamper-evident audit log (164.312(b) audit controls, 164.312(c) integrity): JSON lines in
 * files {@code audit-<first seq>.jsonl}, each record chained to the previous one by SHA-256,
 * authenticated by an HMAC whose key evolves after every checkpoint, with periodic checkpoints
 * signed with Ed25519.
 *
 * <p><b>Keys.</b> The <em>genesis chain key</em> K<sub>0</sub> (32 random bytes, {@link
 * AuditKeys#newSecretKey()}) is given to the sink once, when it creates a new log, and kept offline
 * by the audit officer; the verifier needs it to check every record's HMAC. The sink keeps only the
 * current key K<sub>i</sub> in its key state file and replaces it at each checkpoint with
 * K<sub>i+1</sub> = SHA-256(label || K<sub>i</sub>), erasing K<sub>i</sub> (Schneier–Kelsey forward
 * security): whoever takes the server learns K<sub>i</sub> and cannot recompute the HMAC of any
 * record of an earlier epoch. The <em>checkpoint signing key</em> (Ed25519) signs each checkpoint;
 * its public key lets anyone check the checkpoints and, through the hash chain, every record before
 * the last checkpoint, without holding any secret.
 *
 * <p><b>Rotation.</b> A file is sealed with a {@code ROTATE} checkpoint when it reaches the size or
 * age limit; the chain continues in the next file. The retention hook receives each sealed file.
 * <b>Crash safety.</b> On start the sink scans the newest file, keeps every record up to the last
 * valid one, moves a torn tail aside to {@code <file>.torn-<millis>} and truncates it, and writes a
 * signed {@code RECOVERED} checkpoint stating how many bytes it removed. A torn tail can only hold
 * records that were never synced, so no acknowledged (synced) event is lost.
 *
 * <p><b>Merkle tree.</b> Beside the chain, every record line is a leaf of an RFC 6962 Merkle tree
 * (leaf i is the record with sequence number i). At each checkpoint record the sink writes the
 * tree's tiles under {@code <directory>/tile/} and a C2SP checkpoint note (origin, tree size,
 * base64 root, Ed25519 note signature) to {@code <directory>/checkpoint}, as c2sp.org/tlog-tiles
 * lays them out, so that standard transparency-log tooling and witnesses can check them; see {@code
 * audit-format.md}. The leaf hashes are computed by the writer thread as it frames each record;
 * tiles and the note are written at checkpoint time only.
 *
 * <p>Not thread-safe: use it from one {@link AuditDispatcher}, whose single writer thread calls it.
 */
public final class ChainedFileSink implements AuditSink {

  private static final Logger logger = LoggerFactory.getLogger(ChainedFileSink.class);
  private static final byte[] REASON = JsonBytes.key("reason");
  private static final byte[] TIME = JsonBytes.key("time");
  private static final byte[] TRUNCATED_BYTES = JsonBytes.key("truncatedBytes");
  private static final byte[] KEY_ID = JsonBytes.key("keyId");
  private static final byte[] NEXT_KEY = JsonBytes.key("nextKey");
  private static final byte[] SIGNATURE = JsonBytes.key("signature");

  private final Path dir;
  private final KeyState keys;
  private final PrivateKey signingKey;
  private final String keyId;
  private final PublicKey signingPublicKey;
  private final @Nullable KeyPair previousSigningKey;
  private final boolean allowUnrecordedKeyChange;
  private final long checkpointEveryRecords;
  private final Duration checkpointInterval;
  private final long rotateBytes;
  private final Duration rotateAge;
  private final Consumer<Path> onSealed;
  private final Consumer<String> onCheckpoint;
  private final Clock clock;
  private final RecordEncoder encoder = new RecordEncoder();
  private final LogTree tree;
  private final Consumer<String> onCheckpointNote;

  private @Nullable FileChannel channel;
  private Path current;
  private long fileSize;
  private long fileOpenedMillis;
  private long seq;
  private long recordsInEpoch;
  private long lastCheckpointMillis;
  private boolean broken;
  private boolean closed;
  // For posture(), read from other threads: the last durable checkpoint and whether writing broke.
  private volatile long checkpointSeq = -1;
  private volatile @Nullable String checkpointTime;
  private volatile boolean brokenSeen;
  private volatile long nextSeq;

  private ChainedFileSink(Builder b) throws IOException {
    this.dir = b.dir;
    this.keys = new KeyState(b.keyStateFile != null ? b.keyStateFile : dir.resolve("chain.key"));
    this.signingKey = requireNonNull(b.signingKey).getPrivate();
    this.keyId = Checkpoints.keyId(b.signingKey.getPublic());
    this.signingPublicKey = b.signingKey.getPublic();
    this.previousSigningKey = b.previousSigningKey;
    this.allowUnrecordedKeyChange = b.allowUnrecordedKeyChange;
    this.checkpointEveryRecords = b.checkpointEveryRecords;
    this.checkpointInterval = b.checkpointInterval;
    this.rotateBytes = b.rotateBytes;
    this.rotateAge = b.rotateAge;
    this.onSealed = b.onSealed;
    this.onCheckpoint = b.onCheckpoint;
    this.clock = b.clock;
    this.tree = new LogTree(dir, b.signingKey, b.origin);
    this.onCheckpointNote = b.onCheckpointNote;
    this.current = dir;
    Files.createDirectories(dir);
    open(b.genesisKey);
  }

  /**
   * Starts a sink writing to {@code directory}. Defaults: checkpoint every 10 000 records or 60 s
   * (whichever first), rotate at 64 MiB or 24 h, key state file {@code <directory>/chain.key}, no
   * retention or checkpoint hooks, {@link Clock#systemUTC()}.
   */
  public static Builder newBuilder(Path directory) {
    return new Builder(requireNonNull(directory, "directory"));
  }

  /** The sequence number the next record will get. */
  public long nextSequence() {
    return seq;
  }

  /**
   * {@code audit.chain} (164.312(c)(1)): the next sequence number, the key epoch, the last durable
   * checkpoint's sequence number and time, the checkpoint signing key's id and the log's origin;
   * WARN while the last write, fsync or checkpoint failed (until the next write reopens the log).
   */
  @Override
  public List<PostureItem> posture() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("format", "hash chain + forward-secure HMAC + RFC 6962 tree, Ed25519 checkpoints");
    v.put("nextSequence", nextSeq);
    v.put("epoch", keys.epoch());
    v.put("lastCheckpointSequence", checkpointSeq);
    String t = checkpointTime;
    v.put("lastCheckpointTime", t == null ? "none" : t);
    v.put("signingKeyId", keyId);
    String origin = tree.origin();
    v.put("origin", origin == null ? "none" : origin);
    return List.of(
        brokenSeen
            ? PostureItem.warn(
                "audit.chain",
                Safeguard.INTEGRITY,
                v,
                "the last write, fsync or checkpoint failed; the next write reopens the log"
                    + " through crash recovery")
            : PostureItem.ok("audit.chain", Safeguard.INTEGRITY, v));
  }

  /** The current key epoch. */
  public long epoch() {
    return keys.epoch();
  }

  @Override
  public void write(List<AuditEvent> events) throws IOException {
    ensureOpen();
    long now = clock.millis();
    if (fileSize >= rotateBytes
        || (fileSize > 0 && now - fileOpenedMillis >= rotateAge.toMillis())) {
      rotate();
    }
    encoder.reset();
    long seq0 = seq;
    String prev0 = encoder.prevHash();
    long records0 = recordsInEpoch;
    long epoch = keys.epoch();
    Mac mac = keys.mac();
    try {
      for (AuditEvent e : events) {
        EventJson.append(encoder.start(seq, epoch, false), e);
        encoder.finish(mac);
        seq++;
        recordsInEpoch++;
      }
      append();
    } catch (IOException | RuntimeException e) {
      seq = seq0;
      encoder.prevHash(prev0);
      recordsInEpoch = records0;
      throw e;
    }
    tree.add(encoder);
    nextSeq = seq;
    if (recordsInEpoch >= checkpointEveryRecords
        || now - lastCheckpointMillis >= checkpointInterval.toMillis()) {
      try {
        checkpoint(Checkpoint.Reason.INTERVAL, 0);
      } catch (IOException | RuntimeException e) {
        // The batch is in the file: throwing would make the dispatcher write it again. The sink
        // is marked broken, so the next call reopens it through recovery, which keeps the batch
        // and writes the checkpoint that failed here (RECOVERED).
        broken = true;
        brokenSeen = true;
        logger.warn(
            "audit checkpoint failed after its batch was written ({}); the log is reopened on"
                + " the next write",
            e.getClass().getName());
      }
    }
  }

  @Override
  public void sync() throws IOException {
    ensureOpen();
    try {
      requireNonNull(channel).force(false);
    } catch (IOException | RuntimeException e) {
      // After a failed fsync the channel's state is unknown: reopen through recovery next time.
      broken = true;
      brokenSeen = true;
      throw e;
    }
  }

  @Override
  public void idle() throws IOException {
    if (closed) {
      return;
    }
    ensureOpen();
    long now = clock.millis();
    if (recordsInEpoch > 0 && now - lastCheckpointMillis >= checkpointInterval.toMillis()) {
      checkpoint(Checkpoint.Reason.INTERVAL, 0);
    }
    if (fileSize > 0 && now - fileOpenedMillis >= rotateAge.toMillis()) {
      rotate();
    }
  }

  /** Writes a signed {@code CLOSE} checkpoint, syncs and closes the file. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      ensureOpen();
      checkpoint(Checkpoint.Reason.CLOSE, 0);
    } finally {
      closed = true;
      FileChannel c = channel;
      channel = null;
      if (c != null) {
        c.close();
      }
      keys.erase();
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("audit sink closed");
    }
    if (broken) {
      FileChannel c = channel;
      channel = null;
      if (c != null) {
        try {
          c.close();
        } catch (IOException e) {
          // Reopening below is what matters.
        }
      }
      open(null);
      broken = false;
      brokenSeen = false;
    }
  }

  /**
   * Appends the framed batch; on failure truncates back so that no partial record stays in the
   * file.
   */
  private void append() throws IOException {
    FileChannel c = requireNonNull(channel);
    long start = fileSize;
    try {
      ByteBuffer bb = encoder.bytes();
      int n = bb.remaining();
      while (bb.hasRemaining()) {
        c.write(bb);
      }
      fileSize += n;
    } catch (IOException | RuntimeException e) {
      try {
        c.truncate(start);
        c.position(start);
      } catch (IOException | RuntimeException e2) {
        broken = true;
        brokenSeen = true;
      }
      throw e;
    }
  }

  private void checkpoint(Checkpoint.Reason reason, long truncatedBytes) throws IOException {
    checkpoint(reason, truncatedBytes, signingKey, keyId, "");
  }

  /** A checkpoint signed by {@code signer}; {@code nextKey} is set for KEY_ROTATION only. */
  private void checkpoint(
      Checkpoint.Reason reason,
      long truncatedBytes,
      PrivateKey signer,
      String signerKeyId,
      String nextKey)
      throws IOException {
    String time = Timestamps.format(clock.millis());
    long epoch = keys.epoch();
    String prev0 = encoder.prevHash();
    String sig =
        Checkpoints.sign(
            signer,
            Checkpoints.canonical(
                seq, epoch, prev0, reason.name(), time, truncatedBytes, signerKeyId, nextKey));
    long seq0 = seq;
    encoder.reset();
    JsonBytes body =
        encoder
            .start(seq, epoch, true)
            .begin()
            .str(REASON, reason.name())
            .str(TIME, time)
            .num(TRUNCATED_BYTES, truncatedBytes);
    if (!nextKey.isEmpty()) {
      body.str(NEXT_KEY, nextKey);
    }
    body.str(KEY_ID, signerKeyId).str(SIGNATURE, sig).end();
    encoder.finish(keys.mac());
    seq++;
    String line = encoder.lastBatchLine();
    try {
      append();
      requireNonNull(channel).force(false);
    } catch (IOException | RuntimeException e) {
      seq = seq0;
      encoder.prevHash(prev0);
      broken = true;
      brokenSeen = true;
      throw e;
    }
    checkpointSeq = seq0;
    checkpointTime = time;
    nextSeq = seq;
    tree.add(encoder);
    if (reason == Checkpoint.Reason.GENESIS) {
      tree.started(encoder.prevHash());
    }
    try {
      evolveKey();
    } catch (IOException | RuntimeException e) {
      // Reopening evolves from the key state file, which still holds this epoch's key.
      broken = true;
      brokenSeen = true;
      throw e;
    }
    try {
      onCheckpoint.accept(line);
    } catch (RuntimeException e) {
      logger.warn("audit checkpoint hook failed ({})", e.getClass().getName());
    }
    String note;
    try {
      note = tree.checkpoint();
    } catch (IOException | RuntimeException e) {
      // Derived data: the log is intact and the next checkpoint writes tiles and note again.
      logger.warn("audit checkpoint note or tiles not written ({})", e.getClass().getName());
      return;
    }
    try {
      onCheckpointNote.accept(note);
    } catch (RuntimeException e) {
      logger.warn("audit checkpoint note hook failed ({})", e.getClass().getName());
    }
  }

  /** A new epoch starts: its record count and checkpoint interval start over. */
  private void evolveKey() throws IOException {
    keys.evolve();
    startEpoch();
  }

  private void setKey(long epoch, byte[] key) {
    keys.set(epoch, key);
    startEpoch();
  }

  private void startEpoch() {
    recordsInEpoch = 0;
    lastCheckpointMillis = clock.millis();
  }

  private void rotate() throws IOException {
    checkpoint(Checkpoint.Reason.ROTATE, 0);
    Path sealed = current;
    FileChannel c = channel;
    channel = null;
    if (c != null) {
      c.close();
    }
    openNewFile();
    try {
      onSealed.accept(sealed);
    } catch (RuntimeException e) {
      logger.warn("audit retention hook failed ({})", e.getClass().getName());
    }
  }

  private void openNewFile() throws IOException {
    Path p = LogFiles.fileFor(dir, seq);
    FileChannel c;
    try {
      c = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      // Left empty by a crash during rotation (recovery removes non-empty ones it cannot use).
      c = FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }
    channel = c;
    current = p;
    fileSize = 0;
    fileOpenedMillis = clock.millis();
    LogFiles.syncDirectory(dir);
  }

  /** Starts a new log with a GENESIS checkpoint, or continues the existing one after recovery. */
  private void open(byte @Nullable [] genesisKey) throws IOException {
    List<Path> files = LogFiles.list(dir);
    KeyState.Stored state = keys.read();
    if (files.isEmpty()) {
      byte[] k;
      if (state != null) {
        if (state.epoch != 0) {
          throw new IllegalStateException(
              "the key state is past genesis but the directory holds no audit log: the log files"
                  + " were removed; investigate before starting a new log in a new directory");
        }
        k = state.key;
      } else {
        if (genesisKey == null) {
          throw new IllegalStateException(
              "a new audit log needs genesisKey(...): generate one with AuditKeys.newSecretKey()"
                  + " and keep a copy offline for the verifier");
        }
        k = genesisKey.clone();
        keys.write(0, k);
      }
      setKey(0, k);
      seq = 0;
      encoder.prevHash(Crypto.ZERO_HASH);
      openNewFile();
      checkpoint(Checkpoint.Reason.GENESIS, 0);
      return;
    }
    if (state == null) {
      throw new IllegalStateException(
          "the audit log exists but its key state file is missing: the chain cannot be continued"
              + " authentically; start a new log in a new directory and investigate");
    }
    setKey(state.epoch, state.key);
    String lastKeyId = LogRecovery.lastKeyId(files);
    boolean rotate = false;
    if (lastKeyId != null && !lastKeyId.equals(keyId)) {
      KeyPair prev = previousSigningKey;
      if (prev != null && Checkpoints.keyId(prev.getPublic()).equals(lastKeyId)) {
        rotate = true;
      } else if (allowUnrecordedKeyChange) {
        logger.error(
            "DANGEROUS: the audit checkpoint signing key changed without a recorded rotation"
                + " (allowUnrecordedSigningKeyChange): verifiers need both keys and the sequence"
                + " number from which the new one signs");
      } else {
        throw new IllegalStateException(
            "the checkpoint signing key is not the one that signed this log's last checkpoint:"
                + " configure rotateSigningKeyFrom(<previous key pair>) so that the old key signs"
                + " the hand-over, or restore the previous key");
      }
    }
    LogRecovery.Tail t = LogRecovery.recover(files, state.epoch, state.key, clock);
    seq = t.lastSeq + 1;
    encoder.prevHash(t.lastHash);
    tree.restore(LogFiles.list(dir), seq);
    if (t.lastCheckpoint && t.lastEpoch == keys.epoch()) {
      // Crashed between writing a checkpoint and evolving the key.
      evolveKey();
    }
    if ("ROTATE".equals(t.lastReason)) {
      openNewFile();
    } else {
      FileChannel c = FileChannel.open(t.file, StandardOpenOption.WRITE);
      c.position(t.validEnd);
      channel = c;
      current = t.file;
      fileSize = t.validEnd;
      fileOpenedMillis = clock.millis();
    }
    KeyPair prev = previousSigningKey;
    if (rotate && prev != null) {
      checkpoint(
          Checkpoint.Reason.KEY_ROTATION,
          0,
          prev.getPrivate(),
          Checkpoints.keyId(prev.getPublic()),
          Base64.getEncoder().encodeToString(signingPublicKey.getEncoded()));
      logger.info("audit checkpoint signing key rotated; the hand-over is signed by the old key");
    }
    boolean clean = "CLOSE".equals(t.lastReason) && t.truncated == 0;
    checkpoint(clean ? Checkpoint.Reason.RESUMED : Checkpoint.Reason.RECOVERED, t.truncated);
  }

  /** Configures a {@link ChainedFileSink}. Not thread-safe. */
  public static final class Builder {
    private final Path dir;
    private @Nullable Path keyStateFile;
    private byte @Nullable [] genesisKey;
    private @Nullable KeyPair signingKey;
    private long checkpointEveryRecords = 10_000;
    private Duration checkpointInterval = Duration.ofSeconds(60);
    private long rotateBytes = 64L * 1024 * 1024;
    private Duration rotateAge = Duration.ofHours(24);
    private Consumer<Path> onSealed = p -> {};
    private Consumer<String> onCheckpoint = l -> {};
    private Consumer<String> onCheckpointNote = n -> {};
    private @Nullable String origin;
    private @Nullable KeyPair previousSigningKey;
    private boolean allowUnrecordedKeyChange;
    private Clock clock = Clock.systemUTC();

    private Builder(Path dir) {
      this.dir = dir;
    }

    /**
     * Sets the genesis chain key K<sub>0</sub> (at least 32 bytes; the first 32 are used), needed
     * only when the directory holds no log yet; ignored afterwards, when the sink continues from
     * its key state file. Copied: erase your copy on the server once the log exists, and keep one
     * offline for the verifier.
     *
     * @throws IllegalArgumentException if shorter than 32 bytes
     */
    public Builder genesisKey(byte[] key) {
      this.genesisKey = Arrays.copyOf(Crypto.requireKey(requireNonNull(key, "key"), "key"), 32);
      return this;
    }

    /** Sets the Ed25519 key pair that signs checkpoints. Required. */
    public Builder signingKey(KeyPair keyPair) {
      requireNonNull(keyPair, "keyPair");
      if (!"Ed25519".equalsIgnoreCase(keyPair.getPrivate().getAlgorithm())
          && !"EdDSA".equalsIgnoreCase(keyPair.getPrivate().getAlgorithm())) {
        throw new IllegalArgumentException("signing key must be Ed25519");
      }
      this.signingKey = keyPair;
      return this;
    }

    /**
     * Where the current chain key is kept. Default {@code <directory>/chain.key}. Put it on storage
     * whose overwritten blocks are not recoverable (tmpfs backed by an encrypted volume, for
     * instance): erasing an old key is only as good as the file system's overwrite.
     */
    public Builder keyStateFile(Path file) {
      this.keyStateFile = requireNonNull(file, "file");
      return this;
    }

    /**
     * Writes a signed checkpoint (and evolves the key) after {@code records} records or {@code
     * interval}, whichever comes first. Defaults 10 000 records, 60 s. Shorter epochs narrow what
     * an intruder can rewrite; each costs one fsync of the log and of the key state.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder checkpointEvery(long records, Duration interval) {
      if (records <= 0 || interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("checkpoint interval must be positive");
      }
      this.checkpointEveryRecords = records;
      this.checkpointInterval = interval;
      return this;
    }

    /**
     * Starts a new file once the current one reaches {@code bytes} or {@code age}. Defaults 64 MiB,
     * 24 h.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder rotateAt(long bytes, Duration age) {
      if (bytes <= 0 || age.isNegative() || age.isZero()) {
        throw new IllegalArgumentException("rotation limits must be positive");
      }
      this.rotateBytes = bytes;
      this.rotateAge = age;
      return this;
    }

    /**
     * The retention hook: receives each file once it is sealed, on the writer thread (archive it to
     * WORM storage, or delete files past the retention period — six years under 164.316(b)(2) for
     * documentation). Default: none. Exceptions are logged and ignored.
     */
    public Builder onSealed(Consumer<Path> hook) {
      this.onSealed = requireNonNull(hook, "hook");
      return this;
    }

    /**
     * Receives each signed checkpoint line as written, on the writer thread: ship it off the host
     * (SIEM, another service) so that the verifier's {@code --anchor} can detect a truncated tail.
     * Default: none. Exceptions are logged and ignored.
     */
    public Builder onCheckpoint(Consumer<String> hook) {
      this.onCheckpoint = requireNonNull(hook, "hook");
      return this;
    }

    /**
     * Receives each signed C2SP checkpoint note (c2sp.org/tlog-checkpoint: origin, tree size,
     * base64 root, Ed25519 signature line) after it was written to {@code <directory>/checkpoint},
     * on the writer thread: hand it to a witness client or ship it off the host. Default: none.
     * Exceptions are logged and ignored.
     */
    public Builder onCheckpointNote(Consumer<String> hook) {
      this.onCheckpointNote = requireNonNull(hook, "hook");
      return this;
    }

    /**
     * The log's origin: the first line of its checkpoint notes and the name of its note key
     * (c2sp.org/tlog-checkpoint), for witnesses and verifiers to tell logs apart. A schema-less URL
     * such as {@code audit.clinic.example/records-1}, no spaces, no {@code +}. Fixed for the life
     * of a log. Default: {@code hipaagrpc.dev/audit/<first 16 hex digits of the SHA-256 of the
     * genesis record>}, unique per log.
     *
     * @throws IllegalArgumentException if empty or containing a space or {@code +}
     */
    public Builder origin(String origin) {
      if (!SignedNotes.validName(requireNonNull(origin, "origin"))) {
        throw new IllegalArgumentException("an origin is non-empty, without spaces or '+'");
      }
      this.origin = origin;
      return this;
    }

    /**
     * Rotates the checkpoint signing key: when the existing log's last checkpoint was signed by
     * {@code previous}, the sink first writes a {@code KEY_ROTATION} checkpoint signed by {@code
     * previous} that names the new key ({@link #signingKey}), so a verifier holding only the old
     * public key follows the hand-over. Ignored when the log's last checkpoint is already signed by
     * the new key. Default: none.
     */
    public Builder rotateSigningKeyFrom(KeyPair previous) {
      this.previousSigningKey = requireNonNull(previous, "previous");
      return this;
    }

    /**
     * DANGEROUS: starts even when the signing key is not the one that signed the log's last
     * checkpoint and no rotation is configured, with an ERROR in the log, instead of refusing to
     * start. Nothing in the log then says where the key changed: verifiers need both public keys
     * and {@link AuditVerifier.Builder#signingKeyFrom}. Default false.
     */
    public Builder allowUnrecordedSigningKeyChange(boolean allow) {
      this.allowUnrecordedKeyChange = allow;
      return this;
    }

    /** Sets the clock for timestamps and intervals. Default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Opens the log: creates it (with a {@code GENESIS} checkpoint), or continues it after
     * recovering from a crash.
     *
     * @throws IllegalStateException if no signing key was set, if a new log has no genesis key, or
     *     if an existing log has lost its key state
     * @throws IOException if the directory cannot be read or written
     */
    public ChainedFileSink build() throws IOException {
      if (signingKey == null) {
        throw new IllegalStateException(
            "signingKey(...) is required: generate one with AuditKeys.newSigningKeyPair()");
      }
      return new ChainedFileSink(this);
    }
  }
}
