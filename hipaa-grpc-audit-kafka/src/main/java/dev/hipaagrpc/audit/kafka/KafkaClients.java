package dev.hipaagrpc.audit.kafka;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Properties;

/** What the forwarder and the receiver share: the transport check of their client, SHA-256. */
final class KafkaClients {

  private static final HexFormat HEX = HexFormat.of();

  private KafkaClients() {}

  /**
   * Refuses a client whose {@code security.protocol} is not SSL or SASL_SSL (Kafka's default is
   * PLAINTEXT) unless plaintext was allowed; {@code verb} says what the client does with records.
   */
  static void requireBootstrapAndTls(Properties props, boolean allowPlaintext, String verb) {
    if (props.getProperty("bootstrap.servers") == null) {
      throw new IllegalStateException("bootstrapServers(...) is required");
    }
    String protocol =
        String.valueOf(props.getOrDefault("security.protocol", "PLAINTEXT"))
            .toUpperCase(Locale.ROOT);
    if (!allowPlaintext && !protocol.equals("SSL") && !protocol.equals("SASL_SSL")) {
      throw new IllegalStateException(
          "security.protocol "
              + protocol
              + " "
              + verb
              + " audit records unencrypted: use SSL or SASL_SSL, or"
              + " allowInsecurePlaintext(true) for a loopback test broker");
    }
  }

  static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  static String sha256Hex(byte[] b) {
    return HEX.formatHex(sha256(b));
  }
}
