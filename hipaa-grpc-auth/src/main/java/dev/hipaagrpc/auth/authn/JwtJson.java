package dev.hipaagrpc.auth.authn;

import io.jsonwebtoken.gson.io.GsonDeserializer;
import io.jsonwebtoken.io.Deserializer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Small JSON and base64url helpers shared by the token validator and the key sources. */
final class JwtJson {

  private static final Deserializer<Object> JSON = new GsonDeserializer<>();

  private JwtJson() {}

  /** Parses a JSON object, or returns null when the bytes are not one (never throws). */
  @SuppressWarnings("unchecked")
  static @Nullable Map<String, Object> parseObject(byte[] json) {
    try {
      Object parsed =
          JSON.deserialize(
              new java.io.InputStreamReader(
                  new java.io.ByteArrayInputStream(json), StandardCharsets.UTF_8));
      return parsed instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    } catch (RuntimeException e) {
      // Gson refuses duplicate keys, deep nesting and malformed text; all mean "not a JWT part".
      return null;
    }
  }

  /** Parses a UTF-8 JSON object from a string. */
  static @Nullable Map<String, Object> parseObject(String json) {
    return parseObject(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes unpadded base64url, or returns null when malformed. */
  static byte @Nullable [] decodeBase64Url(String s, int from, int to) {
    if (from >= to) {
      return null;
    }
    try {
      return Base64.getUrlDecoder().decode(s.substring(from, to));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Returns the string at {@code key}, or null when absent or not a string. */
  static @Nullable String string(Map<String, ?> map, String key) {
    Object v = map.get(key);
    return v instanceof String s ? s : null;
  }
}
