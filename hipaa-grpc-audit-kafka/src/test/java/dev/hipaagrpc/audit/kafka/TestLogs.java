package dev.hipaagrpc.audit.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditLine;
import dev.hipaagrpc.audit.ChainedFileSink;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A real audit log written by ChainedFileSink, with its keys, for the shipping tests. */
final class TestLogs {

  final Path dir;
  final byte[] genesis;
  final KeyPair signing;
  final List<String> notes = new ArrayList<>();
  @Nullable String origin;

  TestLogs(Path dir) {
    this(dir, AuditKeys.newSecretKey(), AuditKeys.newSigningKeyPair());
  }

  TestLogs(Path dir, byte[] genesis, KeyPair signing) {
    this.dir = dir;
    this.genesis = genesis;
    this.signing = signing;
  }

  /** A sink checkpointing every 10 records and rotating at 8 KiB: many files and checkpoints. */
  ChainedFileSink open() throws IOException {
    ChainedFileSink.Builder b =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(genesis)
            .signingKey(signing)
            .checkpointEvery(10, Duration.ofHours(1))
            .rotateAt(8 * 1024, Duration.ofDays(1))
            .onCheckpointNote(notes::add);
    String o = origin;
    if (o != null) {
      b.origin(o);
    }
    return b.build();
  }

  static AuditEvent event(int i) {
    return AuditEvent.newBuilder()
        .setSchema("hipaagrpc.audit/1")
        .setEventId(String.format("%032d", i))
        .setType(AuditEvent.Type.CALL)
        .setTime("2026-03-04T05:06:07.008Z")
        .setCorrelationId("corr-" + i)
        .build();
  }

  /** Writes {@code n} events in batches of 5 (the sink stays open). */
  static void write(ChainedFileSink sink, int from, int n) throws IOException {
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      batch.add(event(i));
      if (batch.size() == 5) {
        sink.write(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      sink.write(batch);
    }
  }

  /** Writes a closed log of {@code n} events. */
  TestLogs writeClosed(int n) throws IOException {
    try (ChainedFileSink sink = open()) {
      write(sink, 0, n);
    }
    return this;
  }

  /** Every record line of the log, in order, without newlines. */
  List<byte[]> lines() throws IOException {
    List<byte[]> out = new ArrayList<>();
    for (Path f : AuditLine.logFiles(dir)) {
      byte[] all = Files.readAllBytes(f);
      int start = 0;
      for (int i = 0; i < all.length; i++) {
        if (all[i] == '\n') {
          out.add(Arrays.copyOfRange(all, start, i));
          start = i + 1;
        }
      }
    }
    return out;
  }

  /** The log's origin (from its genesis record). */
  String origin() throws IOException {
    return AuditLine.defaultOrigin(lines().get(0));
  }

  /** The latest checkpoint note. */
  String latestNote() throws IOException {
    return Files.readString(dir.resolve(AuditLine.CHECKPOINT_NOTE_FILE), UTF_8);
  }
}
