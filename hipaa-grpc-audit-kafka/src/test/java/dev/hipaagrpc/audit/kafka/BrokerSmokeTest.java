package dev.hipaagrpc.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrokerSmokeTest {
  @Test
  void broker_startsAndRestarts(@TempDir Path tmp) throws Exception {
    try (KafkaBrokerProcess b = KafkaBrokerProcess.start(tmp.resolve("kafka"))) {
      b.createTopic("t", 1);
      b.restart();
      assertThat(b.bootstrapServers()).startsWith("127.0.0.1:");
    }
  }
}
