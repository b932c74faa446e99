package dev.hipaagrpc.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EchoTest {

  private Server server;
  private ManagedChannel channel;

  private void start(ServerServiceDefinition service) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build();
    server.start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void call_echoService_repliesWithRequest() throws Exception {
    start(Echo.service());

    assertThat(Echo.call(channel, "hello, wörld")).isEqualTo("hello, wörld");
    assertThat(Echo.call(channel, "")).isEmpty();
  }

  @Test
  void service_withReply_appliesItToEveryMessage() throws Exception {
    start(Echo.service(s -> s.toUpperCase(java.util.Locale.ROOT)));

    assertThat(Echo.call(channel, "abc")).isEqualTo("ABC");
  }

  @Test
  void chat_oneReplyPerMessageThenCompletes() throws Exception {
    start(Echo.service(s -> "re:" + s));
    List<String> replies = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<String> requests =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(Echo.CHAT, io.grpc.CallOptions.DEFAULT),
            new StreamObserver<String>() {
              @Override
              public void onNext(String value) {
                replies.add(value);
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });

    requests.onNext("a");
    requests.onNext("b");
    requests.onCompleted();

    assertThat(done.await(10, TimeUnit.SECONDS)).as("chat completed within 10 s").isTrue();
    assertThat(replies).containsExactly("re:a", "re:b");
  }

  @Test
  void method_extraMethod_sameServiceAndUtf8Marshaller() {
    MethodDescriptor<String, String> hang = Echo.method("Hang", MethodDescriptor.MethodType.UNARY);

    assertThat(hang.getFullMethodName()).isEqualTo("hipaagrpc.test.Echo/Hang");
    assertThat(hang.getServiceName()).isEqualTo(Echo.SERVICE);
    assertThat(Echo.ECHO.getFullMethodName()).isEqualTo("hipaagrpc.test.Echo/Echo");
    assertThat(Echo.CHAT.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
    assertThat(Echo.UTF8.parse(Echo.UTF8.stream("ünïcode"))).isEqualTo("ünïcode");
  }

  @Test
  void call_unknownMethodOnServer_failsWithStatus() throws Exception {
    start(ServerServiceDefinition.builder("other.Service").build());

    assertThatThrownBy(() -> Echo.call(channel, "x"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }
}
