package dev.hipaagrpc.audit.kafka;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditLine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the audit log's retention from deleting a file that was not shipped: wraps the retention
 * hook given to {@code ChainedFileSink.Builder.onSealed} and passes it a sealed file only once the
 * {@link KafkaAuditForwarder}'s persisted position (read from its position file, so the forwarder
 * may run in another process) is in a later file: every record of the sealed file, its {@code
 * ROTATE} seal included, was acknowledged, and the forwarder, resuming, never needs the file again.
 * A position that the log directory does not hold byte for byte (another log's, or a replaced
 * log's) ships nothing. Files that are not shipped yet are deferred, in order, and handed over at a
 * later sealing or {@link #retryDeferred} call (schedule it, say, every minute, so that the last
 * files are handed over after the writer stops sealing).
 *
 * <p>The hook runs on the executor given to {@link #create(Path, Consumer, Executor)} (so that
 * archiving a backlog after an outage never holds the audit writer, which calls {@link #accept}),
 * or on the calling thread with {@link #create(Path, Consumer)}. Files reach the hook one at a
 * time, oldest first. Thread-safe.
 */
public final class ShippingRetentionGate implements Consumer<Path> {

  private static final Logger logger = LoggerFactory.getLogger(ShippingRetentionGate.class);

  private final Path positionFile;
  private final Consumer<Path> hook;
  private final Executor executor;
  private final Queue<Path> incoming = new ConcurrentLinkedQueue<>();
  private final Deque<Path> deferred = new ArrayDeque<>(); // guarded by this

  private ShippingRetentionGate(Path positionFile, Consumer<Path> hook, Executor executor) {
    this.positionFile = positionFile;
    this.hook = hook;
    this.executor = executor;
  }

  /**
   * A gate in front of {@code retentionHook} for the forwarder whose position is persisted in
   * {@code positionFile}; the hook runs on the thread that seals the file or calls {@link
   * #retryDeferred}.
   */
  public static ShippingRetentionGate create(Path positionFile, Consumer<Path> retentionHook) {
    return create(positionFile, retentionHook, Runnable::run);
  }

  /**
   * A gate in front of {@code retentionHook} for the forwarder whose position is persisted in
   * {@code positionFile}; the hook runs on {@code executor} (a single thread is enough).
   */
  public static ShippingRetentionGate create(
      Path positionFile, Consumer<Path> retentionHook, Executor executor) {
    return new ShippingRetentionGate(
        requireNonNull(positionFile, "positionFile"),
        requireNonNull(retentionHook, "retentionHook"),
        requireNonNull(executor, "executor"));
  }

  /**
   * Receives a sealed file: queues it, and has every queued file that is shipped handed to the hook
   * on the executor. Never waits for the hook with an executor.
   */
  @Override
  public void accept(Path sealedFile) {
    incoming.add(requireNonNull(sealedFile, "sealedFile"));
    executor.execute(this::retryDeferred);
  }

  /** Hands every deferred file that is now shipped to the hook, oldest first, on this thread. */
  public synchronized void retryDeferred() {
    for (Path f; (f = incoming.poll()) != null; ) {
      deferred.addLast(f);
    }
    while (!deferred.isEmpty()) {
      Path f = deferred.peekFirst();
      boolean ok;
      try {
        ok = shipped(f);
      } catch (IOException | RuntimeException e) {
        logger.warn(
            "audit retention deferred: cannot read the shipping position ({})",
            e.getClass().getSimpleName());
        return;
      }
      if (!ok) {
        return;
      }
      deferred.removeFirst();
      hook.accept(f);
    }
  }

  /** The sealed files held back because they are not shipped yet (or not yet examined). */
  public synchronized List<Path> deferred() {
    List<Path> all = new ArrayList<>(deferred);
    all.addAll(incoming);
    return List.copyOf(all);
  }

  /**
   * Whether every record of the sealed {@code file} was acknowledged by the broker, according to
   * the persisted position.
   *
   * @throws IOException if the position file or the log directory cannot be read
   * @throws IllegalStateException if the position file is damaged
   */
  public boolean shipped(Path file) throws IOException {
    ShippingPosition p = ShippingPosition.read(positionFile);
    long first = AuditLine.firstSeq(requireNonNull(file, "file"));
    if (p == null || first < 0) {
      return false;
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !p.heldBy(dir)) {
      return false; // another log's position, or this log was replaced: nothing is known shipped
    }
    // The forwarder moves to a file only after every line of the one before, its seal included;
    // while the position is in this file, a restarted forwarder still resumes from it.
    return first < AuditLine.firstSeq(Path.of(p.file));
  }
}
