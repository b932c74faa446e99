package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the lines of a log's files in order, with one line of lookahead, each with its file, line
 * number and {@link Frame}. Built on the {@link LineReader} that crash recovery uses too.
 */
final class LogLines implements AutoCloseable {

  /** One line with its place. */
  static final class Entry {
    final String file;
    final long line;
    final byte[] bytes;
    final boolean terminated;
    final boolean firstInFile;
    final @Nullable Frame frame;

    Entry(String file, long line, byte[] bytes, boolean terminated, boolean firstInFile) {
      this.file = file;
      this.line = line;
      this.bytes = bytes;
      this.terminated = terminated;
      this.firstInFile = firstInFile;
      this.frame = terminated ? Frame.parse(bytes) : null;
    }
  }

  private final List<Path> files;
  private int fileIndex = -1;
  private @Nullable InputStream in;
  private @Nullable LineReader reader;
  private long lineNo;
  private @Nullable Entry peeked;

  LogLines(List<Path> files) {
    this.files = files;
  }

  @Nullable Entry peek() throws IOException {
    if (peeked == null) {
      peeked = read();
    }
    return peeked;
  }

  @Nullable Entry next() throws IOException {
    Entry e = peek();
    peeked = null;
    return e;
  }

  private @Nullable Entry read() throws IOException {
    while (true) {
      LineReader r = reader;
      if (r != null) {
        byte @Nullable [] b = r.next();
        if (b != null) {
          lineNo++;
          return new Entry(
              files.get(fileIndex).getFileName().toString(),
              lineNo,
              b,
              r.terminated(),
              lineNo == 1);
        }
        close();
      }
      if (fileIndex + 1 >= files.size()) {
        return null;
      }
      fileIndex++;
      in = Files.newInputStream(files.get(fileIndex));
      reader = new LineReader(requireNonNull(in));
      lineNo = 0;
    }
  }

  /** The name of the file being read, or the next one to open, or {@code -}. */
  String currentFile() {
    int i = Math.max(0, fileIndex);
    return i < files.size() ? files.get(i).getFileName().toString() : "-";
  }

  @Override
  public void close() throws IOException {
    InputStream s = in;
    in = null;
    reader = null;
    if (s != null) {
      s.close();
    }
  }
}
