package dev.hipaagrpc.auth.ratelimit.redis;

import static org.assertj.core.api.Assertions.fail;

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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} (Debian's package; {@code .ci/run} installs it) on a free loopback
 * port with a temporary directory and no persistence, started and stopped by the test. Without the
 * binary the test is skipped with a message, except in CI (environment variable {@code CI} set),
 * where a missing binary fails it.
 */
final class RedisServer implements AutoCloseable {

  private final Path binary;
  private final Path dir;
  private final int port;
  private @Nullable Process process;

  private RedisServer(Path binary, Path dir, int port) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
  }

  /** Starts a server, or skips the calling test when the binary is absent outside CI. */
  static RedisServer start() throws IOException, InterruptedException {
    Path binary = findBinary();
    if (binary == null) {
      String message =
          "redis-server not found ($REDIS_SERVER, /usr/bin, /usr/sbin, /usr/local/bin, /bin): install it"
              + " (apt-get install -y redis-server) to run the Redis rate-limit tests";
      if (System.getenv("CI") != null) {
        fail(message + " (CI is set, so this is a failure, not a skip)");
      }
      Assumptions.abort(message);
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    RedisServer server = new RedisServer(binary, Files.createTempDirectory("redis-test"), port);
    server.restart();
    return server;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** (Re)starts the server on the same port, and waits until it answers PING. */
  void restart() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    for (String arg :
        new String[] {
          "--port", Integer.toString(port),
          "--bind", "127.0.0.1",
          "--dir", dir.toString(),
          "--save", "",
          "--appendonly", "no",
          "--daemonize", "no",
          "--protected-mode", "yes",
          "--logfile", dir.resolve("redis.log").toString()
        }) {
      command.add(arg);
    }
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail(
            "redis-server exited with "
                + process.exitValue()
                + "; see "
                + dir.resolve("redis.log"));
      }
      if (ping()) {
        return;
      }
      Thread.sleep(20);
    }
    fail("redis-server did not answer PING within 20 s");
  }

  /** Kills the server at once (SIGKILL): no goodbye to its clients. */
  void kill() throws InterruptedException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      process = null;
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** Lets a paused server run again (SIGCONT). */
  void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("not running");
    }
    Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      fail("kill " + signal + " failed");
    }
  }

  /** Sends one inline command and returns the first reply line (for checks of what Redis holds). */
  String command(String inline) throws IOException {
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
      // An array of bulk strings: join the values with newlines.
      int n = Integer.parseInt(first.substring(1));
      StringBuilder all = new StringBuilder();
      for (int i = 0; i < n; i++) {
        in.readLine(); // $<len>
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

  @Override
  public void close() throws Exception {
    kill();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static @Nullable Path findBinary() {
    List<Path> candidates = new ArrayList<>();
    String explicit = System.getenv("REDIS_SERVER");
    if (explicit != null && !explicit.isEmpty()) {
      candidates.add(Path.of(explicit));
    }
    for (String d : List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin")) {
      candidates.add(Path.of(d, "redis-server"));
    }
    for (Path p : candidates) {
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
