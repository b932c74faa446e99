package dev.hipaagrpc.auth.authn;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.jsonwebtoken.io.DeserializationException;
import io.jsonwebtoken.io.Deserializer;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Strict JSON (RFC 8259 / I-JSON, RFC 7493) and canonical base64url (RFC 7515 section 2) for the
 * token validator and the key sources.
 *
 * <p>JSON goes through Gson's {@link JsonReader} in {@link Strictness#STRICT} mode (no comments,
 * single quotes, unquoted names or strings, invalid escapes, unescaped control characters, trailing
 * text); on top of that this class refuses duplicate member names, a byte order mark, unpaired
 * surrogates, non-finite numbers, nesting deeper than {@value #MAX_DEPTH}, and bytes that are not
 * valid UTF-8 (refused, never replaced).
 */
final class JwtJson {

  static final int MAX_DEPTH = 32;

  /** jjwt's JSON reader: the same strict rules, so jjwt never sees what the pre-check refused. */
  static final Deserializer<Map<String, ?>> STRICT_DESERIALIZER =
      new Deserializer<>() {
        @Override
        @Deprecated // jjwt's interface still declares it; bytes are checked as strictly
        public Map<String, ?> deserialize(byte[] bytes) {
          Map<String, Object> m = parseObject(bytes);
          if (m == null) {
            throw new DeserializationException("not strict JSON");
          }
          return m;
        }

        @Override
        public Map<String, ?> deserialize(Reader reader) {
          StringBuilder s = new StringBuilder();
          char[] buf = new char[1024];
          try {
            for (int n; (n = reader.read(buf)) >= 0; ) {
              s.append(buf, 0, n);
            }
          } catch (IOException e) {
            throw new DeserializationException("unreadable JSON", e);
          }
          Map<String, Object> m = parseObject(s.toString());
          if (m == null) {
            throw new DeserializationException("not strict JSON");
          }
          return m;
        }
      };

  private JwtJson() {}

  /** Parses a UTF-8 JSON object, or returns null when the bytes are not one (never throws). */
  static @Nullable Map<String, Object> parseObject(byte[] json) {
    String text = decodeUtf8(json);
    return text == null ? null : parseObject(text);
  }

  /** Parses a JSON object, or returns null when the text is not one (never throws). */
  static @Nullable Map<String, Object> parseObject(String json) {
    if (!json.isEmpty() && json.charAt(0) == '\uFEFF') {
      return null; // RFC 8259 section 8.1: a BOM must not be added, so none is accepted either
    }
    try (JsonReader r = new JsonReader(new StringReader(json))) {
      r.setStrictness(Strictness.STRICT);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        return null;
      }
      Map<String, Object> object = readObject(r, 1);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        return null;
      }
      return object;
    } catch (IOException | RuntimeException e) {
      // Malformed, lenient-only or trailing text: all mean "not a JOSE part".
      return null;
    }
  }

  /** Strict UTF-8: malformed or truncated sequences refuse instead of becoming U+FFFD. */
  static @Nullable String decodeUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Thrown inside the reader for what Gson accepts and we do not; never escapes this class. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused() {
      super("refused", null, false, false);
    }
  }

  private static Map<String, Object> readObject(JsonReader r, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new Refused();
    }
    Map<String, Object> m = new LinkedHashMap<>();
    r.beginObject();
    while (r.hasNext()) {
      String name = r.nextName();
      if (!wellFormed(name) || m.containsKey(name)) {
        // RFC 7515 section 4 / RFC 7519 section 4: duplicate names are refused, not "last wins".
        throw new Refused();
      }
      m.put(name, readValue(r, depth));
    }
    r.endObject();
    return m;
  }

  /** Returns the value; JSON null is a Java null, as jjwt's own readers give it. */
  @SuppressWarnings("NullAway") // JSON null is a legitimate member value
  private static Object readValue(JsonReader r, int depth) throws IOException {
    return switch (r.peek()) {
      case BEGIN_OBJECT -> readObject(r, depth + 1);
      case BEGIN_ARRAY -> readArray(r, depth + 1);
      case STRING -> {
        String s = r.nextString();
        if (!wellFormed(s)) {
          throw new Refused();
        }
        yield s;
      }
      case NUMBER -> number(r.nextString());
      case BOOLEAN -> r.nextBoolean();
      case NULL -> {
        r.nextNull();
        yield null;
      }
      default -> throw new Refused();
    };
  }

  private static List<Object> readArray(JsonReader r, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new Refused();
    }
    List<Object> list = new ArrayList<>();
    r.beginArray();
    while (r.hasNext()) {
      list.add(readValue(r, depth));
    }
    r.endArray();
    return list;
  }

  private static Object number(String text) {
    boolean integral = text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
    if (integral) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException tooLarge) {
        // falls through to a double, which must still be finite
      }
    }
    double d = Double.parseDouble(text);
    if (!Double.isFinite(d)) {
      throw new Refused(); // I-JSON: numbers beyond IEEE 754 double range are refused
    }
    return d;
  }

  /** No unpaired surrogates (RFC 7493 section 2.1). */
  private static boolean wellFormed(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code s[from, to)} is canonical unpadded base64url (RFC 7515 section 2, RFC 4648
   * section 3.5): only the URL-safe alphabet, no padding, no length that leaves a lone character,
   * and the unused low bits of the last character zero. The canonical form is the only encoding of
   * its bytes, so a token has exactly one accepted spelling.
   */
  static boolean isCanonicalBase64Url(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (sextet(s.charAt(i)) < 0) {
        return false;
      }
    }
    int rem = (to - from) % 4;
    if (rem == 1) {
      return false;
    }
    if (rem == 0 || to == from) {
      return true;
    }
    int last = sextet(s.charAt(to - 1));
    // 2 chars carry 8 bits (4 unused); 3 chars carry 16 bits (2 unused).
    return (last & (rem == 2 ? 0x0f : 0x03)) == 0;
  }

  private static int sextet(char c) {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    }
    if (c == '-') {
      return 62;
    }
    if (c == '_') {
      return 63;
    }
    return -1;
  }

  /** Decodes canonical unpadded base64url, or returns null when malformed or non-canonical. */
  static byte @Nullable [] decodeBase64Url(String s, int from, int to) {
    if (from >= to || !isCanonicalBase64Url(s, from, to)) {
      return null;
    }
    return Base64.getUrlDecoder().decode(s.substring(from, to));
  }

  /** Returns the string at {@code key}, or null when absent or not a string. */
  static @Nullable String string(Map<String, ?> map, String key) {
    Object v = map.get(key);
    return v instanceof String s ? s : null;
  }
}
