package dev.hipaagrpc.audit;

import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run in a child JVM by {@link CrashRecoveryTest}: writes events through a durable dispatcher from
 * several threads forever, printing {@code ACK <event id>} once each is synced. The parent kills it
 * with SIGKILL.
 *
 * <p>Arguments: directory, genesis key file, signing private key file, signing public key file, run
 * number.
 */
public final class CrashChild {

  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    KeyPair signing = AuditKeys.readSigningKeyPair(Path.of(args[2]), Path.of(args[3]));
    String run = args[4];
    ChainedFileSink sink =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(AuditKeys.readSecretKey(Path.of(args[1])))
            .signingKey(signing)
            .checkpointEvery(7, Duration.ofSeconds(1))
            .rotateAt(6 * 1024, Duration.ofHours(1))
            .build();
    AuditDispatcher dispatcher =
        AuditDispatcher.newBuilder(sink)
            .policy(DeliveryPolicy.FAIL_CLOSED)
            .durableBeforeResponse(true)
            .build();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.println("READY");
    AtomicLong n = new AtomicLong();
    Runnable writer =
        () -> {
          while (true) {
            String id = String.format("r%03d-%027d", Integer.parseInt(run), n.incrementAndGet());
            AuditEvent e =
                AuditEvent.newBuilder()
                    .setSchema("hipaagrpc.audit/1")
                    .setEventId(id)
                    .setType(AuditEvent.Type.CALL)
                    .setTime("2026-03-04T05:06:07.008Z")
                    .build();
            if (dispatcher.deliver(e)) {
              synchronized (out) {
                out.println("ACK " + id);
              }
            }
          }
        };
    for (int i = 0; i < 3; i++) {
      Thread t = new Thread(writer, "writer-" + i);
      t.start();
    }
    // The parent kills us within seconds; should it die first, do not outlive it for long.
    Thread.sleep(120_000);
    System.exit(3);
  }
}
