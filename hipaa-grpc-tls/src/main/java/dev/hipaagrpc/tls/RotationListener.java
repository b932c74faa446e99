package dev.hipaagrpc.tls;

import java.nio.file.Path;

/**
 * Hears about reloads of file-backed {@link IdentityMaterial} and {@link TrustMaterial}.
 *
 * <p>Called on the reloading thread; implementations must be thread-safe, quick, and must not throw
 * (an exception is logged and ignored). Every refusal is also logged at WARN by the material
 * itself, so a listener is for metrics and alerts.
 */
public interface RotationListener {

  /**
   * New material from {@code file} was validated and is now served to new handshakes.
   *
   * @param file the certificate chain or trust bundle file that changed
   */
  default void onReloaded(Path file) {}

  /**
   * New content in {@code file} was refused; the previous material stays in use.
   *
   * @param file the certificate chain or trust bundle file
   * @param reason a fixed code: {@code unreadable}, {@code malformed}, {@code expired}, {@code
   *     not_yet_valid}, {@code key_mismatch}, {@code broken_chain}, {@code weak_key} or {@code
   *     empty}; never file content
   */
  default void onRefused(Path file, String reason) {}
}
