package dev.hipaagrpc.tls;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listener plumbing shared by the two file-backed materials (their schedule is core's {@code
 * PeriodicReload}).
 */
final class Reloader {

  private static final Logger logger = LoggerFactory.getLogger(Reloader.class);

  private final List<RotationListener> listeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> changeHooks = new CopyOnWriteArrayList<>();
  // For the posture report: the reason of the last refused reload, cleared by the next good one;
  // and the period of scheduled reloads (0 when none).
  private volatile @Nullable String lastRefusal;
  private volatile long reloadPeriodSeconds;

  @Nullable String lastRefusal() {
    return lastRefusal;
  }

  long reloadPeriodSeconds() {
    return reloadPeriodSeconds;
  }

  void scheduled(java.time.Duration period) {
    reloadPeriodSeconds = period.toSeconds();
  }

  /** Runs {@code hook} after every change of material, reloaded or updated. */
  void onChange(Runnable hook) {
    changeHooks.add(hook);
  }

  void changed() {
    for (Runnable hook : changeHooks) {
      try {
        hook.run();
      } catch (RuntimeException e) {
        logger.warn("Change hook threw; ignored", e);
      }
    }
  }

  void addListener(RotationListener listener) {
    listeners.add(listener);
  }

  void reloaded(String kind, Path file) {
    lastRefusal = null;
    logger.info("Reloaded {} from {}", kind, file);
    for (RotationListener l : listeners) {
      try {
        l.onReloaded(file);
      } catch (RuntimeException e) {
        logger.warn("RotationListener threw; ignored", e);
      }
    }
  }

  void refused(String kind, Path file, MaterialException e) {
    lastRefusal = e.reason();
    // The message names a reason and at most a certificate thumbprint: never key bytes.
    logger.warn(
        "Refused new {} from {} ({}): {}; keeping the current one",
        kind,
        file,
        e.reason(),
        e.getMessage());
    for (RotationListener l : listeners) {
      try {
        l.onRefused(file, e.reason());
      } catch (RuntimeException re) {
        logger.warn("RotationListener threw; ignored", re);
      }
    }
  }
}
