package dev.hipaagrpc.audit;

import java.util.HexFormat;
import java.util.List;

/** Minimal JSON writing: quoting that no value can break out of. */
final class Json {

  private static final HexFormat HEX = HexFormat.of();

  private Json() {}

  /** Appends {@code value} as a JSON string; escapes quotes, backslashes and all controls. */
  static void string(StringBuilder sb, String value) {
    sb.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          // U+2028/2029 break JavaScript readers of JSON lines; lone surrogates break UTF-8.
          if (c < 0x20 || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c)
                && i + 1 < value.length()
                && Character.isLowSurrogate(value.charAt(i + 1))) {
              sb.append(c).append(value.charAt(++i));
            } else {
              sb.append("\\u").append(HEX.toHexDigits(c));
            }
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Writes JSON objects field by field, inserting commas. */
  static final class Obj {
    private final StringBuilder sb;
    private boolean first = true;

    Obj(StringBuilder sb) {
      this.sb = sb;
      sb.append('{');
    }

    /** Starts a field whose name is one of our constants (never escaped). */
    StringBuilder key(String name) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      sb.append('"').append(name).append("\":");
      return sb;
    }

    /** Writes the field unless the value is empty (proto3 JSON omits defaults). */
    Obj str(String name, String value) {
      if (!value.isEmpty()) {
        string(key(name), value);
      }
      return this;
    }

    Obj num(String name, long value) {
      if (value != 0) {
        key(name).append(value);
      }
      return this;
    }

    Obj bool(String name, boolean value) {
      if (value) {
        key(name).append("true");
      }
      return this;
    }

    Obj strings(String name, List<String> values) {
      if (!values.isEmpty()) {
        StringBuilder b = key(name).append('[');
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            b.append(',');
          }
          string(b, values.get(i));
        }
        b.append(']');
      }
      return this;
    }

    /** Writes a map entry: unlike field names, map keys are data and are escaped. */
    Obj entry(String key, String value) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      string(sb, key);
      string(sb.append(':'), value);
      return this;
    }

    Obj obj(String name) {
      key(name);
      return new Obj(sb);
    }

    StringBuilder end() {
      return sb.append('}');
    }
  }
}
