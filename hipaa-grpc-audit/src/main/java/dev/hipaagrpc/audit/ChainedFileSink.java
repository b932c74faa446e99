package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.Checkpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.stream.Stream;
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
 * <p>Not thread-safe: use it from one {@link AuditDispatcher}, whose single writer thread calls it.
 */
public final class ChainedFileSink implements AuditSink {

  private static final Logger logger = LoggerFactory.getLogger(ChainedFileSink.class);
  private static final String STATE_HEADER = "hipaagrpc-audit-chain-key/1";

  private final Path dir;
  private final Path keyStateFile;
  private final PrivateKey signingKey;
  private final String keyId;
  private final long checkpointEveryRecords;
  private final Duration checkpointInterval;
  private final long rotateBytes;
  private final Duration rotateAge;
  private final Consumer<Path> onSealed;
  private final Consumer<String> onCheckpoint;
  private final Clock clock;

  private @Nullable FileChannel channel;
  private Path current;
  private long fileSize;
  private long fileOpenedMillis;
  private long seq;
  private String prevHash = Crypto.ZERO_HASH;
  private long epoch;
  private byte[] key;
  private Mac mac;
  private long recordsInEpoch;
  private long lastCheckpointMillis;
  private boolean broken;
  private boolean closed;
  private final StringBuilder scratch = new StringBuilder(1024);
  private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();
  // The batch being framed: [0, len). Reused across batches; only the writer thread uses it.
  private byte[] buf = new byte[64 * 1024];
  private int len;
  private final MessageDigest digest = Crypto.sha256();

  private ChainedFileSink(Builder b) throws IOException {
    this.dir = b.dir;
    this.keyStateFile = b.keyStateFile != null ? b.keyStateFile : dir.resolve("chain.key");
    this.signingKey = requireNonNull(b.signingKey).getPrivate();
    this.keyId = Checkpoints.keyId(b.signingKey.getPublic());
    this.checkpointEveryRecords = b.checkpointEveryRecords;
    this.checkpointInterval = b.checkpointInterval;
    this.rotateBytes = b.rotateBytes;
    this.rotateAge = b.rotateAge;
    this.onSealed = b.onSealed;
    this.onCheckpoint = b.onCheckpoint;
    this.clock = b.clock;
    this.current = dir;
    this.key = new byte[32];
    this.mac = Crypto.hmac(key);
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

  /** The current key epoch. */
  public long epoch() {
    return epoch;
  }

  // ---------------------------------------------------------------- writing

  @Override
  public void write(List<AuditEvent> events) throws IOException {
    ensureOpen();
    long now = clock.millis();
    if (fileSize >= rotateBytes
        || (fileSize > 0 && now - fileOpenedMillis >= rotateAge.toMillis())) {
      rotate();
    }
    len = 0;
    long seq0 = seq;
    String prev0 = prevHash;
    long records0 = recordsInEpoch;
    for (AuditEvent e : events) {
      StringBuilder sb = startRecord("event");
      EventJson.append(sb, e);
      finishRecord(sb);
      recordsInEpoch++;
    }
    try {
      append();
    } catch (IOException | RuntimeException e) {
      seq = seq0;
      prevHash = prev0;
      recordsInEpoch = records0;
      throw e;
    }
    if (recordsInEpoch >= checkpointEveryRecords
        || now - lastCheckpointMillis >= checkpointInterval.toMillis()) {
      checkpoint(Checkpoint.Reason.INTERVAL, 0);
    }
  }

  @Override
  public void sync() throws IOException {
    ensureOpen();
    requireNonNull(channel).force(false);
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
      Arrays.fill(key, (byte) 0);
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
    }
  }

  /** The record prefix, in the reusable builder (only the writer thread calls the sink). */
  private StringBuilder startRecord(String kind) {
    StringBuilder sb = scratch;
    sb.setLength(0);
    return sb.append("{\"seq\":")
        .append(seq)
        .append(",\"epoch\":")
        .append(epoch)
        .append(",\"prev\":\"")
        .append(prevHash)
        .append("\",\"")
        .append(kind)
        .append("\":");
  }

  /**
   * Frames one record into the batch buffer: the body as UTF-8, the HMAC under the epoch key, the
   * newline; advances the chain (the hash covers the line without its newline). Encodes straight
   * into the reusable buffer: no per-record String or array copies.
   */
  private void finishRecord(StringBuilder body) {
    int start = len;
    putUtf8(body);
    mac.update(buf, start, len - start);
    byte[] tag = mac.doFinal();
    putAscii(",\"mac\":\"");
    ensure(tag.length * 2 + 3);
    for (byte b : tag) {
      buf[len++] = (byte) HEX_DIGITS[(b >> 4) & 0xf];
      buf[len++] = (byte) HEX_DIGITS[b & 0xf];
    }
    buf[len++] = '"';
    buf[len++] = '}';
    digest.update(buf, start, len - start);
    prevHash = Crypto.HEX.formatHex(digest.digest());
    buf[len++] = '\n';
    seq++;
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
  }

  private void putAscii(String s) {
    ensure(s.length());
    for (int i = 0; i < s.length(); i++) {
      buf[len++] = (byte) s.charAt(i);
    }
  }

  /** UTF-8 of a string whose surrogates are paired (Json escapes lone ones). */
  private void putUtf8(CharSequence cs) {
    int n = cs.length();
    ensure(n * 3);
    for (int i = 0; i < n; i++) {
      char c = cs.charAt(i);
      if (c < 0x80) {
        buf[len++] = (byte) c;
      } else if (c < 0x800) {
        buf[len++] = (byte) (0xc0 | (c >> 6));
        buf[len++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(cs.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, cs.charAt(++i));
        buf[len++] = (byte) (0xf0 | (cp >> 18));
        buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        buf[len++] = (byte) (0x80 | (cp & 0x3f));
      } else if (Character.isSurrogate(c)) {
        buf[len++] = '?';
      } else {
        buf[len++] = (byte) (0xe0 | (c >> 12));
        buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        buf[len++] = (byte) (0x80 | (c & 0x3f));
      }
    }
  }

  /**
   * Appends the batch buffer; on failure truncates back so that no partial record stays in the
   * file.
   */
  private void append() throws IOException {
    FileChannel c = requireNonNull(channel);
    long start = fileSize;
    try {
      ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
      while (bb.hasRemaining()) {
        c.write(bb);
      }
      fileSize += len;
    } catch (IOException | RuntimeException e) {
      try {
        c.truncate(start);
        c.position(start);
      } catch (IOException | RuntimeException e2) {
        broken = true;
      }
      throw e;
    }
  }

  private void checkpoint(Checkpoint.Reason reason, long truncatedBytes) throws IOException {
    String time = EventFactory.formatMillis(clock.millis());
    String sig =
        Checkpoints.sign(
            signingKey,
            Checkpoints.canonical(
                seq, epoch, prevHash, reason.name(), time, truncatedBytes, keyId));
    StringBuilder json = new StringBuilder(256);
    Json.Obj o = new Json.Obj(json);
    o.str("reason", reason.name())
        .str("time", time)
        .num("truncatedBytes", truncatedBytes)
        .str("keyId", keyId)
        .str("signature", sig)
        .end();
    long seq0 = seq;
    String prev0 = prevHash;
    len = 0;
    StringBuilder sb = startRecord("checkpoint");
    sb.append(json);
    finishRecord(sb);
    String line = new String(buf, 0, len - 1, UTF_8);
    try {
      append();
      requireNonNull(channel).force(false);
    } catch (IOException | RuntimeException e) {
      seq = seq0;
      prevHash = prev0;
      broken = true;
      throw e;
    }
    try {
      evolveKey();
    } catch (IOException | RuntimeException e) {
      // Reopening evolves from the key state file, which still holds this epoch's key.
      broken = true;
      throw e;
    }
    try {
      onCheckpoint.accept(line);
    } catch (RuntimeException e) {
      logger.warn("audit checkpoint hook failed ({})", e.getClass().getName());
    }
  }

  /** K_{i+1} = H(K_i): persist the new key first, then forget the old one. */
  private void evolveKey() throws IOException {
    byte[] next = Crypto.evolve(key);
    writeState(epoch + 1, next);
    Arrays.fill(key, (byte) 0);
    key = next;
    epoch++;
    mac = Crypto.hmac(key);
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
    Path p = dir.resolve(String.format("audit-%020d.jsonl", seq));
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
    syncDirectory(dir);
  }

  // ---------------------------------------------------------------- key state

  private void writeState(long newEpoch, byte[] newKey) throws IOException {
    Path tmp = keyStateFile.resolveSibling(keyStateFile.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    }
    byte[] content =
        (STATE_HEADER + " " + newEpoch + " " + Crypto.HEX.formatHex(newKey) + "\n").getBytes(UTF_8);
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        c.write(buf);
      }
      c.force(true);
    } finally {
      Arrays.fill(content, (byte) 0);
    }
    try {
      Files.move(
          tmp, keyStateFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, keyStateFile, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(keyStateFile.toAbsolutePath().getParent());
  }

  private static final class State {
    final long epoch;
    final byte[] key;

    State(long epoch, byte[] key) {
      this.epoch = epoch;
      this.key = key;
    }
  }

  private @Nullable State readState() throws IOException {
    if (!Files.exists(keyStateFile)) {
      return null;
    }
    String[] parts = new String(Files.readAllBytes(keyStateFile), UTF_8).trim().split(" ", -1);
    if (parts.length != 3 || !parts[0].equals(STATE_HEADER)) {
      throw new IllegalStateException("audit key state file is not in the expected format");
    }
    try {
      byte[] k = Crypto.HEX.parseHex(parts[2]);
      if (k.length != 32) {
        throw new IllegalStateException("audit key state file holds a key of the wrong length");
      }
      return new State(Long.parseLong(parts[1]), k);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("audit key state file is not in the expected format", e);
    }
  }

  private static void syncDirectory(@Nullable Path d) {
    if (d == null) {
      return;
    }
    try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException | RuntimeException e) {
      // Not supported on every platform; the file data itself is synced.
    }
  }

  // ---------------------------------------------------------------- opening and recovery

  static List<Path> logFiles(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> Checkpoints.FILE_NAME.matcher(p.getFileName().toString()).matches())
          .sorted()
          .forEach(files::add);
    }
    return files;
  }

  private void open(byte @Nullable [] genesisKey) throws IOException {
    List<Path> files = logFiles(dir);
    State state = readState();
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
        writeState(0, k);
      }
      setKey(0, k);
      seq = 0;
      prevHash = Crypto.ZERO_HASH;
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

    Scan scan = null;
    for (int i = files.size() - 1; i >= 0; i--) {
      Path f = files.get(i);
      Scan s = scan(f, state);
      if (s.records == 0 && i > 0) {
        // A file created by a rotation that crashed before its first record.
        if (s.size > 0) {
          moveAside(f, 0, s.size);
        }
        Files.delete(f);
        continue;
      }
      scan = s;
      break;
    }
    Scan s = requireNonNull(scan);
    long truncated = s.size - s.validEnd;
    if (truncated > 0) {
      moveAside(s.file, s.validEnd, s.size);
      try (FileChannel c = FileChannel.open(s.file, StandardOpenOption.WRITE)) {
        c.truncate(s.validEnd);
        c.force(true);
      }
      logger.warn("audit log recovered: removed a torn tail of {} bytes", truncated);
    }
    if (s.records == 0) {
      throw new IllegalStateException(
          "the first audit log file holds no valid record; run the verifier and investigate");
    }
    seq = s.lastSeq + 1;
    prevHash = s.lastHash;
    if (s.lastCheckpoint && s.lastEpoch == epoch) {
      // Crashed between writing a checkpoint and evolving the key.
      evolveKey();
    }
    if ("ROTATE".equals(s.lastReason)) {
      openNewFile();
    } else {
      FileChannel c = FileChannel.open(s.file, StandardOpenOption.WRITE);
      c.position(s.validEnd);
      channel = c;
      current = s.file;
      fileSize = s.validEnd;
      fileOpenedMillis = clock.millis();
    }
    boolean clean = "CLOSE".equals(s.lastReason) && truncated == 0;
    checkpoint(clean ? Checkpoint.Reason.RESUMED : Checkpoint.Reason.RECOVERED, truncated);
  }

  private void setKey(long newEpoch, byte[] newKey) {
    Arrays.fill(key, (byte) 0);
    key = newKey;
    epoch = newEpoch;
    mac = Crypto.hmac(key);
    recordsInEpoch = 0;
    lastCheckpointMillis = clock.millis();
  }

  private void moveAside(Path file, long from, long to) throws IOException {
    Path aside = file.resolveSibling(file.getFileName() + ".torn-" + clock.millis());
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ);
        FileChannel out =
            FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long pos = from;
      while (pos < to) {
        pos += in.transferTo(pos, to - pos, out);
      }
      out.force(true);
    }
  }

  private static final class Scan {
    final Path file;
    long size;
    long validEnd;
    long records;
    long lastSeq = -1;
    String lastHash = Crypto.ZERO_HASH;
    long lastEpoch = -1;
    boolean lastCheckpoint;
    @Nullable String lastReason;

    Scan(Path file) {
      this.file = file;
    }
  }

  /**
   * Finds the longest valid prefix of a file: framed lines, consecutive sequence numbers, linked
   * hashes, non-decreasing epochs, and a valid HMAC for records of the current epoch (the only key
   * the writer still has). The verifier, not the writer, judges older records.
   */
  private Scan scan(Path file, State state) throws IOException {
    Scan s = new Scan(file);
    s.size = Files.size(file);
    Matcher name = Checkpoints.FILE_NAME.matcher(file.getFileName().toString());
    long firstSeq = name.matches() ? Long.parseLong(name.group(1)) : -1;
    Mac stateMac = Crypto.hmac(state.key);
    try (InputStream in = Files.newInputStream(file)) {
      LineReader r = new LineReader(in);
      byte @Nullable [] line;
      while ((line = r.next()) != null) {
        if (!r.terminated()) {
          break;
        }
        Checkpoints.Frame f = Checkpoints.frame(line);
        if (f == null) {
          break;
        }
        if (s.records == 0) {
          if (f.seq != firstSeq) {
            break;
          }
        } else {
          if (f.seq != s.lastSeq + 1 || !f.prev.equals(s.lastHash)) {
            break;
          }
          long expected = s.lastCheckpoint ? s.lastEpoch + 1 : s.lastEpoch;
          if (f.epoch != expected) {
            break;
          }
        }
        if (f.epoch > state.epoch) {
          break;
        }
        if (f.epoch == state.epoch) {
          stateMac.update(line, 0, f.bodyLength);
          String tag = Crypto.HEX.formatHex(stateMac.doFinal());
          if (!Crypto.hexEquals(tag, f.mac)) {
            break;
          }
        }
        s.records++;
        s.lastSeq = f.seq;
        s.lastHash = Crypto.sha256Hex(line, 0, line.length);
        s.lastEpoch = f.epoch;
        s.lastCheckpoint = f.checkpoint;
        s.lastReason = f.reason;
        s.validEnd = r.offset();
      }
    }
    return s;
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
