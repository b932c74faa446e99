package dev.hipaagrpc.audit;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** Reads newline-terminated lines as bytes, telling whether the last one was terminated. */
final class LineReader {

  private final InputStream in;
  private final byte[] buf = new byte[64 * 1024];
  private int pos;
  private int limit;
  private long offset;
  private boolean terminated;

  LineReader(InputStream in) {
    this.in = in;
  }

  /** The next line without its newline, or null at end of input. */
  byte @Nullable [] next() throws IOException {
    byte[] line = new byte[256];
    int n = 0;
    while (true) {
      if (pos == limit) {
        limit = in.read(buf);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          if (n == 0) {
            return null;
          }
          terminated = false;
          return Arrays.copyOf(line, n);
        }
      }
      byte b = buf[pos++];
      offset++;
      if (b == '\n') {
        terminated = true;
        return Arrays.copyOf(line, n);
      }
      if (n == line.length) {
        line = Arrays.copyOf(line, n * 2);
      }
      line[n++] = b;
    }
  }

  /** Whether the line last returned ended with a newline. */
  boolean terminated() {
    return terminated;
  }

  /** Bytes consumed so far. */
  long offset() {
    return offset;
  }
}
