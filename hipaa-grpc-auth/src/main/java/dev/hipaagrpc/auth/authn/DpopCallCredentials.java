package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import io.grpc.CallCredentials;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.security.KeyPair;
import java.time.Clock;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * Client {@link CallCredentials} for DPoP-bound access tokens (RFC 9449): every call carries {@code
 * authorization: DPoP <token>} and a fresh proof in {@code dpop}, signed with the client's key, for
 * this call's {@code htu} ({@code https://<authority>/<full method name>}), with a new {@code jti},
 * the current {@code iat} and the token's {@code ath}.
 *
 * <p>The token must be bound to this key: its {@code cnf.jkt} is {@link #jwkThumbprint()}, which is
 * what the authorization server puts there when the token request carried a proof of this key. Like
 * {@link BearerCallCredentials}, refuses to send anything over a channel without privacy and
 * integrity, and fails a call with {@code UNAVAILABLE} when no token can be obtained.
 *
 * <p>Thread-safe.
 */
public final class DpopCallCredentials extends CallCredentials {
  private final AccessTokenSource source;
  private final KeyPair key;
  private final PublicJwk<?> jwk;
  private final Clock clock;

  private DpopCallCredentials(AccessTokenSource source, KeyPair key, Clock clock) {
    this.source = source;
    this.key = key;
    this.clock = clock;
    this.jwk = Jwks.builder().key(key.getPublic()).build();
  }

  /**
   * Credentials proving possession of {@code key} (EC P-256/384/521, RSA of 2048 bits or more, or
   * Ed25519).
   *
   * @throws IllegalArgumentException if the key pair is of another kind
   */
  public static DpopCallCredentials create(AccessTokenSource source, KeyPair key) {
    return create(source, key, Clock.systemUTC());
  }

  static DpopCallCredentials create(AccessTokenSource source, KeyPair key, Clock clock) {
    requireNonNull(source, "source");
    requireNonNull(key, "key");
    String alg = key.getPublic().getAlgorithm();
    if (!alg.equals("EC") && !alg.equals("RSA") && !alg.equals("Ed25519") && !alg.equals("EdDSA")) {
      throw new IllegalArgumentException("DPoP needs an EC, RSA or Ed25519 key pair");
    }
    return new DpopCallCredentials(source, key, requireNonNull(clock, "clock"));
  }

  /** The RFC 7638 SHA-256 thumbprint of the public key: the {@code cnf.jkt} of bound tokens. */
  public String jwkThumbprint() {
    return jwk.thumbprint().toString();
  }

  /** A proof for one request (package-private for tests). */
  @SuppressWarnings("JavaUtilDate") // jjwt's API
  String proof(String htu, String accessToken) {
    return Jwts.builder()
        .header()
        .type("dpop+jwt")
        .jwk(jwk)
        .and()
        .id(UUID.randomUUID().toString())
        .claim("htm", "POST")
        .claim("htu", htu)
        .issuedAt(new Date(clock.millis()))
        .claim("ath", DpopProofs.ath(accessToken))
        .signWith(key.getPrivate())
        .compact();
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    String htu =
        DpopProofs.htu(
            requestInfo.getAuthority(), requestInfo.getMethodDescriptor().getFullMethodName());
    BearerCallCredentials.apply(
        requestInfo,
        appExecutor,
        applier,
        source,
        false,
        (headers, token) -> {
          headers.put(AuthenticationServerInterceptor.AUTHORIZATION, "DPoP " + token);
          headers.put(AuthenticationServerInterceptor.DPOP, proof(htu, token));
        });
  }
}
