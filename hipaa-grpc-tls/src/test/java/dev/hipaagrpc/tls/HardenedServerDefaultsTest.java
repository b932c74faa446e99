package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
            .maxCallDuration(Duration.ofMillis(300))
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
  void deadlineCap_callWithoutDeadline_endsDeadlineExceededAndCancelsContext() throws Exception {
    TlsEcho.hangCancelled = new CountDownLatch(1);
    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, TlsEcho.HANG, CallOptions.DEFAULT, "hang"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(TlsEcho.hangCancelled.await(30, TimeUnit.SECONDS)).isTrue();
    assertStillServes();
  }

  @Test
  void deadlineCap_clientAsksForAnHour_cappedAnyway() {
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    TlsEcho.HANG,
                    CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.HOURS),
                    "hang"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertStillServes();
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

  @Test
  void maxInboundMetadataSize_oversizedHeaders_refusedWithStatus() {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(40 * 1024));
    assertThatThrownBy(
            () ->
                Echo.call(
                    io.grpc.ClientInterceptors.intercept(
                        channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                    "hello"))
        .isInstanceOf(StatusRuntimeException.class);
    assertStillServes();
  }

  @Test
  void builder_nonPositiveValues_refused() {
    assertThatThrownBy(() -> HardenedServerDefaults.newBuilder().maxInboundMessageSize(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> HardenedServerDefaults.newBuilder().maxCallDuration(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                HardenedServerDefaults.newBuilder().maxRstFramesPerWindow(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
