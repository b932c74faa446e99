package dev.hipaagrpc.testing;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A real {@code redis-server} for tests and benchmarks of the Redis rate-limit store: a free
 * loopback port, a temporary directory, no persistence; started, killed, frozen and restarted on
 * the same port by the test, and removed by {@link #close()}.
 *
 * <pre>{@code
 * Path binary = RedisServerProcess.findBinary().orElseThrow(); // or skip the test
 * try (RedisServerProcess redis = RedisServerProcess.start(binary)) {
 *   ... RedisRateLimitStore.newBuilder(redis.uri(), secret) ...
 *   redis.kill();    // an outage
 *   redis.restart(); // an empty Redis on the same port
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test drives it.
 */
public final class RedisServerProcess implements AutoCloseable {

  private final Path binary;
  private final Path dir;
  private final int port;
  private @Nullable Process process;

  private RedisServerProcess(Path binary, Path dir, int port) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
  }

  /**
   * The {@code redis-server} binary: {@code $REDIS_SERVER}, else the first of {@code /usr/bin},
   * {@code /usr/sbin}, {@code /usr/local/bin}, {@code /bin} that has one (Debian's {@code
   * redis-server} package installs {@code /usr/bin/redis-server}).
   */
  public static Optional<Path> findBinary() {
    List<Path> candidates = new ArrayList<>();
    String explicit = System.getenv("REDIS_SERVER");
    if (explicit != null && !explicit.isEmpty()) {
      candidates.add(Path.of(explicit));
    }
    for (String d : List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin")) {
      candidates.add(Path.of(d, "redis-server"));
    }
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  /**
   * Starts {@code binary} on a free loopback port and waits until it answers {@code PING}.
   *
   * @throws IOException if it cannot start or does not answer within 20 seconds
   */
  public static RedisServerProcess start(Path binary) throws IOException, InterruptedException {
    requireNonNull(binary, "binary");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    RedisServerProcess server =
        new RedisServerProcess(binary, Files.createTempDirectory("redis-test"), port);
    server.restart();
    return server;
  }

  /** {@code redis://127.0.0.1:<port>}. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /**
   * Starts the server again on the same port, empty, and waits until it answers {@code PING}.
   *
   * @throws IOException if it exits or does not answer within 20 seconds
   */
  public void restart() throws IOException, InterruptedException {
    if (process != null) {
      throw new IllegalStateException("still running: kill() first");
    }
    Process p =
        new ProcessBuilder(
                binary.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
                "--logfile",
                dir.resolve("redis.log").toString())
            .redirectErrorStream(true)
            .start();
    process = p;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        process = null;
        throw new IOException("redis-server exited with " + p.exitValue() + "; see its log");
      }
      if (ping()) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IOException("redis-server did not answer PING within 20 s");
  }

  /** Kills the server at once (SIGKILL): its clients get no goodbye. Idempotent. */
  public void kill() throws InterruptedException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      process = null;
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing answers. */
  public void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** Lets a {@linkplain #pause paused} server run again (SIGCONT). */
  public void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("not running");
    }
    Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill " + signal + " failed");
    }
  }

  /**
   * Sends one inline command and returns its reply: the first line, or for an array the values one
   * per line (for checks of what Redis holds, e.g. {@code KEYS *}, {@code PTTL k}).
   */
  public String command(String inline) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String first = in.readLine();
      if (first == null) {
        throw new IOException("no reply");
      }
      if (!first.startsWith("*")) {
        return first;
      }
      int n = Integer.parseInt(first.substring(1));
      StringBuilder all = new StringBuilder();
      for (int i = 0; i < n; i++) {
        in.readLine(); // $<length>
        all.append(in.readLine()).append('\n');
      }
      return all.toString();
    }
  }

  private boolean ping() {
    try {
      return "+PONG".equals(command("PING"));
    } catch (IOException e) {
      return false;
    }
  }

  /** Kills the server and deletes its directory. */
  @Override
  public void close() throws IOException, InterruptedException {
    kill();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
