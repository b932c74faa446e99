package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writing durably is killed with SIGKILL twenty times; nothing acknowledged is lost.
 */
class CrashRecoveryTest {

  @TempDir Path tmp;

  @Test
  @Timeout(300)
  void sigkillWhileWriting_twentyTimes_chainIntactAndEveryAckedEventPresent() throws Exception {
    Path dir = tmp.resolve("log");
    Path genesis = tmp.resolve("k0");
    Path priv = tmp.resolve("sign.key");
    Path pub = tmp.resolve("sign.pub");
    byte[] k0 = AuditKeys.newSecretKey();
    AuditKeys.writeSecretKey(genesis, k0);
    KeyPair pair = AuditKeys.newSigningKeyPair();
    AuditKeys.writePrivateKey(priv, pair.getPrivate());
    AuditKeys.writePublicKey(pub, pair.getPublic());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("java.class.path");
    Random random = new Random(42);
    Set<String> acked = new HashSet<>();
    int recoveries = 0;
    for (int run = 0; run < 20; run++) {
      List<String> cmd = new ArrayList<>();
      cmd.add(java);
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-Xshare:auto");
      cmd.add("-cp");
      cmd.add(cp);
      cmd.add(CrashChild.class.getName());
      cmd.add(dir.toString());
      cmd.add(genesis.toString());
      cmd.add(priv.toString());
      cmd.add(pub.toString());
      cmd.add(Integer.toString(run));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      // Bounds the reads below: a child that stops acknowledging is killed, closing its output.
      AtomicBoolean watchdogFired = new AtomicBoolean();
      CompletableFuture.delayedExecutor(60, TimeUnit.SECONDS)
          .execute(
              () -> {
                if (p.isAlive()) {
                  watchdogFired.set(true);
                  p.destroyForcibly();
                }
              });
      int killAfter = 5 + random.nextInt(60);
      int seen = 0;
      BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8));
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(line.substring(4));
          if (++seen >= killAfter) {
            // SIGKILL on Unix: no shutdown hooks, no close checkpoint. Through the handle, so
            // that the pipe stays open for acknowledgements already printed.
            p.toHandle().destroyForcibly();
            break;
          }
        }
      }
      // Acknowledgements already printed before the kill still count.
      while ((line = r.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(line.substring(4));
        }
      }
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(watchdogFired).as("run %d acknowledged within 60 s", run).isFalse();
      assertThat(seen).as("run %d produced acknowledgements", run).isGreaterThan(0);
    }
    AuditVerifier.Result result =
        AuditVerifier.newBuilder(pair.getPublic()).chainKey(k0).build().verify(dir);
    assertThat(result.failure()).isNull();
    Set<String> present = new HashSet<>();
    for (Path f : LogFiles.list(dir)) {
      for (String l : Files.readAllLines(f, UTF_8)) {
        AuditRecord.Builder b = AuditRecord.newBuilder();
        JsonFormat.parser().merge(l, b);
        if (b.hasEvent()) {
          present.add(b.getEvent().getEventId());
        } else if (b.getCheckpoint().getReason().name().equals("RECOVERED")) {
          recoveries++;
        }
      }
    }
    assertThat(acked).hasSizeGreaterThan(100);
    assertThat(present).containsAll(acked);
    assertThat(recoveries).isEqualTo(19); // every restart after a kill recovered
  }
}
