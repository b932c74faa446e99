package dev.hipaagrpc.auth.authn;

import dev.hipaagrpc.core.Principal;
import java.security.Key;
import org.jspecify.annotations.Nullable;

/**
 * The result of verifying one token: what every cache hit re-checks, and the principal. Immutable
 * but for a memo of the principal derived from it.
 */
final class JwtVerified {
  final IssuerConfig issuer;

  /** The verification key; null for an introspected opaque token. */
  final @Nullable Key key;

  final String algorithm;

  /**
   * The signature in {@link SignatureForm#canonical canonical} form; a cache hit must present this
   * signature (in any accepted form) for the cached signing input.
   */
  final byte[] canonicalSignature;

  final long expiresAtMillis;
  final long notBeforeMillis;
  final long skewMillis;

  /**
   * When a cache hit must verify again from scratch: {@link Long#MAX_VALUE} for a JWT, the
   * introspection cache bound for an opaque token.
   */
  final long recheckAtMillis;

  final @Nullable String tokenId;
  final @Nullable String boundThumbprint;

  /** {@code cnf.jkt} (RFC 9449): the JWK thumbprint every DPoP proof for this token must carry. */
  final @Nullable String dpopJkt;

  final Principal principal;

  /**
   * The principal last derived from this token presented by a service over mTLS (immutable; races
   * only rebuild an equal one).
   */
  volatile @Nullable Principal lastViaService;

  JwtVerified(
      IssuerConfig issuer,
      @Nullable Key key,
      String algorithm,
      byte[] canonicalSignature,
      long expiresAtMillis,
      long notBeforeMillis,
      long recheckAtMillis,
      @Nullable String tokenId,
      @Nullable String boundThumbprint,
      @Nullable String dpopJkt,
      Principal principal) {
    this.issuer = issuer;
    this.key = key;
    this.algorithm = algorithm;
    this.canonicalSignature = canonicalSignature;
    this.expiresAtMillis = expiresAtMillis;
    this.notBeforeMillis = notBeforeMillis;
    this.skewMillis = issuer.clockSkew().toMillis();
    this.recheckAtMillis = recheckAtMillis;
    this.tokenId = tokenId;
    this.boundThumbprint = boundThumbprint;
    this.dpopJkt = dpopJkt;
    this.principal = principal;
  }
}
