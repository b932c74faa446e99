package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small c2sp.org/tlog-witness server, for a hospital that runs its own witness in another trust
 * zone: {@code POST <prefix>/add-checkpoint} cosigns a checkpoint of a known log (Ed25519
 * c2sp.org/tlog-cosignature v1) only if it is consistent with the latest one it cosigned for that
 * origin, and persists the new state (fsync, atomic rename, directory fsync) before answering.
 * Answers: 200 with the cosignature line; 400 malformed or old size above the checkpoint's; 403 no
 * valid signature by the log's key; 404 unknown origin; 409 with {@code text/x.tlog.size} body when
 * the old size is not the size it last cosigned; 422 when the consistency proof (or the empty-tree
 * root) does not verify. {@code GET <prefix>/checkpoint?origin=<origin>} returns the latest
 * checkpoint it cosigned, with its cosignature (a read API beyond the spec, for auditors). The
 * witness sees tree sizes and roots only, never records.
 *
 * <p>Uses the JDK's {@link HttpServer} with no TLS: bind it to loopback or put it behind a TLS
 * terminator. Thread-safe; add-checkpoint requests are handled one at a time, so the check of the
 * old size and the update are atomic.
 */
public final class WitnessServer implements Closeable {

  private static final Logger logger = LoggerFactory.getLogger(WitnessServer.class);
  private static final int MAX_BODY = 64 * 1024;

  private final String name;
  private final KeyPair key;
  private final Path stateDir;
  private final Map<String, List<PublicKey>> logs;
  private final Clock clock;
  private final HttpServer server;
  private final ExecutorService executor;

  private WitnessServer(Builder b) throws IOException {
    this.name = b.name;
    this.key = b.key;
    this.stateDir = b.stateDir;
    Map<String, List<PublicKey>> l = new HashMap<>();
    b.logs.forEach((k, v) -> l.put(k, List.copyOf(v)));
    this.logs = Map.copyOf(l);
    this.clock = b.clock;
    Files.createDirectories(stateDir);
    this.server = HttpServer.create(b.address, 16);
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "hipaagrpc-witness");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/add-checkpoint", this::addCheckpoint);
    server.createContext("/checkpoint", this::latest);
    server.start();
  }

  /**
   * Starts configuring a witness named {@code name} (a schema-less URL, its key name) cosigning
   * with the Ed25519 {@code key}, keeping its state in {@code stateDir}. Defaults: bound to
   * 127.0.0.1 on an ephemeral port, no logs (add them with {@link Builder#trustLog}), {@link
   * Clock#systemUTC()}.
   */
  public static Builder newBuilder(String name, KeyPair key, Path stateDir) {
    return new Builder(name, key, stateDir);
  }

  /** The port the server listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The URL prefix of this witness, {@code http://127.0.0.1:<port>}. */
  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + port();
  }

  /** The witness's verifier key, for a {@link WitnessPolicy}. */
  public String vkey() {
    return WitnessPolicy.vkey(name, key.getPublic());
  }

  /** Stops the server (waiting for no exchange). */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void addCheckpoint(HttpExchange ex) throws IOException {
    try (ex) {
      if (!"POST".equals(ex.getRequestMethod())) {
        send(ex, 405, "text/plain", "POST only\n");
        return;
      }
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readNBytes(MAX_BODY + 1);
      }
      if (body.length > MAX_BODY) {
        send(ex, 400, "text/plain", "request too large\n");
        return;
      }
      Answer a = handle(new String(body, UTF_8));
      send(ex, a.status, a.status == 409 ? "text/x.tlog.size" : "text/plain", a.body);
    } catch (RuntimeException e) {
      logger.warn("witness request failed ({})", e.getClass().getName());
    }
  }

  private record Answer(int status, String body) {}

  /** The add-checkpoint decision; synchronized so that check and persist are atomic. */
  private synchronized Answer handle(String body) throws IOException {
    int blank = body.indexOf("\n\n");
    if (blank < 0 || !body.startsWith("old ")) {
      return new Answer(400, "malformed request\n");
    }
    String[] head = body.substring(0, blank).split("\n", -1);
    if (!head[0].matches("old (0|[1-9][0-9]{0,18})") || head.length - 1 > 63) {
      return new Answer(400, "malformed old size or proof\n");
    }
    long old = Long.parseLong(head[0].substring(4));
    List<byte[]> proof = new ArrayList<>();
    for (int i = 1; i < head.length; i++) {
      try {
        byte[] h = Base64.getDecoder().decode(head[i]);
        if (h.length != 32) {
          return new Answer(400, "malformed proof line\n");
        }
        proof.add(h);
      } catch (IllegalArgumentException e) {
        return new Answer(400, "malformed proof line\n");
      }
    }
    String noteText = body.substring(blank + 2);
    SignedNotes.Note note = SignedNotes.parse(noteText);
    SignedNotes.Checkpoint cp = note == null ? null : SignedNotes.checkpoint(note.text());
    if (note == null || cp == null) {
      return new Answer(400, "malformed checkpoint\n");
    }
    List<PublicKey> logKeys = logs.get(cp.origin());
    if (logKeys == null) {
      return new Answer(404, "unknown log\n");
    }
    boolean signed = false;
    for (PublicKey k : logKeys) {
      signed |= SignedNotes.verify(note, cp.origin(), k);
    }
    if (!signed) {
      return new Answer(403, "no valid signature by the log's key\n");
    }
    if (old > cp.size()) {
      return new Answer(400, "old size above the checkpoint size\n");
    }
    State st = read(cp.origin());
    long current = st == null ? 0 : st.size;
    if (old != current) {
      return new Answer(409, current + "\n");
    }
    if (cp.size() == 0 && !Arrays.equals(cp.root(), Merkle.emptyRoot())) {
      return new Answer(422, "an empty tree has the empty root\n");
    }
    boolean consistent;
    if (old == 0) {
      consistent = proof.isEmpty();
    } else if (old == cp.size()) {
      consistent = proof.isEmpty() && Arrays.equals(requireNonNull(st).root, cp.root());
    } else {
      consistent =
          Merkle.verifyConsistency(old, cp.size(), requireNonNull(st).root, cp.root(), proof);
    }
    if (!consistent) {
      logger.warn(
          "witness refused an inconsistent checkpoint of size {} (cosigned {})",
          cp.size(),
          current);
      return new Answer(422, "inconsistent with the checkpoint cosigned before\n");
    }
    String cosig =
        SignedNotes.cosign(
            note.text(), name, key.getPrivate(), key.getPublic(), clock.millis() / 1000);
    // The checkpoint as submitted (the log's signature with it), plus this witness's line.
    String cosigned = noteText + cosig;
    persist(cp.origin(), cosigned);
    return new Answer(200, cosig);
  }

  private void latest(HttpExchange ex) throws IOException {
    try (ex) {
      String q = ex.getRequestURI().getRawQuery();
      String origin =
          q != null && q.startsWith("origin=") ? URLDecoder.decode(q.substring(7), UTF_8) : "";
      @Nullable String text;
      synchronized (this) {
        Path f = file(origin);
        text = logs.containsKey(origin) && Files.isRegularFile(f) ? Files.readString(f) : null;
      }
      if (text == null) {
        send(ex, 404, "text/plain", "unknown log\n");
      } else {
        send(ex, 200, "text/plain; charset=utf-8", text);
      }
    }
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] b = body.getBytes(UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  private static final class State {
    final long size;
    final byte[] root;

    State(long size, byte[] root) {
      this.size = size;
      this.root = root;
    }
  }

  private Path file(String origin) {
    byte[] b = origin.getBytes(UTF_8);
    return stateDir.resolve(Crypto.sha256Hex(b, 0, b.length) + ".ckpt");
  }

  private @Nullable State read(String origin) throws IOException {
    Path f = file(origin);
    if (!Files.isRegularFile(f)) {
      return null;
    }
    SignedNotes.Note n = SignedNotes.parse(Files.readString(f, UTF_8));
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    if (cp == null) {
      throw new IllegalStateException("witness state file is damaged: " + f.getFileName());
    }
    return new State(cp.size(), cp.root());
  }

  /** Writes the cosigned checkpoint durably: temporary file, fsync, atomic rename, dir fsync. */
  private void persist(String origin, String cosigned) throws IOException {
    Path f = file(origin);
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    try (FileChannel c =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(cosigned.getBytes(UTF_8));
      while (buf.hasRemaining()) {
        c.write(buf);
      }
      c.force(true);
    }
    LogFiles.replace(tmp, f);
    LogFiles.syncDirectory(stateDir);
  }

  /** Configures a {@link WitnessServer}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final KeyPair key;
    private final Path stateDir;
    private final Map<String, List<PublicKey>> logs = new HashMap<>();
    private InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private Clock clock = Clock.systemUTC();

    private Builder(String name, KeyPair key, Path stateDir) {
      if (!SignedNotes.validName(requireNonNull(name, "name"))) {
        throw new IllegalArgumentException("a witness name is non-empty, without spaces or '+'");
      }
      this.name = name;
      this.key = requireNonNull(key, "key");
      this.stateDir = requireNonNull(stateDir, "stateDir");
    }

    /**
     * Cosigns checkpoints of the log {@code origin} signed by {@code logKey} (Ed25519). Call it
     * again with the new key when the log rotates its signing key: any trusted key will do.
     */
    public Builder trustLog(String origin, PublicKey logKey) {
      logs.computeIfAbsent(requireNonNull(origin, "origin"), k -> new ArrayList<>())
          .add(requireNonNull(logKey, "logKey"));
      return this;
    }

    /** Where to listen. Default 127.0.0.1, ephemeral port. */
    public Builder bind(InetSocketAddress address) {
      this.address = requireNonNull(address, "address");
      return this;
    }

    /** The clock of cosignature timestamps. Default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Starts the server.
     *
     * @throws IllegalStateException if no log is trusted
     * @throws IOException if it cannot bind or create its state directory
     */
    public WitnessServer build() throws IOException {
      if (logs.isEmpty()) {
        throw new IllegalStateException(
            "trustLog(origin, key) at least once: a witness serves logs");
      }
      return new WitnessServer(this);
    }
  }
}
