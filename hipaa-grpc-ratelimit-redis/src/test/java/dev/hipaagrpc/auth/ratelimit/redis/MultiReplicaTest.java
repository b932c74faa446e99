package dev.hipaagrpc.auth.ratelimit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.hipaagrpc.audit.AuditDispatcher;
import dev.hipaagrpc.audit.AuditServerInterceptor;
import dev.hipaagrpc.auth.authn.AuthenticationServerInterceptor;
import dev.hipaagrpc.auth.authn.IssuerConfig;
import dev.hipaagrpc.auth.authn.KeySource;
import dev.hipaagrpc.auth.authz.AuthorizationPolicy;
import dev.hipaagrpc.auth.authz.AuthorizationServerInterceptor;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor.Priority;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.testing.Echo;
import dev.hipaagrpc.testing.InMemoryAuditSink;
import dev.hipaagrpc.testing.RedisServerProcess;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.jsonwebtoken.Jwts;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three replicas with the full stack (audit, authentication, authorization, rate limit) sharing one
 * real Redis: one global limit under concurrent callers; Redis killed: each priority class as
 * configured, no call past its deadline; Redis restarted: the shared limit again.
 */
class MultiReplicaTest {

  static final String ISSUER = "https://idp.example";
  static final MethodDescriptor<String, String> READ =
      Echo.method("Read", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<String, String> EXPORT =
      Echo.method("Export", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<String, String> CHART =
      Echo.method("Chart", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<String, String> TREAT =
      Echo.method("Treat", MethodDescriptor.MethodType.UNARY);
  static final double READ_RATE = 40;
  static final long READ_BURST = 20;
  static final long EXPORT_BURST = 5;
  static final long CHART_BURST = 5;
  static final long DEADLINE_MS = 3_000;

  final List<AutoCloseable> closing = new ArrayList<>();
  final ExecutorService callers = Executors.newCachedThreadPool();
  final List<Replica> replicas = new ArrayList<>();
  RedisServerProcess redis;
  KeyPair keys;

  static final class Replica {
    RedisRateLimitStore store;
    RateLimitServerInterceptor limiter;
    Server server;
    ManagedChannel channel;
  }

  @AfterEach
  void stop() throws Exception {
    callers.shutdownNow();
    for (Replica r : replicas) {
      r.channel.shutdownNow();
      r.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : closing) {
      c.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  Replica replica(byte[] keySecret) throws Exception {
    Replica r = new Replica();
    r.store =
        RedisRateLimitStore.newBuilder(redis.uri(), keySecret)
            .commandTimeout(Duration.ofMillis(100))
            .build();
    closing.add(r.store);
    ExecutorService serverExecutor = Executors.newFixedThreadPool(4);
    closing.add(serverExecutor::shutdownNow);
    r.limiter =
        RateLimitServerInterceptor.newBuilder()
            .sharedStore(r.store)
            .executor(serverExecutor)
            .defaultLimit(READ_RATE, READ_BURST) // clinical reads: LOCAL_FALLBACK, the default
            .methodGroup("export", 0.01, EXPORT_BURST, EXPORT.getFullMethodName())
            .methodGroupPriority("export", Priority.FAIL_CLOSED)
            .methodGroup("chart", 0.01, CHART_BURST, CHART.getFullMethodName())
            .methodGroupPriority("chart", Priority.LOCAL_FALLBACK)
            .methodGroup("treatment", 1, 1, TREAT.getFullMethodName())
            .methodGroupPriority("treatment", Priority.NEVER_LIMITED)
            .build();
    AuditDispatcher dispatcher = AuditDispatcher.newBuilder(InMemoryAuditSink.create()).build();
    closing.add(dispatcher);
    SecurityStack stack =
        SecurityStack.newBuilder()
            .audit(AuditServerInterceptor.newBuilder(dispatcher, new byte[32]).build())
            // In-process transport: there is no TLS session to guard (the guard has its own
            // tests over real Netty).
            .allowUnsafeWithoutTransportGuard()
            .authentication(
                AuthenticationServerInterceptor.newBuilder()
                    .addIssuer(
                        IssuerConfig.newBuilder(
                                ISSUER, KeySource.ofPublicKeys(Map.of("k1", keys.getPublic())))
                            .audience("api")
                            .build())
                    .build())
            .authorization(
                AuthorizationServerInterceptor.create(
                    AuthorizationPolicy.newBuilder("replicas")
                        .rule(
                            AuthorizationPolicy.allow("clinical")
                                .methods(
                                    READ.getFullMethodName(),
                                    EXPORT.getFullMethodName(),
                                    CHART.getFullMethodName(),
                                    TREAT.getFullMethodName())
                                .anyRole("clinician"))
                        .build()))
            .rateLimit(r.limiter)
            .build();
    ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(Echo.SERVICE);
    for (MethodDescriptor<String, String> m : List.of(READ, EXPORT, CHART, TREAT)) {
      service.addMethod(
          m,
          ServerCalls.asyncUnaryCall(
              (req, out) -> {
                out.onNext(req);
                out.onCompleted();
              }));
    }
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(serverExecutor);
    stack.applyTo(builder);
    r.server = builder.addService(stack.wrap(service.build())).build().start();
    r.channel = InProcessChannelBuilder.forName(name).build();
    return r;
  }

  @SuppressWarnings("JavaUtilDate") // jjwt's builder API
  String token(String subject) {
    Instant now = Instant.now();
    return Jwts.builder()
        .header()
        .keyId("k1")
        .and()
        .issuer(ISSUER)
        .audience()
        .add("api")
        .and()
        .subject(subject)
        .id("jti-" + subject)
        .issuedAt(Date.from(now))
        .expiration(Date.from(now.plusSeconds(3600)))
        .claim("roles", List.of("clinician"))
        .signWith(keys.getPrivate())
        .compact();
  }

  /** One call; returns its status code, and fails the test if it outlived its deadline. */
  static Status.Code call(Replica r, MethodDescriptor<String, String> method, String token) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    long start = System.nanoTime();
    try {
      ClientCalls.blockingUnaryCall(
          ClientInterceptors.intercept(
              r.channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
          method,
          CallOptions.DEFAULT.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS),
          "x");
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (ms > DEADLINE_MS + 1_000) {
        fail("a call took " + ms + " ms against a " + DEADLINE_MS + " ms deadline");
      }
    }
  }

  @Test
  @Timeout(120)
  void threeReplicasOneRedis_oneGlobalLimit_outageByPriorityClass_thenResumes() throws Exception {
    redis = RedisServer.start();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    keys = g.generateKeyPair();
    byte[] keySecret = new byte[32];
    Arrays.fill(keySecret, (byte) 42);
    for (int i = 0; i < 3; i++) {
      replicas.add(replica(keySecret));
    }
    for (Replica r : replicas) {
      awaitConnected(r.store);
    }
    // Warm-up as another caller (class loading, JIT), so that the measured window is all calls.
    String warmup = token("warmup");
    for (Replica r : replicas) {
      for (int i = 0; i < 50; i++) {
        assertThat(call(r, READ, warmup)).isIn(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
      }
    }
    String alice = token("alice");

    // 1. Six concurrent callers (two per replica) as one caller, for two seconds.
    Map<Status.Code, AtomicInteger> seen = new ConcurrentHashMap<>();
    CountDownLatch go = new CountDownLatch(1);
    AtomicLong stopAt = new AtomicLong();
    List<Future<?>> running = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      Replica r = replicas.get(t % 3);
      running.add(
          callers.submit(
              () -> {
                go.await();
                while (System.nanoTime() < stopAt.get()) {
                  Status.Code code = call(r, READ, alice);
                  seen.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
                }
                return null;
              }));
    }
    long start = System.nanoTime();
    stopAt.set(start + TimeUnit.SECONDS.toNanos(2));
    go.countDown();
    for (Future<?> f : running) {
      f.get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(seen.keySet()).containsOnly(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
    int allowed = seen.get(Status.Code.OK).get();
    double expected = READ_BURST + READ_RATE * seconds; // one limit, not three
    System.out.printf(
        "three replicas, one Redis: %d allowed, %d refused in %.2f s; one limit allows %.1f%n",
        allowed, seen.get(Status.Code.RESOURCE_EXHAUSTED).get(), seconds, expected);
    assertThat(seen.get(Status.Code.RESOURCE_EXHAUSTED).get())
        .as("the callers went over the limit")
        .isGreaterThan(allowed);
    assertThat((double) allowed)
        .as("allowed %s in %.2f s against one limit of %.0f", allowed, seconds, expected)
        .isBetween(expected * 0.9, expected * 1.1);

    // 2. Redis killed: each class as configured, every call answered within its deadline.
    redis.kill();
    String bob = token("bob");
    for (Replica r : replicas) {
      Map<Status.Code, Integer> charts = new EnumMap<>(Status.Code.class);
      for (int i = 0; i < 2 * CHART_BURST; i++) {
        charts.merge(call(r, CHART, bob), 1, Integer::sum);
      }
      // Fail open to this replica's own bucket: its burst, then refusals (bounded per replica).
      assertThat(charts)
          .containsOnly(
              Map.entry(Status.Code.OK, (int) CHART_BURST),
              Map.entry(Status.Code.RESOURCE_EXHAUSTED, (int) CHART_BURST));
      assertThat(call(r, EXPORT, bob)).isEqualTo(Status.Code.UNAVAILABLE);
      for (int i = 0; i < 5; i++) {
        assertThat(call(r, TREAT, bob)).isEqualTo(Status.Code.OK);
      }
      assertThat(r.limiter.storeFailures()).isGreaterThanOrEqualTo(2 * CHART_BURST + 1);
    }

    // 3. Redis restarted (empty): the shared limit again, across the replicas.
    redis.restart();
    for (Replica r : replicas) {
      awaitConnected(r.store);
    }
    String carol = token("carol");
    Map<Status.Code, Integer> exports = new EnumMap<>(Status.Code.class);
    for (int i = 0; i < 3 * EXPORT_BURST; i++) {
      exports.merge(call(replicas.get(i % 3), EXPORT, carol), 1, Integer::sum);
    }
    assertThat(exports)
        .containsOnly(
            Map.entry(Status.Code.OK, (int) EXPORT_BURST),
            Map.entry(Status.Code.RESOURCE_EXHAUSTED, (int) (2 * EXPORT_BURST)));
  }

  /** Until the store answers (first connection, or reconnection after a restart). */
  static void awaitConnected(RedisRateLimitStore store) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        store.acquire("probe", 1_000_000, 1e6, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }
}
