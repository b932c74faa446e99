package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.util.Arrays;
import java.util.List;

/**
 * JSON written straight to UTF-8 bytes in one growable buffer, with the same quoting as {@link
 * Json}: no value can break out of its string. The log's records are encoded once, here, and the
 * bytes that are HMAC'd, hashed and written are these same bytes. Field names are constants
 * prepared once with {@link #key}. Not thread-safe.
 */
final class JsonBytes {

  private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(US_ASCII);
  private static final byte[] TRUE = "true".getBytes(US_ASCII);

  private byte[] buf;
  private int len;
  // Bit d is set once the object open at depth d has a member: the next one needs a comma.
  private long members;
  private int depth;

  JsonBytes(int capacity) {
    buf = new byte[capacity];
  }

  /** {@code "name":} as bytes; {@code name} is one of our constants (never escaped). */
  static byte[] key(String name) {
    return ("\"" + name + "\":").getBytes(US_ASCII);
  }

  /** Empties the buffer. */
  void reset() {
    len = 0;
    depth = 0;
    members = 0;
  }

  int length() {
    return len;
  }

  /** The buffer itself (valid up to {@link #length()}), not a copy. */
  byte[] array() {
    return buf;
  }

  /** Opens an object. */
  JsonBytes begin() {
    ensure(1);
    buf[len++] = '{';
    depth++;
    members &= ~(1L << depth);
    return this;
  }

  /** Closes the innermost object. */
  JsonBytes end() {
    ensure(1);
    buf[len++] = '}';
    depth--;
    return this;
  }

  /** Starts a member holding an object; close it with {@link #end()}. */
  JsonBytes obj(byte[] key) {
    member(key);
    return begin();
  }

  /** Writes the member unless the value is empty (proto3 JSON omits defaults). */
  JsonBytes str(byte[] key, String value) {
    if (!value.isEmpty()) {
      member(key);
      string(value);
    }
    return this;
  }

  JsonBytes num(byte[] key, long value) {
    if (value != 0) {
      member(key);
      number(value);
    }
    return this;
  }

  JsonBytes bool(byte[] key, boolean value) {
    if (value) {
      member(key);
      raw(TRUE);
    }
    return this;
  }

  JsonBytes strings(byte[] key, List<String> values) {
    if (!values.isEmpty()) {
      member(key);
      put('[');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          put(',');
        }
        string(values.get(i));
      }
      put(']');
    }
    return this;
  }

  /** Writes a map entry: unlike field names, map keys are data and are escaped. */
  JsonBytes entry(String key, String value) {
    comma();
    string(key);
    put(':');
    string(value);
    return this;
  }

  private void member(byte[] key) {
    comma();
    raw(key);
  }

  private void comma() {
    long bit = 1L << depth;
    if ((members & bit) != 0) {
      put(',');
    }
    members |= bit;
  }

  void put(char asciiChar) {
    ensure(1);
    buf[len++] = (byte) asciiChar;
  }

  void raw(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, len, b.length);
    len += b.length;
  }

  /** Lower-case hex of {@code data}. */
  void hex(byte[] data) {
    ensure(data.length * 2);
    len = hex(data, buf, len);
  }

  /** Writes the lower-case hex of {@code data} into {@code dst} at {@code at}; returns the end. */
  static int hex(byte[] data, byte[] dst, int at) {
    int p = at;
    for (byte x : data) {
      dst[p++] = HEX_DIGITS[(x >> 4) & 0xf];
      dst[p++] = HEX_DIGITS[x & 0xf];
    }
    return p;
  }

  /** A decimal number, as {@link Long#toString(long)} spells it. */
  void number(long value) {
    if (value == Long.MIN_VALUE) {
      raw(Long.toString(value).getBytes(US_ASCII));
      return;
    }
    ensure(20);
    long v = value;
    if (v < 0) {
      buf[len++] = '-';
      v = -v;
    }
    int digits = 1;
    for (long t = v / 10; t != 0; t /= 10) {
      digits++;
    }
    int p = len + digits;
    len = p;
    do {
      buf[--p] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    } while (v != 0);
  }

  /**
   * Appends {@code value} as a JSON string in UTF-8: escapes quotes, backslashes and all controls;
   * U+2028/2029 (they break JavaScript readers of JSON lines) and lone surrogates (they have no
   * UTF-8 form) as a backslash-u escape with four hex digits. Byte for byte what {@link
   * Json#string} writes, encoded.
   */
  void string(String value) {
    int n = value.length();
    // At most 6 bytes per char (an escape); a surrogate pair takes 4 for its two chars.
    ensure(6 * n + 2);
    byte[] b = buf;
    int p = len;
    b[p++] = '"';
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c != '"' && c != '\\') {
          b[p++] = (byte) c;
        } else {
          p = escapeAscii(b, p, c);
        }
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(value.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, value.charAt(++i));
          b[p++] = (byte) (0xf0 | (cp >> 18));
          b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
          b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
          b[p++] = (byte) (0x80 | (cp & 0x3f));
        } else {
          p = unicodeEscape(b, p, c);
        }
      } else if (c == 0x2028 || c == 0x2029) {
        p = unicodeEscape(b, p, c);
      } else {
        b[p++] = (byte) (0xe0 | (c >> 12));
        b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    b[p++] = '"';
    len = p;
  }

  private static int escapeAscii(byte[] b, int p, char c) {
    char letter =
        switch (c) {
          case '"' -> '"';
          case '\\' -> '\\';
          case '\n' -> 'n';
          case '\r' -> 'r';
          case '\t' -> 't';
          default -> 0;
        };
    if (letter == 0) {
      return unicodeEscape(b, p, c);
    }
    b[p] = '\\';
    b[p + 1] = (byte) letter;
    return p + 2;
  }

  private static int unicodeEscape(byte[] b, int p, char c) {
    b[p] = '\\';
    b[p + 1] = 'u';
    b[p + 2] = HEX_DIGITS[(c >> 12) & 0xf];
    b[p + 3] = HEX_DIGITS[(c >> 8) & 0xf];
    b[p + 4] = HEX_DIGITS[(c >> 4) & 0xf];
    b[p + 5] = HEX_DIGITS[c & 0xf];
    return p + 6;
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
  }
}
