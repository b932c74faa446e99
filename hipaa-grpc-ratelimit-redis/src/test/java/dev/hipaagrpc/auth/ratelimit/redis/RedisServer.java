package dev.hipaagrpc.auth.ratelimit.redis;

import static org.assertj.core.api.Assertions.fail;

import dev.hipaagrpc.testing.RedisServerProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Starts the real {@code redis-server} of these tests (Debian's package; {@code .ci/run} installs
 * it). Without the binary the test is skipped with a message, except in CI (environment variable
 * {@code CI} set), where a missing binary fails it.
 */
final class RedisServer {

  private RedisServer() {}

  static RedisServerProcess start() throws IOException, InterruptedException {
    Optional<Path> binary = RedisServerProcess.findBinary();
    if (binary.isEmpty()) {
      String message =
          "redis-server not found ($REDIS_SERVER, /usr/bin, /usr/sbin, /usr/local/bin, /bin):"
              + " install it (apt-get install -y redis-server) to run the Redis rate-limit tests";
      if (System.getenv("CI") != null) {
        fail(message + " (CI is set, so this is a failure, not a skip)");
      }
      Assumptions.abort(message);
    }
    return RedisServerProcess.start(binary.get());
  }
}
