package dev.hipaagrpc.tls;

/** Why key or trust material was refused, as a fixed code that is safe to log and report. */
final class MaterialException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String reason;

  MaterialException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  String reason() {
    return reason;
  }
}
