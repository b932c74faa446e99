package dev.hipaagrpc.auth.authn;

import io.grpc.Status;

/**
 * Why a credential was refused: a fixed failure code for {@code CallFacts}, the status code, and
 * the RFC 6750 error. Carries no message derived from the request; stack traces are not filled in
 * because failures are expected, frequent and attacker-driven.
 */
final class CredentialFailure extends Exception {
  private static final long serialVersionUID = 1L;

  /** RFC 6750 error values for the {@code www-authenticate} trailer. */
  enum BearerError {
    /** No bearer credential was offered: the challenge carries no error. */
    NONE,
    INVALID_REQUEST,
    INVALID_TOKEN,
    /** RFC 9449: the DPoP proof is missing or does not hold. */
    INVALID_DPOP_PROOF
  }

  private final String code;
  private final Status.Code status;
  private final BearerError bearerError;

  CredentialFailure(String code, Status.Code status, BearerError bearerError) {
    super(code, null, false, false);
    this.code = code;
    this.status = status;
    this.bearerError = bearerError;
  }

  static CredentialFailure invalidToken(String code) {
    return new CredentialFailure(code, Status.Code.UNAUTHENTICATED, BearerError.INVALID_TOKEN);
  }

  static CredentialFailure keysUnavailable() {
    return new CredentialFailure("keys_unavailable", Status.Code.UNAVAILABLE, BearerError.NONE);
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
