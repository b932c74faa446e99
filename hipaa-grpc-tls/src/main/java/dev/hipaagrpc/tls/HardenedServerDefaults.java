package dev.hipaagrpc.tls;

import static dev.hipaagrpc.core.internal.Checks.requirePositive;
import static java.util.Objects.requireNonNull;

import io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Safe transport limits for a grpc-java Netty server: the mitigations for HTTP/2 rapid reset
 * (CVE-2023-44487), oversized headers and connection hoarding, several of which grpc-java leaves
 * unlimited by default. Call-level limits (how long a call may run, how large a request message the
 * service accepts) belong to the {@code SecurityStack}, inside audit, so that every refusal is
 * recorded; these transport limits are the backstop behind them.
 *
 * <pre>{@code
 * NettyServerBuilder builder = NettyServerBuilder.forPort(8443, creds);
 * HardenedServerDefaults.create().applyTo(builder);
 * }</pre>
 *
 * <table>
 *   <caption>Defaults (grpc-java's own default in brackets)</caption>
 *   <tr><td>max inbound message size</td><td>8 MiB, twice the stack's audited 4 MiB request
 *       limit [4 MiB]</td></tr>
 *   <tr><td>max inbound metadata size</td><td>8 KiB, enforced per call [8 KiB]</td></tr>
 *   <tr><td>max concurrent calls per connection</td><td>100 [unlimited]</td></tr>
 *   <tr><td>max RST_STREAM frames per window</td><td>200 per 10 s [unlimited]</td></tr>
 *   <tr><td>TLS handshake timeout</td><td>10 s [120 s]</td></tr>
 *   <tr><td>server keepalive ping interval / timeout</td><td>5 min / 20 s [2 h / 20 s]</td></tr>
 *   <tr><td>min client keepalive interval (permitKeepAliveTime)</td><td>1 min, not without
 *       calls [5 min]</td></tr>
 *   <tr><td>max connection idle</td><td>15 min [unlimited]</td></tr>
 *   <tr><td>max connection age / grace</td><td>1 h / 5 min [unlimited]</td></tr>
 * </table>
 *
 * <p>Request metadata over the limit fails only its own call, never the connection: the server
 * advertises the limit (HTTP/2 {@code SETTINGS_MAX_HEADER_LIST_SIZE}), so conforming clients
 * (grpc-java, grpc-go, grpc-core) fail such a call locally without sending it, and headers that
 * reach the server over the limit are answered with HTTP 431 on their own stream. A client that
 * ignores the setting and sends more than 1.25 times the limit gets its own connection closed by
 * Netty's HPACK protection (a GOAWAY); grpc-java offers no setting to change that. grpc-java's
 * probabilistic zone between a soft and a hard limit is not used: refusal is deterministic.
 *
 * <p>The connection age limit also bounds how long a connection keeps the certificates it was
 * established with, so rotated or revoked certificates leave service within an hour.
 *
 * <p>Every value is overridable through {@link #newBuilder()}. Thread-safe (immutable).
 */
public final class HardenedServerDefaults {

  private final int maxInboundMessageSize;
  private final int maxInboundMetadataSize;
  private final int maxInboundMetadataHardSize;
  private final int maxConcurrentCallsPerConnection;
  private final int maxRstFrames;
  private final Duration maxRstWindow;
  private final Duration handshakeTimeout;
  private final Duration keepAliveTime;
  private final Duration keepAliveTimeout;
  private final Duration permitKeepAliveTime;
  private final Duration maxConnectionIdle;
  private final Duration maxConnectionAge;
  private final Duration maxConnectionAgeGrace;

  private HardenedServerDefaults(Builder b) {
    this.maxInboundMessageSize = b.maxInboundMessageSize;
    this.maxInboundMetadataSize = b.maxInboundMetadataSize;
    // grpc-java rejects above the soft limit with a probability that grows to 1 at the hard limit;
    // one byte apart, refusal is deterministic.
    this.maxInboundMetadataHardSize =
        b.maxInboundMetadataSize == Integer.MAX_VALUE
            ? Integer.MAX_VALUE
            : b.maxInboundMetadataSize + 1;
    this.maxConcurrentCallsPerConnection = b.maxConcurrentCallsPerConnection;
    this.maxRstFrames = b.maxRstFrames;
    this.maxRstWindow = b.maxRstWindow;
    this.handshakeTimeout = b.handshakeTimeout;
    this.keepAliveTime = b.keepAliveTime;
    this.keepAliveTimeout = b.keepAliveTimeout;
    this.permitKeepAliveTime = b.permitKeepAliveTime;
    this.maxConnectionIdle = b.maxConnectionIdle;
    this.maxConnectionAge = b.maxConnectionAge;
    this.maxConnectionAgeGrace = b.maxConnectionAgeGrace;
  }

  /** Returns the defaults listed above. */
  public static HardenedServerDefaults create() {
    return newBuilder().build();
  }

  /** Returns a builder starting from the defaults listed above. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Applies every limit to {@code builder}. Installs no interceptor. Returns the builder. */
  public NettyServerBuilder applyTo(NettyServerBuilder builder) {
    requireNonNull(builder, "builder");
    builder
        .maxInboundMessageSize(maxInboundMessageSize)
        .maxInboundMetadataSize(maxInboundMetadataSize, maxInboundMetadataHardSize)
        .maxConcurrentCallsPerConnection(maxConcurrentCallsPerConnection)
        .maxRstFramesPerWindow(maxRstFrames, toSecondsAtLeastOne(maxRstWindow))
        .keepAliveTime(keepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(keepAliveTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(permitKeepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(false)
        .maxConnectionIdle(maxConnectionIdle.toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAge(maxConnectionAge.toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(maxConnectionAgeGrace.toNanos(), TimeUnit.NANOSECONDS);
    builder.handshakeTimeout(handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    return builder;
  }

  private static int toSecondsAtLeastOne(Duration d) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toSeconds()));
  }

  /** Configures {@link HardenedServerDefaults}. Not thread-safe. */
  public static final class Builder {
    private int maxInboundMessageSize = 8 * 1024 * 1024;
    private int maxInboundMetadataSize = 8 * 1024;
    private int maxConcurrentCallsPerConnection = 100;
    private int maxRstFrames = 200;
    private Duration maxRstWindow = Duration.ofSeconds(10);
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration keepAliveTime = Duration.ofMinutes(5);
    private Duration keepAliveTimeout = Duration.ofSeconds(20);
    private Duration permitKeepAliveTime = Duration.ofMinutes(1);
    private Duration maxConnectionIdle = Duration.ofMinutes(15);
    private Duration maxConnectionAge = Duration.ofHours(1);
    private Duration maxConnectionAgeGrace = Duration.ofMinutes(5);

    private Builder() {}

    /**
     * Largest request message the transport accepts, in bytes (default 8 MiB). Keep it above the
     * stack's {@code maxRequestMessageBytes} (default 4 MiB): the transport refuses before any
     * interceptor, so its refusals cannot be audited, while the stack's are.
     */
    public Builder maxInboundMessageSize(int bytes) {
      this.maxInboundMessageSize = requirePositive(bytes, "maxInboundMessageSize");
      return this;
    }

    /**
     * Request metadata (headers) size limit in bytes (default 8 KiB), counted as HTTP/2 does
     * (names, values and 32 bytes per entry). Every call over it fails on its own stream; see the
     * class javadoc.
     */
    public Builder maxInboundMetadataSize(int bytes) {
      this.maxInboundMetadataSize = requirePositive(bytes, "maxInboundMetadataSize");
      return this;
    }

    /** Most concurrent calls on one connection (default 100). */
    public Builder maxConcurrentCallsPerConnection(int calls) {
      this.maxConcurrentCallsPerConnection =
          requirePositive(calls, "maxConcurrentCallsPerConnection");
      return this;
    }

    /**
     * Most RST_STREAM frames a client may send per window before the connection is closed (default
     * 200 per 10 seconds): the HTTP/2 rapid-reset mitigation. The window is rounded to whole
     * seconds.
     */
    public Builder maxRstFramesPerWindow(int frames, Duration window) {
      this.maxRstFrames = requirePositive(frames, "frames");
      this.maxRstWindow = requirePositive(window, "window");
      return this;
    }

    /** Time a client has to finish the TLS handshake (default 10 s). */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = requirePositive(timeout, "handshakeTimeout");
      return this;
    }

    /** How often the server pings an idle connection, and how long it waits (5 min / 20 s). */
    public Builder keepAlive(Duration time, Duration timeout) {
      this.keepAliveTime = requirePositive(time, "time");
      this.keepAliveTimeout = requirePositive(timeout, "timeout");
      return this;
    }

    /**
     * The most frequent client keepalive pings tolerated (default one per minute, and none without
     * active calls); more frequent pings close the connection (ping-flood defence).
     */
    public Builder permitKeepAliveTime(Duration time) {
      this.permitKeepAliveTime = requirePositive(time, "permitKeepAliveTime");
      return this;
    }

    /** Closes connections idle this long (default 15 min). */
    public Builder maxConnectionIdle(Duration idle) {
      this.maxConnectionIdle = requirePositive(idle, "maxConnectionIdle");
      return this;
    }

    /**
     * Closes connections this old, after letting calls finish for {@code grace} (default 1 h / 5
     * min). Clients reconnect transparently, with a fresh handshake.
     */
    public Builder maxConnectionAge(Duration age, Duration grace) {
      this.maxConnectionAge = requirePositive(age, "age");
      this.maxConnectionAgeGrace = requirePositive(grace, "grace");
      return this;
    }

    /** Builds the immutable settings. */
    public HardenedServerDefaults build() {
      return new HardenedServerDefaults(this);
    }
  }
}
