package dev.hipaagrpc.audit.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker for tests and the shipping benchmark: one KRaft node (broker and controller
 * combined) on loopback, in a JVM of its own started from this class path, so that a test can stop
 * it (SIGTERM, or SIGKILL) and start it again on the same port and log directory. The storage is
 * formatted once with Kafka's own storage tool ({@code kafka.tools.StorageTool}). Not thread-safe.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private final Path config;
  private Process process;

  private KafkaBrokerProcess(Path dir, int port, int controllerPort) throws IOException {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.config = dir.resolve("server.properties");
    Files.writeString(config, properties(), StandardCharsets.UTF_8);
  }

  /** Formats a new broker's storage under {@code dir} and starts it on free loopback ports. */
  public static KafkaBrokerProcess start(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    KafkaBrokerProcess b = new KafkaBrokerProcess(dir, freePort(), freePort());
    b.format();
    b.startProcess();
    return b;
  }

  /** {@code 127.0.0.1:<port>}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Creates a topic (replication factor 1) and waits until it exists. */
  public void createTopic(String topic, int partitions) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    try (Admin a = Admin.create(p)) {
      a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /** Stops the broker: SIGKILL if {@code kill}, else SIGTERM (a clean shutdown). Bounded. */
  public void stop(boolean kill) throws InterruptedException {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    if (kill) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Starts the broker again on the same ports and log directory. */
  public void restart() throws IOException, InterruptedException {
    stop(false);
    startProcess();
  }

  @Override
  public void close() throws InterruptedException {
    stop(true);
  }

  private String properties() {
    String logs = dir.resolve("data").toAbsolutePath().toString().replace('\\', '/');
    return String.join(
        "\n",
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
        "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
        "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs=" + logs,
        "num.partitions=1",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "num.network.threads=2",
        "num.io.threads=2",
        "background.threads=2",
        "");
  }

  private List<String> java(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Djava.net.preferIPv4Stack=true");
    cmd.add("-cp");
    cmd.add(testClassPath());
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The class path of this JVM (surefire's, unpacked from its manifest-only jar if need be). */
  static String testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  private void format() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    Uuid.randomUuid().toString(),
                    "-c",
                    config.toString()))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("format.log").toFile())
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("kafka storage format timed out");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "kafka storage format failed: " + Files.readString(dir.resolve("format.log")));
    }
  }

  private void startProcess() throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(java("kafka.Kafka", config.toString()))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()));
    Map<String, String> env = pb.environment();
    env.remove("KAFKA_OPTS");
    process = pb.start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the kafka broker exited ("
                + process.exitValue()
                + "): "
                + tail(dir.resolve("broker.log")));
      }
      if (ready()) {
        return;
      }
      Thread.sleep(200);
    }
    process.destroyForcibly();
    throw new IllegalStateException(
        "the kafka broker did not start within "
            + START_TIMEOUT
            + ": "
            + tail(dir.resolve("broker.log")));
  }

  /** Ready when the admin client sees the node. */
  private boolean ready() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
    } catch (IOException e) {
      return false;
    }
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    try (Admin a = Admin.create(p)) {
      return !a.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  private static String tail(Path log) {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
