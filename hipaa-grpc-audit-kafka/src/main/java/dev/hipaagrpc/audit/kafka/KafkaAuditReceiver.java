package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.audit.AuditKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;

/**
 * Consumes an audit topic that {@link KafkaAuditForwarder}s publish to and feeds every message to a
 * {@link ShippedLogVerifier}: {@link #readToEnd} reads every partition from the beginning up to the
 * end offsets it finds when it starts, and returns the verifier's final report. This is what an
 * auditor or a SIEM pipeline runs centrally; {@link #main} is its command line.
 *
 * <p>It assigns the partitions itself (no consumer group, nothing committed): each run verifies
 * from the first retained message. Thread-safe for one call at a time.
 */
public final class KafkaAuditReceiver {

  private final String topic;
  private final ShippedLogVerifier verifier;
  private final Properties consumerConfig;

  private KafkaAuditReceiver(Builder b) {
    this.topic = b.topic;
    this.verifier = b.verifier;
    this.consumerConfig = b.consumerConfig();
  }

  /**
   * Starts a receiver of {@code topic} into {@code verifier}. Defaults: TLS or SASL_SSL required;
   * the consumer properties Kafka defaults to otherwise.
   */
  public static Builder newBuilder(String topic, ShippedLogVerifier verifier) {
    return new Builder(requireNonNull(topic, "topic"), requireNonNull(verifier, "verifier"));
  }

  /**
   * Reads every partition of the topic from its beginning to the end offset it has now, feeds the
   * verifier, ends its input ({@link ShippedLogVerifier#finish}) and returns its report.
   *
   * @throws TimeoutException if the end offsets were not reached within {@code timeout}
   */
  public synchronized ShippingReport readToEnd(Duration timeout)
      throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + requireNonNull(timeout, "timeout").toNanos();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      List<PartitionInfo> infos = c.partitionsFor(topic, timeout);
      for (PartitionInfo p : infos) {
        parts.add(new TopicPartition(topic, p.partition()));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
      while (!reached(c, end)) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException(
              "the end of topic " + topic + " was not reached within " + timeout);
        }
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          Header kind = r.headers().lastHeader(KafkaAuditForwarder.KIND_HEADER);
          byte[] value = r.value();
          if (value == null) {
            continue; // a tombstone carries nothing to verify
          }
          verifier.accept(r.key(), value, kind == null ? null : new String(kind.value(), UTF_8));
        }
      }
    }
    verifier.finish();
    return verifier.report();
  }

  private static boolean reached(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Verifies an audit topic from the command line and prints the JSON report:
   *
   * <pre>
   * KafkaAuditReceiver --bootstrap-servers kafka-1:9093 --topic audit
   *     [--consumer-config client.properties] [--timeout-seconds 300] [--insecure-plaintext]
   *     --origin ORIGIN --public-key checkpoint-signing.pub [--chain-key chain-genesis.key]
   *     [--origin ORIGIN2 --public-key ... ]...
   * </pre>
   *
   * <p>Exits 0 when every origin verified with no gap, conflict or bad signature and no message
   * came from an unknown origin, 1 when not, 2 on a usage, I/O or timeout error.
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    String servers = null;
    String topic = null;
    String config = null;
    long timeoutSeconds = 300;
    boolean plaintext = false;
    ShippedLogVerifier.Builder vb = ShippedLogVerifier.newBuilder();
    String origin = null;
    Path publicKey = null;
    Path chainKey = null;
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--insecure-plaintext")) {
          plaintext = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value after " + a);
        }
        String v = args[++i];
        switch (a) {
          case "--bootstrap-servers" -> servers = v;
          case "--topic" -> topic = v;
          case "--consumer-config" -> config = v;
          case "--timeout-seconds" -> timeoutSeconds = Long.parseLong(v);
          case "--origin" -> {
            addOrigin(vb, origin, publicKey, chainKey);
            origin = v;
            publicKey = null;
            chainKey = null;
          }
          case "--public-key" -> publicKey = Path.of(v);
          case "--chain-key" -> chainKey = Path.of(v);
          default -> throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      addOrigin(vb, origin, publicKey, chainKey);
      if (servers == null || topic == null) {
        throw new IllegalArgumentException("--bootstrap-servers and --topic are required");
      }
      Properties props = new Properties();
      if (config != null) {
        try (InputStream in = Files.newInputStream(Path.of(config))) {
          props.load(in);
        }
      }
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
      KafkaAuditReceiver r =
          newBuilder(topic, vb.build())
              .consumerProperties(props)
              .allowInsecurePlaintext(plaintext)
              .build();
      ShippingReport report = r.readToEnd(Duration.ofSeconds(timeoutSeconds));
      out.println(report.toJson());
      return report.ok() ? 0 : 1;
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("audit receiver: " + e.getMessage());
      err.println(
          "usage: KafkaAuditReceiver --bootstrap-servers <host:port,...> --topic <topic>"
              + " [--consumer-config <file>] [--timeout-seconds <n>] [--insecure-plaintext]"
              + " (--origin <origin> --public-key <file> [--chain-key <file>])...");
      return 2;
    } catch (IOException | TimeoutException | org.apache.kafka.common.KafkaException e) {
      err.println("audit receiver: " + e.getClass().getSimpleName() + ": " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    }
  }

  private static void addOrigin(
      ShippedLogVerifier.Builder vb,
      @Nullable String origin,
      @Nullable Path publicKey,
      @Nullable Path chainKey)
      throws IOException {
    if (origin == null) {
      if (publicKey != null || chainKey != null) {
        throw new IllegalArgumentException("--public-key and --chain-key follow an --origin");
      }
      return;
    }
    if (publicKey == null) {
      throw new IllegalArgumentException("--origin " + origin + " needs --public-key");
    }
    if (chainKey != null) {
      vb.origin(origin, AuditKeys.readPublicKey(publicKey), AuditKeys.readSecretKey(chainKey));
    } else {
      vb.origin(origin, AuditKeys.readPublicKey(publicKey));
    }
  }

  /** Configures a {@link KafkaAuditReceiver}. Not thread-safe. */
  public static final class Builder {
    private final String topic;
    private final ShippedLogVerifier verifier;
    private final Properties props = new Properties();
    private boolean allowPlaintext;

    private Builder(String topic, ShippedLogVerifier verifier) {
      this.topic = topic;
      this.verifier = verifier;
    }

    /** Sets {@code bootstrap.servers}. */
    public Builder bootstrapServers(String servers) {
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, requireNonNull(servers, "servers"));
      return this;
    }

    /** Adds Kafka consumer properties (TLS, SASL, ...). Copied. */
    public Builder consumerProperties(Properties properties) {
      requireNonNull(properties, "properties").forEach(props::put);
      return this;
    }

    /**
     * DANGEROUS: allows {@code security.protocol} PLAINTEXT or SASL_PLAINTEXT, so that audit
     * records cross the network unencrypted and the broker is not authenticated. For a loopback
     * test broker only. Default false.
     */
    public Builder allowInsecurePlaintext(boolean allow) {
      this.allowPlaintext = allow;
      return this;
    }

    /**
     * Returns the receiver.
     *
     * @throws IllegalStateException if {@code bootstrap.servers} is missing, or the protocol is not
     *     TLS and {@link #allowInsecurePlaintext} is not set
     */
    public KafkaAuditReceiver build() {
      KafkaClients.requireBootstrapAndTls(props, allowPlaintext, "reads");
      return new KafkaAuditReceiver(this);
    }

    Properties consumerConfig() {
      Properties p = new Properties();
      p.putAll(props);
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "hipaa-grpc-audit-receiver");
      return p;
    }
  }
}
