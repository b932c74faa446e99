package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the log's checkpoint notes to witnesses with c2sp.org/tlog-witness {@code add-checkpoint}
 * (old size, consistency proof from the log's tiles, 409 resynchronisation) and stores the
 * cosignatures they return beside the checkpoints, in {@code <log dir>/cosigned/<tree size>} (the
 * note with every cosignature received for it). Wire it with {@code
 * ChainedFileSink.Builder.onCheckpointNote(client::submit)}: {@link #submit} only records the
 * newest note and returns; the requests run on the client's own thread, with retries and
 * exponential backoff, never on the audit path. Only the newest note is sent: a witness that missed
 * some gets the consistency proof from what it cosigned last.
 *
 * <p>Thread-safe.
 */
public final class WitnessClient implements Closeable {

  private static final Logger logger = LoggerFactory.getLogger(WitnessClient.class);
  static final String COSIGNED_DIR = "cosigned";

  private final Path dir;
  private final List<Target> targets;
  private final HttpClient http;
  private final ScheduledExecutorService executor;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final AtomicLong cosignatures = new AtomicLong();
  private volatile @Nullable String pending;

  /** One witness and what this client knows of it (writer: the client's thread only). */
  private static final class Target {
    final WitnessPolicy.Witness witness;
    long cosignedSize; // what the witness cosigned last, as far as we know; -1 unknown
    long doneSize = -1; // the newest size it cosigned for us
    long backoffMillis;

    Target(WitnessPolicy.Witness w) {
      this.witness = w;
      this.cosignedSize = 0;
    }
  }

  private WitnessClient(Builder b) {
    this.dir = b.dir;
    this.targets = new ArrayList<>();
    for (WitnessPolicy.Witness w : b.witnesses) {
      targets.add(new Target(w));
    }
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.http = HttpClient.newBuilder().connectTimeout(b.timeout).build();
    ScheduledThreadPoolExecutor e =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "hipaagrpc-witness-client");
              t.setDaemon(true);
              return t;
            });
    e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.executor = e;
  }

  /**
   * Starts configuring a client for the log in {@code logDirectory} (whose tiles give the
   * consistency proofs). Defaults: backoff from 100 ms doubling to 60 s, request timeout 10 s.
   */
  public static Builder newBuilder(Path logDirectory) {
    return new Builder(requireNonNull(logDirectory, "logDirectory"));
  }

  /**
   * Queues {@code note} for the witnesses and returns at once (a newer note replaces one not yet
   * sent). Meant for {@code onCheckpointNote}.
   */
  public void submit(String note) {
    pending = requireNonNull(note, "note");
    try {
      executor.execute(this::round);
    } catch (RuntimeException e) {
      // Closed: nothing more is sent.
    }
  }

  /** How many cosignatures were received and stored. */
  public long cosignaturesReceived() {
    return cosignatures.get();
  }

  /** Stops the client's thread; what was not sent yet is not sent. */
  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Sends the pending note to every witness that has not cosigned it; reschedules failures. */
  private void round() {
    String note = pending;
    if (note == null) {
      return;
    }
    SignedNotes.Note n = SignedNotes.parse(note);
    SignedNotes.Checkpoint cp = n == null ? null : SignedNotes.checkpoint(n.text());
    if (n == null || cp == null) {
      logger.warn("witness client: not a checkpoint note; dropped");
      return;
    }
    long retryIn = -1;
    for (Target t : targets) {
      if (t.doneSize >= cp.size()) {
        continue;
      }
      boolean ok = send(t, n, cp);
      if (!ok) {
        ok = send(t, n, cp); // a 409 resynchronised the old size: one more try at once
      }
      if (!ok) {
        t.backoffMillis =
            t.backoffMillis == 0
                ? initialBackoff.toMillis()
                : Math.min(t.backoffMillis * 2, maxBackoff.toMillis());
        retryIn = retryIn < 0 ? t.backoffMillis : Math.min(retryIn, t.backoffMillis);
      } else {
        t.backoffMillis = 0;
      }
    }
    if (retryIn >= 0) {
      try {
        // Nothing to collect: round() handles its own failures.
        var unused = executor.schedule(this::round, retryIn, TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        // Closed.
      }
    }
  }

  /** One add-checkpoint request; true when the witness cosigned. */
  private boolean send(Target t, SignedNotes.Note n, SignedNotes.Checkpoint cp) {
    String name = t.witness.name();
    try {
      long old = t.cosignedSize;
      if (old > cp.size()) {
        logger.error(
            "witness {} cosigned a larger tree ({}) than this log's checkpoint ({}): the log was"
                + " rolled back or forked",
            name,
            old,
            cp.size());
        return false;
      }
      StringBuilder body = new StringBuilder("old ").append(old).append('\n');
      if (old > 0 && old < cp.size()) {
        for (byte[] h : AuditReceipts.consistencyProof(dir, old, cp.size())) {
          body.append(Base64.getEncoder().encodeToString(h)).append('\n');
        }
      }
      body.append('\n').append(n.text()).append('\n');
      for (SignedNotes.Sig s : n.signatures()) {
        body.append(SignedNotes.signatureLine(s.name(), s.keyId(), s.signature()));
      }
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(prefix(t) + "add-checkpoint"))
                  .timeout(Duration.ofSeconds(10))
                  .POST(HttpRequest.BodyPublishers.ofString(body.toString(), UTF_8))
                  .build(),
              HttpResponse.BodyHandlers.ofString(UTF_8));
      if (r.statusCode() == 409) {
        String s = r.body().strip();
        if (s.matches("0|[1-9][0-9]{0,18}")) {
          t.cosignedSize = Long.parseLong(s);
        }
        return false;
      }
      if (r.statusCode() != 200) {
        logger.warn(
            "witness {} refused the checkpoint of size {} ({})", name, cp.size(), r.statusCode());
        return false;
      }
      SignedNotes.Note with = SignedNotes.parse(n.text() + "\n" + r.body());
      if (with == null || SignedNotes.cosignatureTime(with, name, t.witness.key()) <= 0) {
        logger.warn("witness {} answered without a valid cosignature", name);
        return false;
      }
      store(n, cp.size(), with);
      t.cosignedSize = cp.size();
      t.doneSize = cp.size();
      cosignatures.incrementAndGet();
      return true;
    } catch (IOException | RuntimeException e) {
      logger.warn("witness {} unreachable ({})", name, e.getClass().getName());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String prefix(Target t) {
    String u = t.witness.url();
    return u.endsWith("/") ? u : u + "/";
  }

  /** Merges the new cosignature into {@code cosigned/<size>} (atomic replace). */
  private synchronized void store(SignedNotes.Note note, long size, SignedNotes.Note with)
      throws IOException {
    Path d = dir.resolve(COSIGNED_DIR);
    Files.createDirectories(d);
    Path f = d.resolve(Long.toString(size));
    Set<String> lines = new LinkedHashSet<>();
    for (SignedNotes.Sig s : note.signatures()) {
      lines.add(SignedNotes.signatureLine(s.name(), s.keyId(), s.signature()));
    }
    if (Files.isRegularFile(f)) {
      SignedNotes.Note old = SignedNotes.parse(Files.readString(f, UTF_8));
      if (old != null && old.text().equals(note.text())) {
        for (SignedNotes.Sig s : old.signatures()) {
          lines.add(SignedNotes.signatureLine(s.name(), s.keyId(), s.signature()));
        }
      }
    }
    for (SignedNotes.Sig s : with.signatures()) {
      lines.add(SignedNotes.signatureLine(s.name(), s.keyId(), s.signature()));
    }
    Path tmp = d.resolve(size + ".tmp");
    Files.writeString(tmp, note.text() + "\n" + String.join("", lines), UTF_8);
    LogFiles.replace(tmp, f);
  }

  /**
   * Fetches the latest checkpoint a {@link WitnessServer} cosigned for {@code origin} ({@code GET
   * <url>/checkpoint?origin=...}): what an auditor collects from the witnesses, off the log's host,
   * to give to the verifier.
   *
   * @throws IOException if the witness cannot be reached or knows no such log
   */
  public static String fetchLatest(String witnessUrl, String origin)
      throws IOException, InterruptedException {
    String u = witnessUrl.endsWith("/") ? witnessUrl : witnessUrl + "/";
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(u + "checkpoint?origin=" + URLEncoder.encode(origin, UTF_8)))
                    .timeout(Duration.ofSeconds(10))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    if (r.statusCode() != 200) {
      throw new IOException("witness answered " + r.statusCode());
    }
    return r.body();
  }

  /** Configures a {@link WitnessClient}. Not thread-safe. */
  public static final class Builder {
    private final Path dir;
    private final List<WitnessPolicy.Witness> witnesses = new ArrayList<>();
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(60);
    private Duration timeout = Duration.ofSeconds(10);

    private Builder(Path dir) {
      this.dir = dir;
    }

    /** Sends to every witness of {@code policy} that has a URL. */
    public Builder witnesses(WitnessPolicy policy) {
      for (WitnessPolicy.Witness w : policy.witnesses()) {
        if (!w.url().isEmpty()) {
          witnesses.add(w);
        }
      }
      return this;
    }

    /**
     * The retry backoff: starts at {@code initial}, doubles per failure up to {@code max}. Defaults
     * 100 ms and 60 s.
     */
    public Builder backoff(Duration initial, Duration max) {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("backoff must be positive and max >= initial");
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException if no witness has a URL
     */
    public WitnessClient build() {
      if (witnesses.isEmpty()) {
        throw new IllegalStateException("witnesses(policy) with at least one witness URL");
      }
      return new WitnessClient(this);
    }
  }
}
