package dev.hipaagrpc.auth.ratelimit;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where calls continue after a shared store answered, unless the builder names an executor: daemon
 * threads created on demand and dropped after a minute idle.
 */
final class DefaultExecutor {
  static final ExecutorService INSTANCE;

  static {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "hipaa-grpc-ratelimit-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    INSTANCE = pool;
  }

  private DefaultExecutor() {}
}
