package dev.hipaagrpc.auth.ratelimit;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.hipaagrpc.auth.authz.AuthorizationTestServer;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor.Priority;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The asynchronous shared-store path: calls wait for the store without a thread, each priority
 * class behaves as configured when the store cannot decide, break-glass is never limited, and the
 * optional per-caller concurrency limit.
 */
class SharedStoreTest {

  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  static final PlainRequest REQ = PlainRequest.newBuilder().setOrg(TENANT).build();

  final ExecutorService callers = Executors.newCachedThreadPool();
  AuthorizationTestServer server;

  /** A store whose answers the test gives by hand. */
  static final class ManualStore implements AsyncRateLimitStore {
    final BlockingQueue<CompletableFuture<Long>> asked = new LinkedBlockingQueue<>();
    final List<String> keys = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Long> acquire(
        String key, long burst, double permitsPerSecond, long nowMillis) {
      CompletableFuture<Long> answer = new CompletableFuture<>();
      keys.add(key);
      asked.add(answer);
      return answer;
    }

    CompletableFuture<Long> next() throws InterruptedException {
      CompletableFuture<Long> f = asked.poll(10, TimeUnit.SECONDS);
      assertThat(f).as("the store was asked").isNotNull();
      return f;
    }
  }

  /** A store that is down: every answer fails. */
  static final class DownStore implements AsyncRateLimitStore {
    final AtomicInteger asked = new AtomicInteger();

    @Override
    public CompletableFuture<Long> acquire(
        String key, long burst, double permitsPerSecond, long nowMillis) {
      asked.incrementAndGet();
      return CompletableFuture.failedFuture(new IllegalStateException("down " + key));
    }
  }

  @AfterEach
  void stop() throws Exception {
    callers.shutdownNow();
    if (server != null) {
      server.close();
    }
  }

  Future<?> callInBackground() {
    return callers.submit(() -> server.admin().withDeadlineAfter(20, TimeUnit.SECONDS).ping(REQ));
  }

  static Status.Code codeOf(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    return e == null ? Status.Code.OK : e.getStatus().getCode();
  }

  @Test
  void interceptCall_storeAnswersLater_callWaitsThenProceedsOrIsRefused() throws Exception {
    ManualStore store = new ManualStore();
    server =
        new AuthorizationTestServer(
            RateLimitServerInterceptor.newBuilder().sharedStore(store).build());
    server.principal.set(user("u1").build());

    Future<?> first = callInBackground();
    CompletableFuture<Long> answer = store.next();
    Thread.sleep(100); // the call is held: the service has not seen it
    assertThat(server.serviceSaw).isEmpty();
    answer.complete(0L);
    first.get(10, TimeUnit.SECONDS);
    assertThat(server.serviceSaw).hasSize(1);

    Future<?> second = callInBackground();
    store.next().complete(250L);
    Throwable t = catchThrowableOfType(Exception.class, () -> second.get(10, TimeUnit.SECONDS));
    assertThat(t.getCause()).isInstanceOf(StatusRuntimeException.class);
    Status status = ((StatusRuntimeException) t.getCause()).getStatus();
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(
            RateLimitServerInterceptorTest.retryDelayMillis((StatusRuntimeException) t.getCause()))
        .isEqualTo(250);
    assertThat(server.serviceSaw).hasSize(1);
    assertThat(store.keys)
        .containsExactly("default\nhttps://idp.example\nu1", "default\nhttps://idp.example\nu1");
  }

  @Test
  void interceptCall_innerLayerThrowsAfterLateAnswer_callEndsUnknownNotAtItsDeadline()
      throws Exception {
    ManualStore store = new ManualStore();
    ServerInterceptor throwing =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            throw new IllegalStateException("inner layer broke");
          }
        };
    server =
        new AuthorizationTestServer(
            RateLimitServerInterceptor.newBuilder().sharedStore(store).build(), throwing);
    server.principal.set(user("u1").build());
    Future<?> call = callInBackground();
    store.next().complete(0L);
    Throwable t = catchThrowableOfType(Exception.class, () -> call.get(10, TimeUnit.SECONDS));
    assertThat(t.getCause()).isInstanceOf(StatusRuntimeException.class);
    Status status = ((StatusRuntimeException) t.getCause()).getStatus();
    assertThat(status.getCode()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(status.getDescription()).doesNotContain("inner layer broke");
  }

  @Test
  void interceptCall_storeDown_eachPriorityClassAsConfigured() throws Exception {
    DownStore store = new DownStore();
    RateLimitServerInterceptor limiter =
        RateLimitServerInterceptor.newBuilder()
            .sharedStore(store)
            .defaultLimit(0.01, 2) // LOCAL_FALLBACK by default
            .methodGroup("export", 1000, 2, ADMIN + "/Export")
            .methodGroupPriority("export", Priority.FAIL_CLOSED)
            .methodGroup("treatment", 1, 1, ADMIN + "/Purge")
            .methodGroupPriority("treatment", Priority.NEVER_LIMITED)
            .storeFailureLogPeriod(Duration.ofHours(1))
            .build();
    server = new AuthorizationTestServer(limiter);
    server.principal.set(user("u1").build());

    // Fallback: this replica's bucket (burst 2) decides.
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.OK);
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.OK);
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    // Fail closed.
    assertThat(codeOf(() -> server.admin().export(REQ))).isEqualTo(Status.Code.UNAVAILABLE);
    // Never limited: the store is not even asked, and the 1/s limit does not apply.
    int asked = store.asked.get();
    for (int i = 0; i < 5; i++) {
      assertThat(codeOf(() -> server.admin().purge(REQ))).isEqualTo(Status.Code.OK);
    }
    assertThat(store.asked.get()).isEqualTo(asked);
    assertThat(limiter.storeFailures()).isEqualTo(4);
  }

  @Test
  void interceptCall_breakGlass_neverLimitedEvenFailClosed() throws Exception {
    DownStore store = new DownStore();
    AtomicBoolean breakGlass = new AtomicBoolean(true);
    ServerInterceptor authorization =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            Context ctx = CallFacts.inContext(Context.current());
            CallFacts.of(ctx)
                .decision(
                    breakGlass.get()
                        ? AccessDecision.breakGlass("bg", "v1", "EMERGENCY")
                        : AccessDecision.allow("r", "v1"));
            return Contexts.interceptCall(ctx, call, headers, next);
          }
        };
    server =
        new AuthorizationTestServer(
            authorization,
            RateLimitServerInterceptor.newBuilder()
                .sharedStore(store)
                .defaultPriority(Priority.FAIL_CLOSED)
                .build());
    server.principal.set(user("u1").build());
    for (int i = 0; i < 3; i++) {
      assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.OK);
    }
    assertThat(store.asked.get()).isZero();
    breakGlass.set(false);
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void interceptCall_concurrencyLimit_refusesWhileInFlightThenFrees() throws Exception {
    BlockingQueue<ServerCall<?, ?>> held = new LinkedBlockingQueue<>();
    AtomicBoolean hold = new AtomicBoolean(true);
    ServerInterceptor holder =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            if (hold.get()) {
              held.add(call);
              return new ServerCall.Listener<ReqT>() {};
            }
            return next.startCall(call, headers);
          }
        };
    server =
        new AuthorizationTestServer(
            RateLimitServerInterceptor.newBuilder()
                .defaultLimit(1000, 1000)
                .maxConcurrentCallsPerCaller(1)
                .build(),
            holder);
    server.principal.set(user("u1").build());
    Future<?> first = callInBackground();
    ServerCall<?, ?> inFlight = held.poll(10, TimeUnit.SECONDS);
    assertThat(inFlight).isNotNull();
    hold.set(false);

    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> server.admin().ping(REQ));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.getStatus().getDescription())
        .startsWith("Concurrent call limit exceeded (correlation id: ");
    assertThat(RateLimitServerInterceptorTest.retryDelayMillis(e)).isEqualTo(1000);
    server.principal.set(user("u2").build()); // another caller is not affected
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.OK);

    inFlight.close(Status.ABORTED, new Metadata());
    assertThat(catchThrowableOfType(Exception.class, () -> first.get(10, TimeUnit.SECONDS)))
        .hasCauseInstanceOf(StatusRuntimeException.class);
    server.principal.set(user("u1").build());
    assertThat(codeOf(() -> server.admin().ping(REQ))).isEqualTo(Status.Code.OK);
  }
}
