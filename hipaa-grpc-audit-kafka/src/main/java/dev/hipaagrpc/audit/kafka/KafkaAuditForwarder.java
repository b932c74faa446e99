package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditChain;
import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.core.internal.Checks;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnknownProducerIdException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships one audit log directory, written by {@code ChainedFileSink}, to a Kafka topic: tails its
 * {@code audit-*.jsonl} files in order and publishes every complete (newline-terminated) record
 * line unchanged as a message value, keyed by the log's origin so that one replica's records stay
 * in order on one partition, with headers {@code hipaagrpc.kind} ({@code record} or {@code note})
 * and {@code hipaagrpc.seq} (or {@code hipaagrpc.size} for a note). The local log stays the system
 * of record; the topic is a copy for central verification ({@link KafkaAuditReceiver}).
 *
 * <p><b>Delivery.</b> The producer is idempotent with {@code acks=all}, at most 5 requests in
 * flight and a bounded delivery timeout. The position (file, sequence number, byte offset, length
 * and SHA-256 of the last shipped line) is persisted atomically (temporary file, fsync, rename)
 * only after the broker acknowledged every record up to it. A crash, a broker outage or a failed
 * send therefore repeats records (at-least-once; the receiver drops identical duplicates) and never
 * skips one: after any failure the forwarder recreates its producer and sends again from the
 * persisted position.
 *
 * <p><b>Resuming.</b> On start, the line at the persisted position must still hash the same. If it
 * does not, the log was edited or replaced and the forwarder refuses to start ({@link #start}
 * throws) rather than ship a history that differs from what was shipped. The one exception is a log
 * that crash recovery cut back (a {@code <file>.torn-*} file sits beside it): the records shipped
 * before an operating-system crash may be gone from the disk, so the forwarder ships that file
 * again from its start, logging an ERROR, and the receiver reports every record that now differs as
 * a conflicting duplicate. Torn files are evidence, never shipped.
 *
 * <p><b>Checkpoint notes.</b> The log's {@code checkpoint} note and its {@code cosigned/<size>}
 * notes (with witness cosignatures) are shipped once every record they cover was acknowledged.
 *
 * <p><b>Backpressure.</b> The forwarder only reads the files: it never blocks the audit writer or a
 * call. While the broker is down the lag grows on the local disk; {@link ShippingMetrics} reports
 * it and {@link ShippingRetentionGate} keeps retention from deleting an unshipped file.
 *
 * <p>Runs on its own thread from {@link #start} to {@link #close}; {@link #main} runs it as a
 * sidecar process. Thread-safe.
 */
public final class KafkaAuditForwarder implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(KafkaAuditForwarder.class);

  /** The header naming the message kind: {@code record} or {@code note}. */
  public static final String KIND_HEADER = "hipaagrpc.kind";

  /** The header with a record's sequence number (decimal ASCII). */
  public static final String SEQ_HEADER = "hipaagrpc.seq";

  /** The header with a checkpoint note's tree size (decimal ASCII). */
  public static final String SIZE_HEADER = "hipaagrpc.size";

  static final String KIND_RECORD = "record";
  static final String KIND_NOTE = "note";
  private static final int MAX_LINE = 16 << 20;
  static final int MAX_REQUEST_SIZE = MAX_LINE + (64 << 10);

  private final Path dir;
  private final String topic;
  private final Properties producerConfig;
  private final Path positionFile;
  private final Duration pollInterval;
  private final int maxBatchRecords;
  private final Duration deliveryTimeout;
  private final ShippingMetrics metrics;
  private final Clock clock;
  private final @Nullable String configuredOrigin;
  private final Function<Properties, Producer<byte[], byte[]>> producerFactory;

  private final Object lock = new Object();
  private @Nullable Thread thread;
  private volatile boolean stopping;
  private volatile @Nullable Throwable failure;
  private final CountDownLatch stopped = new CountDownLatch(1);

  // The forwarder thread's state.
  private @Nullable Producer<byte[], byte[]> producer;
  private @Nullable String origin;
  private @Nullable ShippingPosition persisted;
  private @Nullable Path file;
  private long offset;
  // The line before offset, which the next line read must continue (seq + 1, prev = its SHA-256);
  // null when there is nothing to check against (a new log, a file shipped again after a crash).
  private long chainSeq;
  private @Nullable String chainSha256;
  // Where a failed send starts again: the persisted position, or a crash-recovered file's start.
  private @Nullable Path rewindFile;
  private long rewindOffset;
  private long rewindChainSeq;
  private @Nullable String rewindChainSha256;
  private long ioWarnedAt;
  private boolean ioFailing;
  private final Map<String, String> notesShipped = new HashMap<>();
  private boolean shrunk;

  private KafkaAuditForwarder(Builder b) {
    this.dir = b.dir;
    this.topic = requireNonNull(b.topic);
    this.producerConfig = b.producerConfig(b.deliveryTimeout);
    this.positionFile =
        b.positionFile != null ? b.positionFile : b.dir.resolve("shipping.position");
    this.pollInterval = b.pollInterval;
    this.maxBatchRecords = b.maxBatchRecords;
    this.deliveryTimeout = b.deliveryTimeout;
    this.metrics = b.metrics;
    this.clock = b.clock;
    this.configuredOrigin = b.origin;
    this.producerFactory = b.producerFactory;
  }

  /**
   * Starts a forwarder of the log in {@code logDirectory}. Defaults: position file {@code
   * <logDirectory>/shipping.position}, poll every 200 ms, batches of at most 500 records, delivery
   * timeout 30 s, the origin from the log itself (its {@code checkpoint} note, or derived from its
   * genesis record), no metrics, TLS or SASL_SSL required.
   */
  public static Builder newBuilder(Path logDirectory, String topic) {
    return new Builder(
        requireNonNull(logDirectory, "logDirectory"), requireNonNull(topic, "topic"));
  }

  /**
   * Checks the persisted position against the log and starts shipping on a new thread.
   *
   * @throws IllegalStateException if the log at the position no longer matches what was shipped
   *     (edited or replaced), if the position is of another log, or if already started
   * @throws IOException if the log directory or the position file cannot be read
   */
  public void start() throws IOException {
    synchronized (lock) {
      if (thread != null) {
        throw new IllegalStateException("already started");
      }
      resume();
      Thread t = new Thread(this::run, "hipaa-grpc-audit-forwarder");
      t.setDaemon(true);
      thread = t;
      t.start();
    }
  }

  /** Why shipping stopped for good (a log that no longer matches), or null while it runs. */
  public @Nullable Throwable failure() {
    return failure;
  }

  /**
   * Waits until the forwarder thread ended (after {@link #close} or a refusal).
   *
   * @return whether it ended within {@code timeout}
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops shipping (the position stays at the last acknowledged record) and closes the producer.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      stopping = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(deliveryTimeout.toMillis() + 5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // --- resume -------------------------------------------------------------------------------

  private void resume() throws IOException {
    ShippingPosition p = ShippingPosition.read(positionFile);
    persisted = p;
    if (p == null) {
      at(null, 0, -1, null);
      return;
    }
    if (configuredOrigin != null && !configuredOrigin.equals(p.origin)) {
      throw new IllegalStateException(
          "the shipping position " + positionFile + " is of another log (origin mismatch)");
    }
    origin = p.origin;
    Path f = dir.resolve(p.file);
    byte[] line = readLineEndingAt(f, p.end, p.length);
    if (line != null && sha256(line).equals(p.sha256)) {
      at(f, p.end, p.seq, p.sha256);
      return;
    }
    if (tornEvidence(f)) {
      logger.error(
          "the audit log was cut back by crash recovery behind the shipped position ({}): shipping"
              + " {} again from its start; the receiver reports every record that now differs",
          p,
          p.file);
      at(f, 0, -1, null); // a failed send starts again here too, not at the stale position
      return;
    }
    throw new IllegalStateException(
        "the audit log no longer holds the record last shipped ("
            + p
            + "): it was edited, truncated or replaced; verify it (AuditVerifier) and investigate"
            + " before shipping again");
  }

  /** Moves the cursor to {@code (f, offset)} and makes it the point a failed send starts from. */
  private void at(@Nullable Path f, long off, long seq, @Nullable String sha) {
    file = f;
    offset = off;
    chainSeq = seq;
    chainSha256 = sha;
    rewindFile = f;
    rewindOffset = off;
    rewindChainSeq = seq;
    rewindChainSha256 = sha;
  }

  /** Whether {@code line} is the record right after the line before the cursor. */
  private boolean continuesChain(byte[] line) {
    String sha = chainSha256;
    if (sha == null) {
      return true;
    }
    AuditLine l = AuditLine.parse(line);
    return l != null && l.seq() == chainSeq + 1 && l.prev().equals(sha);
  }

  /**
   * The line after the cursor does not continue what was shipped: the file was cut back and grew
   * again between two polls, or edited. Checked as on start: a crash-recovered file is shipped
   * again from its start; anything else stops shipping.
   */
  private void chainBroken(Path f) throws IOException {
    ShippingPosition p = ShippingPosition.read(positionFile);
    if (p != null) {
      byte[] line = readLineEndingAt(dir.resolve(p.file), p.end, p.length);
      if (line != null && sha256(line).equals(p.sha256)) {
        throw new IllegalStateException(
            "the audit log does not continue the record last shipped ("
                + p
                + ") in "
                + f.getFileName()
                + ": a record after it was edited, inserted or removed; verify it (AuditVerifier)"
                + " and investigate before shipping again");
      }
    }
    resume(); // throws unless crash recovery explains it
  }

  private boolean tornEvidence(Path f) throws IOException {
    String prefix = f.getFileName() + ".torn-";
    try (Stream<Path> s = Files.list(dir)) {
      return s.anyMatch(x -> x.getFileName().toString().startsWith(prefix));
    }
  }

  /** The {@code length} bytes before the newline at {@code end - 1}, or null if not there. */
  private static byte @Nullable [] readLineEndingAt(Path f, long end, int length)
      throws IOException {
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
      long start = end - length - 1;
      if (start < 0 || c.size() < end) {
        return null;
      }
      ByteBuffer b = ByteBuffer.allocate(length + 1);
      while (b.hasRemaining()) {
        if (c.read(b, start + b.position()) < 0) {
          return null;
        }
      }
      byte[] a = b.array();
      if (a[length] != '\n' || (start > 0 && !precededByNewline(c, start))) {
        return null;
      }
      return java.util.Arrays.copyOf(a, length);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static boolean precededByNewline(FileChannel c, long start) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    return c.read(one, start - 1) == 1 && one.get(0) == '\n';
  }

  // --- the loop -------------------------------------------------------------------------------

  private void run() {
    long backoff = 100;
    try {
      while (!stopping) {
        boolean progressed;
        try {
          progressed = round();
          backoff = 100;
          ioFailing = false;
        } catch (SendFailed e) {
          if (stopping) {
            break; // close() interrupted the wait: not a failed send
          }
          metrics.sendFailed();
          Throwable cause = e.getCause();
          if (cause != null && refusedForGood(cause)) {
            throw new IllegalStateException(
                "the broker refused a record after the shipped position ("
                    + (persisted == null ? "the start" : persisted)
                    + ") for good ("
                    + cause.getClass().getName()
                    + (cause instanceof RecordTooLargeException
                        ? "; the topic's max.message.bytes and the broker's message.max.bytes must"
                            + " admit the largest record"
                        : "")
                    + "); sending it again cannot succeed: fix the configuration and restart");
          }
          logger.warn(
              "audit shipping: send failed ({}); sending again from {} in {} ms",
              e.getMessage(),
              persisted == null ? "the start" : persisted,
              backoff);
          rewind();
          reportLagQuietly();
          sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
          continue;
        } catch (IOException e) {
          if (stopping) {
            break; // close() interrupted a read (ClosedByInterruptException)
          }
          long now = System.nanoTime();
          if (!ioFailing || now - ioWarnedAt > TimeUnit.MINUTES.toNanos(1)) {
            // Once when it starts failing, then once a minute while it keeps failing.
            ioFailing = true;
            ioWarnedAt = now;
            logger.warn(
                "audit shipping: cannot read the log or write the position ({}); retrying",
                e.getClass().getSimpleName());
          }
          sleep(pollInterval.toMillis());
          continue;
        }
        if (!progressed) {
          sleep(pollInterval.toMillis());
        }
      }
    } catch (IllegalStateException e) {
      failure = e;
      logger.error("audit shipping stopped: {}", e.getMessage());
    } catch (RuntimeException | Error e) {
      failure = e;
      logger.error("audit shipping stopped ({})", e.getClass().getName(), e);
    } finally {
      closeProducer();
      stopped.countDown();
    }
  }

  /**
   * Whether the broker or client refused for good: not retriable, and not a producer state that a
   * new producer recovers from (the idempotent producer's sequence or id).
   */
  static boolean refusedForGood(Throwable cause) {
    if (cause instanceof RetriableException
        || cause instanceof OutOfOrderSequenceException
        || cause instanceof UnknownProducerIdException
        || cause instanceof InvalidProducerEpochException) {
      return false;
    }
    return cause instanceof ApiException || cause instanceof SerializationException;
  }

  private void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      // close() interrupts; the loop checks stopping.
    }
  }

  /**
   * After a failed send: a new producer, and everything after the persisted position again (or
   * after the start of a file shipped again after crash recovery).
   */
  private void rewind() {
    closeProducer();
    file = rewindFile;
    offset = rewindOffset;
    chainSeq = rewindChainSeq;
    chainSha256 = rewindChainSha256;
  }

  private void closeProducer() {
    Producer<byte[], byte[]> p = producer;
    producer = null;
    if (p != null) {
      try {
        p.close(Duration.ZERO);
      } catch (RuntimeException e) {
        // Nothing left to deliver through it.
      }
    }
  }

  /** One round: ships what is new; returns whether anything was shipped. */
  private boolean round() throws IOException, SendFailed {
    List<Path> files = AuditLine.logFiles(dir);
    if (files.isEmpty()) {
      return false;
    }
    String o = origin;
    if (o == null) {
      o = resolveOrigin(files);
      if (o == null) {
        return false;
      }
      origin = o;
    }
    Path f = file;
    if (f == null) {
      f = files.get(0);
      file = f;
      offset = 0;
    }

    List<byte[]> lines = new ArrayList<>();
    long size = readLines(f, offset, lines);
    if (size < offset) {
      if (tornEvidence(f)) {
        // Crash recovery of a restarted writer, which may not write this file past the shipped
        // offset again (it may rotate first): check the shipped line as on start at once.
        shrunk = false;
        resume();
        return true;
      }
      // A failed write being truncated back: wait until the file is at least as long again, then
      // check the shipped line as on start.
      if (!shrunk) {
        shrunk = true;
        logger.warn(
            "audit shipping: {} is shorter than the shipped position; waiting for the writer",
            f.getFileName());
      }
      return false;
    }
    if (shrunk) {
      shrunk = false;
      resume(); // throws if the shipped line is not there any more (and no crash explains it)
      return true;
    }
    if (lines.isEmpty()) {
      int i = files.indexOf(f);
      if (i >= 0 && i + 1 < files.size() && size == offset) {
        file = files.get(i + 1);
        offset = 0;
        return true;
      }
      if (i < 0 && !Files.exists(f)) {
        throw new IllegalStateException(
            "the audit file " + f.getFileName() + " was removed before it was shipped");
      }
      shipNotes(o);
      reportLag(files);
      return false;
    }
    if (!continuesChain(lines.get(0))) {
      chainBroken(f);
      return true;
    }
    ship(o, f, lines);
    shipNotes(o);
    reportLag(files);
    return true;
  }

  /** Reads up to the batch limit of complete lines from {@code offset}; returns the file size. */
  private long readLines(Path f, long from, List<byte[]> out) throws IOException {
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
      long size = c.size();
      if (size <= from) {
        return size;
      }
      int cap = (int) Math.min(size - from, 1 << 20);
      while (true) {
        ByteBuffer b = ByteBuffer.allocate(cap);
        while (b.hasRemaining() && c.read(b, from + b.position()) > 0) {
          // fill
        }
        byte[] a = b.array();
        int n = b.position();
        int start = 0;
        for (int i = 0; i < n && out.size() < maxBatchRecords; i++) {
          if (a[i] == '\n') {
            out.add(java.util.Arrays.copyOfRange(a, start, i));
            start = i + 1;
          }
        }
        if (!out.isEmpty() || n < cap || from + n >= size) {
          return size; // a torn or still-being-written tail stays unread
        }
        if (cap >= MAX_LINE) {
          throw new IllegalStateException(
              "a line of " + f.getFileName() + " is longer than " + MAX_LINE + " bytes");
        }
        cap = (int) Math.min(size - from, (long) cap * 2);
      }
    }
  }

  private @Nullable String resolveOrigin(List<Path> files) throws IOException {
    String fromNote = null;
    Path note = dir.resolve(AuditLine.CHECKPOINT_NOTE_FILE);
    if (Files.isRegularFile(note)) {
      fromNote = AuditChain.noteOrigin(Files.readString(note, UTF_8));
    }
    String derived = null;
    Path first = files.get(0);
    if (AuditLine.firstSeq(first) == 0) {
      List<byte[]> genesis = new ArrayList<>();
      readLines(first, 0, genesis);
      if (!genesis.isEmpty()) {
        derived = AuditLine.defaultOrigin(genesis.get(0));
      }
    }
    String resolved =
        configuredOrigin != null ? configuredOrigin : fromNote != null ? fromNote : derived;
    if (resolved == null) {
      return null; // a new log whose first note is not written yet
    }
    if (fromNote != null && !fromNote.equals(resolved)) {
      throw new IllegalStateException(
          "the configured origin is not the one the log's checkpoint note names");
    }
    return resolved;
  }

  private Producer<byte[], byte[]> producer() {
    Producer<byte[], byte[]> p = producer;
    if (p == null) {
      p = producerFactory.apply(producerConfig);
      producer = p;
    }
    return p;
  }

  private void ship(String o, Path f, List<byte[]> lines) throws IOException, SendFailed {
    byte[] key = o.getBytes(UTF_8);
    List<Future<RecordMetadata>> acks = new ArrayList<>(lines.size());
    long lastSeq = persisted != null ? persisted.seq : -1;
    try {
      Producer<byte[], byte[]> p = producer();
      for (byte[] line : lines) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, key, line);
        r.headers().add(KIND_HEADER, KIND_RECORD.getBytes(UTF_8));
        AuditLine parsed = AuditLine.parse(line);
        if (parsed != null) {
          r.headers().add(SEQ_HEADER, Long.toString(parsed.seq()).getBytes(UTF_8));
          lastSeq = parsed.seq();
        }
        Future<RecordMetadata> a = p.send(r);
        acks.add(a);
        if (a.isDone()) {
          // Failed at once (no metadata within max.block.ms, too large, ...): the rest of the
          // batch would fail the same way, each after max.block.ms again.
          a.get();
        }
      }
      p.flush();
      for (Future<RecordMetadata> a : acks) {
        a.get(deliveryTimeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
      }
    } catch (ExecutionException e) {
      throw new SendFailed(e.getCause() != null ? e.getCause() : e);
    } catch (InterruptedException e) {
      throw new SendFailed(e);
    } catch (java.util.concurrent.TimeoutException | org.apache.kafka.common.KafkaException e) {
      throw new SendFailed(e);
    }
    long end = offset;
    for (byte[] line : lines) {
      end += line.length + 1;
    }
    byte[] last = lines.get(lines.size() - 1);
    ShippingPosition next =
        new ShippingPosition(
            o, f.getFileName().toString(), lastSeq, end, last.length, sha256(last));
    next.write(positionFile);
    persisted = next;
    AuditLine parsedLast = AuditLine.parse(last);
    at(f, end, lastSeq, parsedLast != null ? next.sha256 : null);
    metrics.acknowledged(lines.size(), clock.millis());
  }

  /** Ships the checkpoint note and cosigned notes that the acknowledged records now cover. */
  private void shipNotes(String o) throws IOException, SendFailed {
    ShippingPosition p = persisted;
    if (p == null) {
      return;
    }
    List<Path> candidates = new ArrayList<>();
    candidates.add(dir.resolve(AuditLine.CHECKPOINT_NOTE_FILE));
    Path cosigned = dir.resolve(AuditLine.COSIGNED_DIRECTORY);
    if (Files.isDirectory(cosigned)) {
      try (Stream<Path> s = Files.list(cosigned)) {
        s.filter(x -> x.getFileName().toString().matches("0|[1-9][0-9]{0,18}"))
            .sorted()
            .forEach(candidates::add);
      }
    }
    for (Path n : candidates) {
      String text;
      try {
        text = Files.readString(n, UTF_8);
      } catch (NoSuchFileException e) {
        continue;
      }
      String name = dir.relativize(n).toString();
      String hash = sha256(text.getBytes(UTF_8));
      if (hash.equals(notesShipped.get(name))) {
        continue;
      }
      long size = AuditChain.noteSize(text);
      if (size < 0 || size > p.seq + 1 || !o.equals(AuditChain.noteOrigin(text))) {
        continue; // covers records not yet acknowledged (or being rewritten): later
      }
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>(topic, o.getBytes(UTF_8), text.getBytes(UTF_8));
      r.headers().add(KIND_HEADER, KIND_NOTE.getBytes(UTF_8));
      r.headers().add(SIZE_HEADER, Long.toString(size).getBytes(UTF_8));
      try {
        Producer<byte[], byte[]> pr = producer();
        Future<RecordMetadata> a = pr.send(r);
        if (!a.isDone()) {
          pr.flush();
        }
        a.get(deliveryTimeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        throw new SendFailed(e.getCause() != null ? e.getCause() : e);
      } catch (InterruptedException
          | java.util.concurrent.TimeoutException
          | org.apache.kafka.common.KafkaException e) {
        throw new SendFailed(e);
      }
      notesShipped.put(name, hash);
    }
  }

  private void reportLagQuietly() {
    try {
      List<Path> files = AuditLine.logFiles(dir);
      if (!files.isEmpty()) {
        reportLag(files);
      }
    } catch (IOException | RuntimeException e) {
      // The next round reports it.
    }
  }

  private void reportLag(List<Path> files) throws IOException {
    ShippingPosition p = persisted;
    Path f = file;
    long bytes = 0;
    boolean after = false;
    for (Path x : files) {
      if (f != null && x.equals(f)) {
        after = true;
        bytes += Math.max(0, size(x) - offset);
      } else if (after || f == null) {
        bytes += size(x);
      }
    }
    long newest = newestSeq(files.get(files.size() - 1));
    long acked = p == null ? -1 : p.seq;
    metrics.lag(Math.max(0, newest - acked), bytes);
  }

  private static long size(Path x) {
    try {
      return Files.size(x);
    } catch (IOException e) {
      return 0;
    }
  }

  /** The sequence number of the last complete line of {@code f} (read from its tail), or -1. */
  private static long newestSeq(Path f) throws IOException {
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
      long size = c.size();
      int n = (int) Math.min(size, 8192);
      ByteBuffer b = ByteBuffer.allocate(n);
      while (b.hasRemaining() && c.read(b, size - n + b.position()) > 0) {
        // fill
      }
      byte[] a = b.array();
      int end = n - 1;
      while (end >= 0 && a[end] != '\n') {
        end--;
      }
      if (end < 0) {
        return AuditLine.firstSeq(f) - 1;
      }
      int start = end - 1;
      while (start >= 0 && a[start] != '\n') {
        start--;
      }
      AuditLine l = AuditLine.parse(java.util.Arrays.copyOfRange(a, start + 1, end));
      return l == null ? -1 : l.seq();
    } catch (NoSuchFileException e) {
      return -1;
    }
  }

  static String sha256(byte[] b) {
    return KafkaClients.sha256Hex(b);
  }

  /** A send that the broker did not acknowledge. */
  private static final class SendFailed extends Exception {
    private static final long serialVersionUID = 1L;

    SendFailed(Throwable cause) {
      super(cause.getClass().getSimpleName(), cause);
    }
  }

  // --- command line ---------------------------------------------------------------------------

  /**
   * Runs a forwarder as a sidecar process until it is stopped (SIGTERM):
   *
   * <pre>
   * java -cp ... dev.hipaagrpc.audit.kafka.KafkaAuditForwarder --dir /var/log/audit \
   *     --topic audit --bootstrap-servers kafka-1:9093 [--producer-config client.properties] \
   *     [--position file] [--origin name] [--poll-interval-ms 200] [--delivery-timeout-ms 30000]
   *     [--insecure-plaintext]
   * </pre>
   *
   * <p>{@code --producer-config} is a Kafka client properties file (TLS trust store, SASL). Exit
   * code 2 when the log no longer matches the shipped position or the broker refuses a record for
   * good (too large, not authorized), 64 on a usage error (an unknown option, a value that is not a
   * number, a configuration that {@link Builder#build} refuses).
   */
  public static void main(String[] args) throws Exception {
    int code = run(args, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The command line: runs until stopped; returns the exit code. */
  static int run(String[] args, PrintStream err) throws Exception {
    List<String> known =
        List.of(
            "dir",
            "topic",
            "bootstrap-servers",
            "producer-config",
            "position",
            "origin",
            "poll-interval-ms",
            "delivery-timeout-ms");
    Map<String, String> opts = new HashMap<>();
    boolean plaintext = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--insecure-plaintext")) {
        plaintext = true;
      } else if (a.startsWith("--") && known.contains(a.substring(2)) && i + 1 < args.length) {
        opts.put(a.substring(2), args[++i]);
      } else {
        return usage(err, "unknown argument " + a);
      }
    }
    String d = opts.get("dir");
    String t = opts.get("topic");
    String servers = opts.get("bootstrap-servers");
    if (d == null || t == null || servers == null) {
      return usage(err, "--dir, --topic and --bootstrap-servers are required");
    }
    Properties props = new Properties();
    String config = opts.get("producer-config");
    if (config != null) {
      try (InputStream in = Files.newInputStream(Path.of(config))) {
        props.load(in);
      }
    }
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    KafkaAuditForwarder f;
    try {
      f = configure(opts, plaintext, Path.of(d), t, props);
    } catch (IllegalArgumentException | IllegalStateException e) { // incl. NumberFormatException
      return usage(err, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
    try {
      f.start();
    } catch (IllegalStateException e) {
      err.println("audit forwarder: " + e.getMessage());
      return 2;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(f::close, "audit-forwarder-shutdown"));
    f.awaitTermination(Duration.ofDays(36500));
    Throwable why = f.failure();
    if (why != null) {
      err.println("audit forwarder: " + why.getMessage());
      return 2;
    }
    return 0;
  }

  private static KafkaAuditForwarder configure(
      Map<String, String> opts, boolean plaintext, Path d, String t, Properties props) {
    Builder b = newBuilder(d, t).producerProperties(props);
    if (plaintext) {
      b.allowInsecurePlaintext(true);
    }
    String pos = opts.get("position");
    if (pos != null) {
      b.positionFile(Path.of(pos));
    }
    String o = opts.get("origin");
    if (o != null) {
      b.origin(o);
    }
    String poll = opts.get("poll-interval-ms");
    if (poll != null) {
      b.pollInterval(Duration.ofMillis(Long.parseLong(poll)));
    }
    String delivery = opts.get("delivery-timeout-ms");
    if (delivery != null) {
      b.deliveryTimeout(Duration.ofMillis(Long.parseLong(delivery)));
    }
    return b.build();
  }

  private static int usage(PrintStream err, String why) {
    err.println("audit forwarder: " + why);
    err.println(
        "usage: KafkaAuditForwarder --dir <log directory> --topic <topic> --bootstrap-servers"
            + " <host:port,...> [--producer-config <file>] [--position <file>] [--origin <name>]"
            + " [--poll-interval-ms <n>] [--delivery-timeout-ms <n>] [--insecure-plaintext]");
    return 64;
  }

  /** Configures a {@link KafkaAuditForwarder}. Not thread-safe. */
  public static final class Builder {
    private final Path dir;
    private final String topic;
    private final Properties props = new Properties();
    private @Nullable Path positionFile;
    private Duration pollInterval = Duration.ofMillis(200);
    private int maxBatchRecords = 500;
    private Duration deliveryTimeout = Duration.ofSeconds(30);
    private ShippingMetrics metrics = ShippingMetrics.NONE;
    private Clock clock = Clock.systemUTC();
    private @Nullable String origin;
    private boolean allowPlaintext;
    private Function<Properties, Producer<byte[], byte[]>> producerFactory =
        p -> new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());

    private Builder(Path dir, String topic) {
      this.dir = dir;
      this.topic = topic;
    }

    /** Sets {@code bootstrap.servers}. */
    public Builder bootstrapServers(String servers) {
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, requireNonNull(servers, "servers"));
      return this;
    }

    /**
     * Adds Kafka producer properties (TLS, SASL, compression, ...). The forwarder sets the
     * serializers, {@code enable.idempotence=true}, {@code acks=all} and the timeouts itself;
     * {@link #build} refuses properties that would weaken them. Copied.
     */
    public Builder producerProperties(Properties properties) {
      requireNonNull(properties, "properties").forEach((k, v) -> props.put(k, v));
      return this;
    }

    /** Where the position is persisted. Default {@code <logDirectory>/shipping.position}. */
    public Builder positionFile(Path file) {
      this.positionFile = requireNonNull(file, "file");
      return this;
    }

    /** How long to wait when nothing is new. Default 200 ms. */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = Checks.requirePositive(interval, "pollInterval");
      return this;
    }

    /** At most this many records per acknowledged batch. Default 500. */
    public Builder maxBatchRecords(int records) {
      this.maxBatchRecords = Checks.requirePositive(records, "maxBatchRecords");
      return this;
    }

    /**
     * Kafka's {@code delivery.timeout.ms}: how long a batch may stay unacknowledged before the
     * forwarder gives up on it and sends it again. Default 30 s; at least 2 s.
     */
    public Builder deliveryTimeout(Duration timeout) {
      Checks.requirePositive(timeout, "deliveryTimeout");
      if (timeout.toMillis() < 2000) {
        throw new IllegalArgumentException("deliveryTimeout must be at least 2 s");
      }
      this.deliveryTimeout = timeout;
      return this;
    }

    /** Receives lag, acknowledgements and failures. Default: none. */
    public Builder metrics(ShippingMetrics metrics) {
      this.metrics = requireNonNull(metrics, "metrics");
      return this;
    }

    /** The clock for acknowledgement times. Default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The log's origin, the message key. Default: the origin its checkpoint note names, or the
     * default origin derived from its genesis record. Set it when the sink was given one and the
     * forwarder may start before the first note exists.
     */
    public Builder origin(String origin) {
      this.origin = requireNonNull(origin, "origin");
      return this;
    }

    /**
     * DANGEROUS: allows {@code security.protocol} PLAINTEXT or SASL_PLAINTEXT (the Kafka default is
     * PLAINTEXT), so that audit records cross the network unencrypted and the broker is not
     * authenticated. For a broker on loopback in tests only. Default false: {@link #build} refuses
     * a configuration without SSL or SASL_SSL.
     */
    public Builder allowInsecurePlaintext(boolean allow) {
      this.allowPlaintext = allow;
      return this;
    }

    /** For tests: how the producer is made from the final configuration. */
    Builder producerFactory(Function<Properties, Producer<byte[], byte[]>> factory) {
      this.producerFactory = requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Returns the forwarder (not started).
     *
     * @throws IllegalStateException if {@code bootstrap.servers} is missing, if the properties
     *     weaken idempotence, acknowledgements or ordering, or if the protocol is not TLS and
     *     {@link #allowInsecurePlaintext} is not set
     */
    public KafkaAuditForwarder build() {
      KafkaClients.requireBootstrapAndTls(props, allowPlaintext, "sends");
      refuse(ProducerConfig.ACKS_CONFIG, "all", "-1");
      refuse(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
      Object inFlight = props.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
      if (inFlight != null && Integer.parseInt(inFlight.toString().trim()) > 5) {
        throw new IllegalStateException(
            "max.in.flight.requests.per.connection above 5 breaks the idempotent producer's"
                + " ordering");
      }
      if (props.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) != null) {
        throw new IllegalStateException("the forwarder does not use transactions");
      }
      return new KafkaAuditForwarder(this);
    }

    private void refuse(String key, String... allowed) {
      Object v = props.get(key);
      if (v == null) {
        return;
      }
      for (String a : allowed) {
        if (a.equalsIgnoreCase(v.toString().trim())) {
          return;
        }
      }
      throw new IllegalStateException(
          key + "=" + v + " would let the forwarder lose or reorder audit records");
    }

    Properties producerConfig(Duration delivery) {
      Properties p = new Properties();
      p.putAll(props);
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.putIfAbsent(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
      p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
      long d = delivery.toMillis();
      long linger = Long.parseLong(p.get(ProducerConfig.LINGER_MS_CONFIG).toString().trim());
      p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(d));
      p.put(
          ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
          Long.toString(Math.max(1000, Math.min(15000, d - linger - 1))));
      p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(d));
      p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "hipaa-grpc-audit-forwarder");
      // The longest line the forwarder reads, with room for the key, headers and batch framing.
      p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(MAX_REQUEST_SIZE));
      return p;
    }
  }
}
