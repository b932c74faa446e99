package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.auth.authn.AuthenticationServerInterceptor;
import dev.hipaagrpc.auth.authn.IssuerConfig;
import dev.hipaagrpc.auth.authn.KeySource;
import dev.hipaagrpc.auth.authn.PeerPrincipalMapper;
import dev.hipaagrpc.auth.authz.AuthorizationPolicy;
import dev.hipaagrpc.auth.authz.AuthorizationServerInterceptor;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor;
import dev.hipaagrpc.benchmarks.proto.masking.BenchPatientRecord;
import dev.hipaagrpc.benchmarks.proto.masking.BenchReferenceRange;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.masking.MaskingServerInterceptor;
import dev.hipaagrpc.masking.Redactor;
import dev.hipaagrpc.masking.StatusSanitizerServerInterceptor;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.jsonwebtoken.Jwts;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
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
 * The whole call path minus audit, per call, over the in-process transport on one thread (server
 * and channel on the direct executor, so the figure is CPU on the call thread): a plain grpc-java
 * server against the same service behind a {@link SecurityStack} wired as the example wires it
 * (transport guard, token-and-certificate authentication with a real ES256 JWT and a real mTLS
 * {@link SSLSession} from an in-memory handshake, a default-deny policy, rate limits that do not
 * refuse, the status sanitizer and masking of the 1 KB record for a clinician).
 *
 * <p>Report {@code stackWithoutAudit - plainGrpc} (the stack's extra time per call) and {@code
 * plainGrpc / stackWithoutAudit} (its throughput relative to plain grpc-java); run with {@code
 * -prof gc} for the allocation per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@SuppressWarnings("NullAway.Init") // fields are set in @Setup
public class StackCallBenchmark {

  private static final String ISSUER = "https://idp.example";
  private static final String METHOD_NAME = "bench.Stack/GetRecord";
  private static final MethodDescriptor<BenchReferenceRange, BenchPatientRecord> METHOD =
      MethodDescriptor.<BenchReferenceRange, BenchPatientRecord>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(METHOD_NAME)
          .setRequestMarshaller(ProtoUtils.marshaller(BenchReferenceRange.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(BenchPatientRecord.getDefaultInstance()))
          .build();
  private static final BenchReferenceRange REQUEST =
      BenchReferenceRange.newBuilder().setAnalyte("glucose").build();

  private Server plainServer;
  private Server stackServer;
  private ManagedChannel plainChannel;
  private ManagedChannel stackChannel;

  @Setup(Level.Trial)
  @SuppressWarnings("JavaUtilDate") // jjwt's builder API
  public void setUp() throws Exception {
    DevPki pki = DevPki.create();
    String portal = pki.spiffeId("portal");
    SSLSession session = TlsGuardBenchmark.handshake(pki, pki.server(), pki.client(portal));

    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = g.generateKeyPair();
    Instant now = Instant.now();
    String token =
        Jwts.builder()
            .header()
            .keyId("k1")
            .and()
            .issuer(ISSUER)
            .audience()
            .add("api")
            .and()
            .subject("user-1")
            .id("jti-1")
            .issuedAt(Date.from(now))
            .expiration(Date.from(now.plusSeconds(3600)))
            .claim("roles", List.of("clinician"))
            .claim("scope", "patient/Observation.read openid")
            .signWith(keys.getPrivate())
            .compact();
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);

    AuthenticationServerInterceptor authentication =
        AuthenticationServerInterceptor.newBuilder()
            .mode(AuthenticationServerInterceptor.Mode.TOKEN_AND_CERTIFICATE)
            .addIssuer(
                IssuerConfig.newBuilder(
                        ISSUER, KeySource.ofPublicKeys(Map.of("k1", keys.getPublic())))
                    .audience("api")
                    .build())
            .peerPrincipalMapper(
                PeerPrincipalMapper.newBuilder()
                    .allowSpiffeTrustDomain(pki.trustDomain())
                    .mapSpiffeId(portal, "patient-portal")
                    .build())
            .build();
    Redactor redactor = Redactor.create();
    SecurityStack stack =
        SecurityStack.newBuilder()
            .allowUnsafeWithoutAudit()
            .transportGuard(TransportGuardServerInterceptor.create())
            .authentication(authentication)
            .authorization(
                AuthorizationServerInterceptor.create(
                    AuthorizationPolicy.newBuilder("bench")
                        .rule(
                            AuthorizationPolicy.allow("read-record")
                                .methods(METHOD_NAME)
                                .anyRole("clinician"))
                        .build()))
            .rateLimit(
                RateLimitServerInterceptor.newBuilder().defaultLimit(1e9, 1_000_000_000L).build())
            .statusSanitizer(
                StatusSanitizerServerInterceptor.newBuilder().redactor(redactor).build())
            .masking(MaskingServerInterceptor.create(redactor))
            .exemptFromAuthentication(SecurityStack.HEALTH)
            .build();

    // What a TLS transport would put on the call: the session and its security level. Outermost
    // on both servers (added last), so both pay the same for it.
    Attributes attributes =
        Attributes.newBuilder().set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session).build();
    ServerInterceptor tls =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata h, ServerCallHandler<ReqT, RespT> next) {
            return next.startCall(
                new ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT>(call) {
                  @Override
                  public Attributes getAttributes() {
                    return attributes;
                  }

                  @Override
                  public SecurityLevel getSecurityLevel() {
                    return SecurityLevel.PRIVACY_AND_INTEGRITY;
                  }
                },
                h);
          }
        };
    String plainName = InProcessServerBuilder.generateName();
    plainServer =
        InProcessServerBuilder.forName(plainName)
            .directExecutor()
            .addService(service())
            .intercept(tls)
            .build()
            .start();
    String stackName = InProcessServerBuilder.generateName();
    InProcessServerBuilder stackBuilder =
        InProcessServerBuilder.forName(stackName).directExecutor();
    stack.applyTo(stackBuilder);
    stackServer = stackBuilder.addService(stack.wrap(service())).intercept(tls).build().start();
    plainChannel = channel(plainName, headers);
    stackChannel = channel(stackName, headers);
    if (plainGrpc().getGivenName().isEmpty() || !stackWithoutAudit().getSsn().startsWith("*")) {
      throw new IllegalStateException("the calls did not go through as configured");
    }
  }

  private static ManagedChannel channel(String name, Metadata headers) {
    return InProcessChannelBuilder.forName(name)
        .directExecutor()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
        .build();
  }

  private static ServerServiceDefinition service() {
    BenchPatientRecord record = MaskingBenchmark.record();
    return ServerServiceDefinition.builder("bench.Stack")
        .addMethod(
            METHOD,
            ServerCalls.asyncUnaryCall(
                (request, response) -> {
                  response.onNext(record);
                  response.onCompleted();
                }))
        .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    for (ManagedChannel c : List.of(plainChannel, stackChannel)) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : List.of(plainServer, stackServer)) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Baseline: the same unary call to a plain grpc-java server. */
  @Benchmark
  public BenchPatientRecord plainGrpc() {
    return ClientCalls.blockingUnaryCall(plainChannel, METHOD, CallOptions.DEFAULT, REQUEST);
  }

  /** The same call through the stack without audit. */
  @Benchmark
  public BenchPatientRecord stackWithoutAudit() {
    return ClientCalls.blockingUnaryCall(stackChannel, METHOD, CallOptions.DEFAULT, REQUEST);
  }

  /**
   * A cross-check for shared, overloaded machines, where wall-clock times swing with the scheduler:
   * both calls timed by the calling thread's CPU time (which, on the direct executor, is the whole
   * server and client path) and by the process's CPU time (every thread, the timer's included), in
   * alternating rounds. Run: {@code java -cp benchmarks/target/benchmarks.jar
   * 'dev.hipaagrpc.benchmarks.StackCallBenchmark$CpuTime'}.
   */
  public static final class CpuTime {
    private CpuTime() {}

    public static void main(String[] args) throws Exception {
      StackCallBenchmark b = new StackCallBenchmark();
      b.setUp();
      java.lang.management.ThreadMXBean mx =
          java.lang.management.ManagementFactory.getThreadMXBean();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      int iterations = 20_000;
      double[] thread = {Double.MAX_VALUE, Double.MAX_VALUE};
      double[] process = {Double.MAX_VALUE, Double.MAX_VALUE};
      for (int round = 0; round < 12; round++) {
        for (int which = 0; which < 2; which++) {
          long t0 = mx.getCurrentThreadCpuTime();
          long p0 = os.getProcessCpuTime();
          for (int i = 0; i < iterations; i++) {
            if (which == 0) {
              b.plainGrpc();
            } else {
              b.stackWithoutAudit();
            }
          }
          thread[which] =
              Math.min(thread[which], (mx.getCurrentThreadCpuTime() - t0) / (double) iterations);
          process[which] =
              Math.min(process[which], (os.getProcessCpuTime() - p0) / (double) iterations);
        }
      }
      b.tearDown();
      System.out.printf(
          java.util.Locale.ROOT,
          "plain grpc-java      %8.0f ns/call thread CPU  %8.0f ns/call process CPU%n"
              + "stack without audit  %8.0f ns/call thread CPU  %8.0f ns/call process CPU%n"
              + "extra per call       %8.0f ns thread CPU      %8.0f ns process CPU%n"
              + "throughput vs plain  %7.1f%% (thread CPU)      %7.1f%% (process CPU)%n",
          thread[0],
          process[0],
          thread[1],
          process[1],
          thread[1] - thread[0],
          process[1] - process[0],
          100 * thread[0] / thread[1],
          100 * process[0] / process[1]);
    }
  }
}
