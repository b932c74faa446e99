package dev.hipaagrpc.audit.kafka;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditLine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the audit log's retention from deleting a file that was not shipped: wraps the retention
 * hook given to {@code ChainedFileSink.Builder.onSealed} and passes it a sealed file only once the
 * {@link KafkaAuditForwarder}'s persisted position (read from its position file, so the forwarder
 * may run in another process) is past the file's last record. Files that are not shipped yet are
 * deferred, in order, and handed over at a later sealing or {@link #retryDeferred} call (schedule
 * it, say, every minute, so that the last files are handed over after the writer stops sealing).
 *
 * <p>Thread-safe.
 */
public final class ShippingRetentionGate implements Consumer<Path> {

  private static final Logger logger = LoggerFactory.getLogger(ShippingRetentionGate.class);

  private final Path positionFile;
  private final Consumer<Path> hook;
  private final Deque<Path> deferred = new ArrayDeque<>();

  private ShippingRetentionGate(Path positionFile, Consumer<Path> hook) {
    this.positionFile = positionFile;
    this.hook = hook;
  }

  /**
   * A gate in front of {@code retentionHook} for the forwarder whose position is persisted in
   * {@code positionFile}.
   */
  public static ShippingRetentionGate create(Path positionFile, Consumer<Path> retentionHook) {
    return new ShippingRetentionGate(
        requireNonNull(positionFile, "positionFile"),
        requireNonNull(retentionHook, "retentionHook"));
  }

  /** Receives a sealed file: hands it (and any deferred before it) to the hook once shipped. */
  @Override
  public synchronized void accept(Path sealedFile) {
    deferred.addLast(requireNonNull(sealedFile, "sealedFile"));
    retryDeferred();
  }

  /** Hands every deferred file that is now shipped to the hook, oldest first. */
  public synchronized void retryDeferred() {
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

  /** The sealed files held back because they are not shipped yet, oldest first. */
  public synchronized List<Path> deferred() {
    return List.copyOf(deferred);
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
    long shippedFileFirst = AuditLine.firstSeq(Path.of(p.file));
    if (first < shippedFileFirst) {
      return true; // the forwarder moves to a file only after every line of the one before
    }
    if (first > shippedFileFirst || dir == null) {
      return false;
    }
    // The position is in this file: shipped when its last record (the ROTATE seal) is.
    for (Path f : AuditLine.logFiles(dir)) {
      long next = AuditLine.firstSeq(f);
      if (next > first) {
        return p.seq + 1 >= next;
      }
    }
    return false;
  }
}
