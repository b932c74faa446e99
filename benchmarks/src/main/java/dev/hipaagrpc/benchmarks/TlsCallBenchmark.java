package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.testing.Echo;
import dev.hipaagrpc.tls.HardenedServerDefaults;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.MtlsServerCredentials;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Unary calls and new-connection handshakes over real mutual TLS on loopback: grpc-java's own
 * {@code TlsServerCredentials}/{@code TlsChannelCredentials} with no interceptors (baseline)
 * against hipaa-grpc-tls's credentials (NIST profile, reloadable key and trust managers, CRL
 * checking) with the transport guard and the hardened defaults' deadline cap.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@SuppressWarnings("NullAway.Init") // fields are set in @Setup
public class TlsCallBenchmark {

  // The shared string echo harness: the same method with and without the hipaa-grpc layers.
  private static final MethodDescriptor<String, String> ECHO = Echo.ECHO;

  private Path dir;
  private Server baselineServer;
  private Server hipaaServer;
  private ChannelCredentials baselineClient;
  private ChannelCredentials hipaaClient;
  private ManagedChannel baselineChannel;
  private ManagedChannel hipaaChannel;

  private static ServerServiceDefinition echo() {
    return Echo.service();
  }

  private static NettyServerBuilder loopback(ServerCredentials creds) {
    return NettyServerBuilder.forAddress(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), creds);
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("tls-bench");
    DevPki pki = DevPki.create();
    DevPki.PemFiles server = pki.server().writePem(dir, "server");
    DevPki.PemFiles client = pki.client(pki.spiffeId("bench")).writePem(dir, "client");
    Path ca = pki.writeTrustBundle(dir.resolve("ca.pem"));
    Path crl = pki.writeCrls(dir.resolve("crl.pem"));

    baselineServer =
        loopback(
                TlsServerCredentials.newBuilder()
                    .keyManager(server.certificateChain().toFile(), server.privateKey().toFile())
                    .trustManager(ca.toFile())
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                    .build())
            .addService(echo())
            .build()
            .start();
    baselineClient =
        TlsChannelCredentials.newBuilder()
            .keyManager(client.certificateChain().toFile(), client.privateKey().toFile())
            .trustManager(ca.toFile())
            .build();

    NettyServerBuilder hipaa =
        loopback(
            MtlsServerCredentials.newBuilder()
                .identity(
                    IdentityMaterial.fromPemFiles(server.certificateChain(), server.privateKey()))
                .trust(TrustMaterial.fromPemFiles(ca, List.of(crl)))
                .build());
    HardenedServerDefaults.create().applyTo(hipaa);
    hipaaServer =
        hipaa
            .addService(
                ServerInterceptors.intercept(echo(), TransportGuardServerInterceptor.create()))
            .build()
            .start();
    hipaaClient =
        MtlsChannelCredentials.newBuilder()
            .trust(TrustMaterial.fromPemFiles(ca))
            .identity(IdentityMaterial.fromPemFiles(client.certificateChain(), client.privateKey()))
            .build();

    baselineChannel = channel(baselineServer, baselineClient);
    hipaaChannel = channel(hipaaServer, hipaaClient);
    call(baselineChannel);
    call(hipaaChannel);
  }

  private static ManagedChannel channel(Server server, ChannelCredentials creds) {
    return Grpc.newChannelBuilderForAddress("localhost", server.getPort(), creds).build();
  }

  private static String call(ManagedChannel channel) {
    return ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "ping");
  }

  private static String handshakeAndCall(Server server, ChannelCredentials creds)
      throws InterruptedException {
    ManagedChannel channel = channel(server, creds);
    try {
      return call(channel);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    baselineChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    hipaaChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    baselineServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    hipaaServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(dir);
  }

  /** Baseline: a unary call on an established grpc-java mTLS connection. */
  @Benchmark
  public String baselineUnaryCall() {
    return call(baselineChannel);
  }

  /** A unary call on an established hipaa-grpc-tls connection, through guard and deadline cap. */
  @Benchmark
  public String hipaaUnaryCall() {
    return call(hipaaChannel);
  }

  /** Baseline: a new connection (full mTLS handshake) plus one call. */
  @Benchmark
  public String baselineNewConnection() throws InterruptedException {
    return handshakeAndCall(baselineServer, baselineClient);
  }

  /** A new hipaa-grpc-tls connection (handshake with PKIX + CRL checks) plus one call. */
  @Benchmark
  public String hipaaNewConnection() throws InterruptedException {
    return handshakeAndCall(hipaaServer, hipaaClient);
  }
}
