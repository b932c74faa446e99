package dev.hipaagrpc.auth;

import io.grpc.Status;

/**
 * Why a credential was refused: a fixed failure code for {@code CallFacts}, the status code, and
 * the RFC 6750 error. Carries no message derived from the request; stack traces are not filled in
 * because failures are expected, frequent and attacker-driven.
 */
final class JwtValidationFailure extends Exception {
  private static final long serialVersionUID = 1L;

  /** RFC 6750 error values for the {@code www-authenticate} trailer. */
  enum BearerError {
    /** No bearer credential was offered: the challenge carries no error. */
    NONE,
    INVALID_REQUEST,
    INVALID_TOKEN
  }

  private final String code;
  private final Status.Code status;
  private final BearerError bearerError;

  JwtValidationFailure(String code, Status.Code status, BearerError bearerError) {
    super(code, null, false, false);
    this.code = code;
    this.status = status;
    this.bearerError = bearerError;
  }

  static JwtValidationFailure invalidToken(String code) {
    return new JwtValidationFailure(code, Status.Code.UNAUTHENTICATED, BearerError.INVALID_TOKEN);
  }

  static JwtValidationFailure keysUnavailable() {
    return new JwtValidationFailure("keys_unavailable", Status.Code.UNAVAILABLE, BearerError.NONE);
  }

  String code() {
    return code;
  }

  Status.Code status() {
    return status;
  }

  BearerError bearerError() {
    return bearerError;
  }
}
