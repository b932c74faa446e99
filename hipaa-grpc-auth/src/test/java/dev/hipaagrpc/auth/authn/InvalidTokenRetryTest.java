package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.ATTACKER_RSA;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client whose cached token the server refuses ({@code invalid_token}): the source is told, a
 * unary call is sent again once with a fresh token, and never more than once.
 */
class InvalidTokenRetryTest {

  private static final String ISSUER = "https://idp.example";
  private Server server;
  private ManagedChannel channel;
  private final AtomicInteger served = new AtomicInteger();

  /** Hands out a refused token until told, then a good one (or refused ones forever). */
  private static final class RotatingSource implements AccessTokenSource {
    final AtomicInteger fetches = new AtomicInteger();
    final AtomicInteger invalidations = new AtomicInteger();
    final boolean alwaysBad;
    volatile boolean stale = true;

    RotatingSource(boolean alwaysBad) {
      this.alwaysBad = alwaysBad;
    }

    @Override
    public String token() {
      fetches.incrementAndGet();
      return stale || alwaysBad
          ? JwtTestSupport.token(ISSUER, "rsa-1", ATTACKER_RSA.getPrivate(), T0).compact()
          : JwtTestSupport.token(ISSUER, "rsa-1", RSA_1.getPrivate(), T0).compact();
    }

    @Override
    public void invalidateIssuedBefore(Instant instant) {
      invalidations.incrementAndGet();
      stale = false;
    }
  }

  @BeforeEach
  void start() throws Exception {
    AuthenticationServerInterceptor auth =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(
                IssuerConfig.newBuilder(
                        ISSUER, KeySource.ofPublicKeys(Map.of("rsa-1", RSA_1.getPublic())))
                    .audience(JwtTestSupport.AUDIENCE)
                    .build())
            .clock(new JwtTestSupport.MutableClock(T0))
            .build();
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                ServerInterceptors.intercept(
                    Echo.service(
                        m -> {
                          served.incrementAndGet();
                          return m;
                        }),
                    auth))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private String call(RotatingSource source) {
    BearerCallCredentials creds =
        BearerCallCredentials.INSECURE_allowPlaintextForLoopbackTesting(source);
    return ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(channel, creds.refreshOnInvalidToken()),
        Echo.ECHO,
        CallOptions.DEFAULT.withCallCredentials(creds),
        "hello");
  }

  @Test
  void unary_refusedToken_sourceToldAndCallRetriedOnceWithFreshToken() {
    RotatingSource source = new RotatingSource(false);
    assertThat(call(source)).isEqualTo("hello");
    assertThat(source.invalidations).hasValue(1);
    assertThat(source.fetches).as("one refused, one fresh").hasValue(2);
    assertThat(served).hasValue(1);
  }

  @Test
  void unary_everyTokenRefused_exactlyOneRetryThenTheRefusal() {
    RotatingSource source = new RotatingSource(true);
    assertThatThrownBy(() -> call(source))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThat(source.fetches).as("no loop").hasValue(2);
    assertThat(served).hasValue(0);
  }

  @Test
  void streaming_refusedToken_notReplayedButSourceTold() throws Exception {
    RotatingSource source = new RotatingSource(false);
    BearerCallCredentials creds =
        BearerCallCredentials.INSECURE_allowPlaintextForLoopbackTesting(source);
    ClientCall<String, String> chat =
        ClientInterceptors.intercept(channel, creds.refreshOnInvalidToken())
            .newCall(Echo.CHAT, CallOptions.DEFAULT.withCallCredentials(creds));
    java.util.concurrent.CompletableFuture<Status> closed =
        new java.util.concurrent.CompletableFuture<>();
    chat.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    chat.request(1);
    chat.sendMessage("a");
    chat.halfClose();
    assertThat(closed.get(10, java.util.concurrent.TimeUnit.SECONDS).getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(source.invalidations).hasValue(1);
    assertThat(call(source)).as("the next call has the fresh token").isEqualTo("hello");
  }

  @Test
  void isInvalidToken_onlyOnUnauthenticatedWithTheBearerError() {
    Metadata t = new Metadata();
    t.put(
        Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer error=\"invalid_token\"");
    assertThat(InvalidTokenRetry.isInvalidToken(Status.UNAUTHENTICATED, t)).isTrue();
    assertThat(InvalidTokenRetry.isInvalidToken(Status.PERMISSION_DENIED, t)).isFalse();
    assertThat(InvalidTokenRetry.isInvalidToken(Status.UNAUTHENTICATED, new Metadata())).isFalse();
  }
}
