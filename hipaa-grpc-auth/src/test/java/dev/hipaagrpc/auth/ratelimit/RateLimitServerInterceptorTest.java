package dev.hipaagrpc.auth.ratelimit;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import dev.hipaagrpc.auth.authz.AuthorizationTestServer;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RateLimitServerInterceptorTest {

  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  static final PlainRequest REQ = PlainRequest.newBuilder().setOrg(TENANT).build();

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

    void advance(long ms) {
      millis.addAndGet(ms);
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  final ManualClock clock = new ManualClock();
  AuthorizationTestServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  void start(RateLimitServerInterceptor.Builder limiter) throws Exception {
    server = new AuthorizationTestServer(limiter.clock(clock).build());
  }

  StatusRuntimeException exhausted(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("call should have been limited").isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            "Rate limit exceeded (correlation id: " + server.lastFacts.get().correlationId() + ")");
    return e;
  }

  static long retryDelayMillis(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).isNotNull();
    for (Any detail : status.getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
        return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
      }
    }
    throw new AssertionError("no RetryInfo detail");
  }

  @Test
  void interceptCall_overLimit_resourceExhaustedWithRetryInfoThenRecovers() throws Exception {
    start(RateLimitServerInterceptor.newBuilder().defaultLimit(1, 2));
    server.principal.set(user("u1").build());
    server.admin().ping(REQ);
    server.admin().ping(REQ);
    StatusRuntimeException e = exhausted(() -> server.admin().ping(REQ));
    assertThat(retryDelayMillis(e)).isEqualTo(1000);
    assertThat(server.serviceSaw).hasSize(2);

    clock.advance(400);
    assertThat(retryDelayMillis(exhausted(() -> server.admin().ping(REQ)))).isEqualTo(600);
    clock.advance(600);
    server.admin().ping(REQ);
    assertThat(server.serviceSaw).hasSize(3);
    exhausted(() -> server.admin().ping(REQ));
  }

  @Test
  void interceptCall_bucketsArePerCaller() throws Exception {
    start(RateLimitServerInterceptor.newBuilder().defaultLimit(1, 1));
    server.principal.set(user("u1").build());
    server.admin().ping(REQ);
    exhausted(() -> server.admin().ping(REQ));
    server.principal.set(user("u2").build());
    server.admin().ping(REQ);
    // Same subject from another issuer is another caller.
    server.principal.set(user("u1").issuer("https://other-idp.example").build());
    server.admin().ping(REQ);
  }

  @Test
  void interceptCall_roleLimit_mostGenerousRoleApplies() throws Exception {
    start(
        RateLimitServerInterceptor.newBuilder()
            .defaultLimit(1, 1)
            .roleLimit("bulk", 1, 3)
            .roleLimit("reader", 1, 2));
    server.principal.set(user("u1", "reader", "bulk").build());
    for (int i = 0; i < 3; i++) {
      server.admin().ping(REQ);
    }
    exhausted(() -> server.admin().ping(REQ));
  }

  @Test
  void interceptCall_methodGroup_hasItsOwnBucketsAndRoleLimits() throws Exception {
    start(
        RateLimitServerInterceptor.newBuilder()
            .defaultLimit(1, 5)
            .methodGroup("export", 1, 1, ADMIN + "/Export")
            .methodGroupRoleLimit("export", "auditor", 1, 2));
    server.principal.set(user("u1").build());
    server.admin().export(REQ);
    exhausted(() -> server.admin().export(REQ));
    server.admin().ping(REQ); // the default group is untouched

    server.principal.set(user("u2", "auditor").build());
    server.admin().export(REQ);
    server.admin().export(REQ);
    exhausted(() -> server.admin().export(REQ));
  }

  @Test
  void interceptCall_serviceWildcardGroup_coversEveryMethod() throws Exception {
    start(RateLimitServerInterceptor.newBuilder().methodGroup("admin", 1, 1, ADMIN + "/*"));
    server.principal.set(user("u1").build());
    server.admin().ping(REQ);
    exhausted(() -> server.admin().purge(REQ));
  }

  @Test
  void interceptCall_storeFailsInFailClosedGroup_unavailable() throws Exception {
    start(
        RateLimitServerInterceptor.newBuilder()
            .methodGroup("admin", 1, 1, ADMIN + "/*")
            .methodGroupPriority("admin", RateLimitServerInterceptor.Priority.FAIL_CLOSED)
            .store(
                (key, burst, rate, now) -> {
                  throw new IllegalStateException("store down");
                }));
    server.principal.set(user("u1").build());
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> server.admin().ping(REQ));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).doesNotContain("store down");
    assertThat(server.serviceSaw).isEmpty();
  }

  @Test
  void interceptCall_storeFailsByDefault_localBucketWithTheSameLimitDecides() throws Exception {
    RateLimitServerInterceptor limiter =
        RateLimitServerInterceptor.newBuilder()
            .defaultLimit(1, 2)
            .clock(clock)
            .store(
                (key, burst, rate, now) -> {
                  throw new IllegalStateException("store down");
                })
            .build();
    server = new AuthorizationTestServer(limiter);
    server.principal.set(user("u1").build());
    server.admin().ping(REQ);
    server.admin().ping(REQ);
    exhausted(() -> server.admin().ping(REQ));
    assertThat(server.serviceSaw).hasSize(2);
    assertThat(limiter.storeFailures()).isEqualTo(3);
  }

  @Test
  void interceptCall_10000DistinctCallers_bucketTableStaysWithinBound() throws Exception {
    // Through the server: 10,000 callers against a bound of 256 (the 100,000-caller case runs
    // against the same store directly below, to keep the suite fast).
    TokenBuckets table = new TokenBuckets(256);
    start(RateLimitServerInterceptor.newBuilder().defaultLimit(1, 2).store(table));
    var stub = server.admin();
    for (int i = 0; i < 10_000; i++) {
      // The clock stands still: no bucket refills, so only the size bound can evict.
      server.principal.set(user("caller-" + i).build());
      stub.ping(REQ);
      if (i % 100 == 0) {
        assertThat(table.size()).isLessThanOrEqualTo(256);
      }
    }
    assertThat(table.size()).isLessThanOrEqualTo(256).isGreaterThan(200);
    // The most recent caller keeps its bucket: its limit still applies.
    stub.ping(REQ);
    exhausted(() -> server.admin().ping(REQ));
  }

  @Test
  void tryAcquire_100000DistinctCallersNoneIdle_tableStaysWithinBound() {
    TokenBuckets table = new TokenBuckets(1_024);
    for (int i = 0; i < 100_000; i++) {
      // Same instant: no bucket has refilled, so only the size bound can evict.
      assertThat(table.tryAcquire("default\nhttps://idp\ncaller-" + i, 2, 1, 0)).isZero();
      if (i % 1_000 == 0) {
        assertThat(table.size()).isLessThanOrEqualTo(1_024);
      }
    }
    assertThat(table.size()).isLessThanOrEqualTo(1_024).isGreaterThan(900);
  }

  @Test
  void tryAcquire_refilledBucketsAreEvictedWhenIdle() {
    TokenBuckets table = new TokenBuckets(1_000_000);
    long now = 0;
    for (int i = 0; i < 1_000; i++) {
      assertThat(table.tryAcquire("old-" + i, 2, 1, now)).isZero();
    }
    assertThat(table.size()).isEqualTo(1_000);
    now += 10_000; // every old bucket has refilled
    for (int i = 0; i < 1_000; i++) {
      table.tryAcquire("new-" + i, 2, 1, now);
    }
    assertThat(table.size()).isLessThan(2_000);
  }

  @Test
  void tryAcquire_clockGoesBack_refillsNothing() {
    TokenBuckets table = new TokenBuckets(16);
    assertThat(table.tryAcquire("k", 1, 1, 10_000)).isZero();
    assertThat(table.tryAcquire("k", 1, 1, 5_000)).isEqualTo(1000);
  }

  @Test
  void builder_invalidLimits_refused() {
    assertThatThrownBy(() -> RateLimitServerInterceptor.newBuilder().defaultLimit(0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitServerInterceptor.newBuilder().defaultLimit(1, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> RateLimitServerInterceptor.newBuilder().methodGroupRoleLimit("x", "r", 1, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitServerInterceptor.newBuilder().methodGroup("g", 1, 1, "bad"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .methodGroup("a", 1, 1, ADMIN + "/Ping")
                    .methodGroup("b", 1, 1, ADMIN + "/Ping")
                    .build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .store(RateLimitStore.inMemory(64))
                    .maxBuckets(64)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxBuckets");
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .store(RateLimitStore.inMemory(64))
                    .sharedStore((key, burst, rate, now) -> new CompletableFuture<>())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sharedStore");
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .defaultPriority(RateLimitServerInterceptor.Priority.NEVER_LIMITED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("every limit");
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .breakGlassPriority(RateLimitServerInterceptor.Priority.FAIL_CLOSED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("emergency access");
    assertThatThrownBy(
            () ->
                RateLimitServerInterceptor.newBuilder()
                    .methodGroupPriority("x", RateLimitServerInterceptor.Priority.FAIL_CLOSED))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitServerInterceptor.newBuilder().maxConcurrentCallsPerCaller(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
