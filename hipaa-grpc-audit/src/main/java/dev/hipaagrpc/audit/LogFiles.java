package dev.hipaagrpc.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** The files of one audit log: {@code audit-<first seq, 20 digits>.jsonl}, in sequence order. */
final class LogFiles {

  private static final Pattern FILE_NAME = Pattern.compile("audit-([0-9]{20})\\.jsonl");

  private LogFiles() {}

  /** The log files in {@code dir}, oldest first. */
  static List<Path> list(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> FILE_NAME.matcher(p.getFileName().toString()).matches())
          .sorted()
          .forEach(files::add);
    }
    return files;
  }

  /** The files in {@code dir} whose whole name matches {@code regex}, sorted by name. */
  static List<Path> listNames(Path dir, String regex) throws IOException {
    Pattern p = Pattern.compile(regex);
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(f -> p.matcher(f.getFileName().toString()).matches()).sorted().forEach(out::add);
    }
    return out;
  }

  /** The file whose first record has sequence number {@code seq}. */
  static Path fileFor(Path dir, long seq) {
    return dir.resolve(String.format("audit-%020d.jsonl", seq));
  }

  /** The sequence number a log file's name says its first record has, or -1. */
  static long firstSeq(Path file) {
    Matcher name = FILE_NAME.matcher(file.getFileName().toString());
    return name.matches() ? Long.parseLong(name.group(1)) : -1;
  }

  /** Renames {@code tmp} over {@code target}, atomically where the file system can. */
  static void replace(Path tmp, Path target) throws IOException {
    try {
      Files.move(
          tmp,
          target,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Makes a rename or a new file in {@code d} durable, where the platform supports it. */
  static void syncDirectory(@Nullable Path d) {
    if (d == null) {
      return;
    }
    try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException | RuntimeException e) {
      // Not supported on every platform; the file data itself is synced.
    }
  }
}
