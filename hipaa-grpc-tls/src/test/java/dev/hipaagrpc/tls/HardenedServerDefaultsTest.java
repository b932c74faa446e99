package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HardenedServerDefaultsTest {

  private static final DevPki PKI = DevPki.create();
  private static Server server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() {
    DevPki.Credential s = PKI.server();
    DevPki.Credential c = PKI.client(PKI.spiffeId("ns/a/sa/b"));
    HardenedServerDefaults limits =
        HardenedServerDefaults.newBuilder()
            .maxInboundMessageSize(64 * 1024)
            .maxInboundMetadataSize(4 * 1024)
            .build();
    server =
        TlsEcho.start(
            MtlsServerCredentials.newBuilder()
                .identity(IdentityMaterial.of(s.privateKey(), s.chain()))
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .build(),
            limits::applyTo);
    channel =
        TlsEcho.channel(
            server,
            MtlsChannelCredentials.newBuilder()
                .trust(TrustMaterial.of(List.of(PKI.rootCertificate())))
                .identity(IdentityMaterial.of(c.privateKey(), c.chain()))
                .build());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    TlsEcho.shutdown(channel);
    TlsEcho.shutdown(server);
  }

  private static void assertStillServes() {
    assertThat(Echo.call(channel, "ok")).isEqualTo("ok");
  }

  @Test
  void maxInboundMessageSize_oversizedRequest_resourceExhausted() {
    String big = "x".repeat(128 * 1024);
    assertThatThrownBy(() -> Echo.call(channel, big))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertStillServes();
  }

  @ParameterizedTest
  @ValueSource(ints = {4 * 1024 + 100, 6 * 1024, 40 * 1024, 400 * 1024})
  void maxInboundMetadataSize_oneOversizedHeader_failsOnlyItsOwnCall(int size) throws Exception {
    // A call in flight on the same connection (as another user's, multiplexed by a portal).
    ClientCall<String, String> inFlight =
        channel.newCall(TlsEcho.HANG, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    CompletableFuture<Status> inFlightClosed = new CompletableFuture<>();
    inFlight.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            inFlightClosed.complete(status);
          }
        },
        new Metadata());
    inFlight.request(1);
    inFlight.sendMessage("hang");
    inFlight.halfClose();
    assertStillServes(); // the in-flight call's stream exists before the oversized one

    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(size));
    for (int i = 0; i < 5; i++) { // deterministic: every attempt fails, none succeeds by chance
      assertThatThrownBy(
              () ->
                  Echo.call(
                      io.grpc.ClientInterceptors.intercept(
                          channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                      "hello"))
          .isInstanceOf(StatusRuntimeException.class);
    }
    assertThat(inFlightClosed).as("the other call on the connection is untouched").isNotDone();
    assertStillServes();
    inFlight.cancel("done", null);
    assertThat(inFlightClosed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void maxInboundMetadataSize_justUnderTheLimit_served() {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(3500));
    assertThat(
            Echo.call(
                io.grpc.ClientInterceptors.intercept(
                    channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                "hello"))
        .isEqualTo("hello");
  }

  @Test
  void builder_nonPositiveValues_refused() {
    assertThatThrownBy(() -> HardenedServerDefaults.newBuilder().maxInboundMessageSize(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HardenedServerDefaults.newBuilder().maxInboundMetadataSize(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                HardenedServerDefaults.newBuilder().maxRstFramesPerWindow(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
