package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import io.grpc.CallCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.io.IOException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client {@link CallCredentials} that attach {@code authorization: Bearer <token>} from a {@link
 * AccessTokenSource} to every call.
 *
 * <p>Refuses to send a token over a channel whose security level is not {@code
 * PRIVACY_AND_INTEGRITY} (that is, over plaintext): such a call fails with {@code UNAUTHENTICATED}
 * before anything is sent. When the source cannot supply a token the call fails with {@code
 * UNAVAILABLE}. The token is fetched on the channel's application executor, never on a transport
 * thread.
 *
 * <p>Use with {@code stub.withCallCredentials(...)} or {@code CallOptions.withCallCredentials}.
 *
 * <p>Thread-safe.
 */
public final class BearerCallCredentials extends CallCredentials {
  private static final Logger logger = LoggerFactory.getLogger(BearerCallCredentials.class);

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final AccessTokenSource source;
  private final boolean allowInsecure;

  private BearerCallCredentials(AccessTokenSource source, boolean allowInsecure) {
    this.source = source;
    this.allowInsecure = allowInsecure;
  }

  /** Returns credentials that send tokens from {@code source} over private channels only. */
  public static BearerCallCredentials create(AccessTokenSource source) {
    return new BearerCallCredentials(requireNonNull(source, "source"), false);
  }

  /**
   * Returns credentials that also send tokens over channels without privacy (plaintext).
   *
   * <p>DANGEROUS: anyone on the path can read and replay the token. For tests against a loopback
   * server only.
   */
  public static BearerCallCredentials INSECURE_allowPlaintextForLoopbackTesting(
      AccessTokenSource source) {
    return new BearerCallCredentials(requireNonNull(source, "source"), true);
  }

  /**
   * A client interceptor to install with these credentials (on the channel or the stub): when the
   * server refuses a call's token as {@code invalid_token} (revoked, rotated key, expired early),
   * it tells the token source, which drops the token if it had it before the call started, and
   * sends a unary call again once with a fresh token. Never more than one retry per call, so a
   * server that refuses every token cannot make the client loop; streaming calls are not replayed
   * (the next call gets the fresh token). Thread-safe.
   */
  public ClientInterceptor refreshOnInvalidToken() {
    return new InvalidTokenRetry(source, java.time.Clock.systemUTC());
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    apply(
        requestInfo,
        appExecutor,
        applier,
        source,
        allowInsecure,
        (headers, token) -> headers.put(AUTHORIZATION, "Bearer " + token));
  }

  /** How a token becomes this call's headers. */
  interface TokenHeaders {
    void put(Metadata headers, String token);
  }

  /**
   * Shared by the bearer and DPoP credentials: refuses a channel without privacy (unless {@code
   * allowInsecure}), fetches the token on the application executor, and fails the call with
   * UNAVAILABLE (no detail) when there is none.
   */
  static void apply(
      RequestInfo requestInfo,
      Executor appExecutor,
      MetadataApplier applier,
      AccessTokenSource source,
      boolean allowInsecure,
      TokenHeaders tokenHeaders) {
    if (requestInfo.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY && !allowInsecure) {
      applier.fail(
          Status.UNAUTHENTICATED.withDescription(
              "Refusing to send a bearer token over a channel without privacy and integrity"));
      return;
    }
    appExecutor.execute(
        () -> {
          String token;
          try {
            token = source.token();
          } catch (IOException | RuntimeException e) {
            logger.warn("Could not obtain bearer credentials ({})", e.getClass().getSimpleName());
            applier.fail(
                Status.UNAVAILABLE
                    .withDescription("Could not obtain an access token")
                    .withCause(e));
            return;
          }
          Metadata headers = new Metadata();
          tokenHeaders.put(headers, token);
          applier.apply(headers);
        });
  }
}
