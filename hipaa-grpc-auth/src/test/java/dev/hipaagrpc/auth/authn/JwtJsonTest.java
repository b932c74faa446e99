package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsonwebtoken.io.DeserializationException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every rule of the strict JSON reader and the canonical base64url check. */
class JwtJsonTest {

  @Test
  void parseObject_plainObject_parsedWithTypes() {
    Map<String, Object> m =
        JwtJson.parseObject(
            " {\"s\":\"a\\u00e9\\n\",\"i\":-12,\"big\":123456789012345678901,\"d\":1.5e3,"
                + "\"t\":true,\"n\":null,\"a\":[1,\"x\",{}],\"o\":{\"k\":[]}} ");
    assertThat(m).isNotNull();
    assertThat(m.get("s")).isEqualTo("a\u00e9\n");
    assertThat(m.get("i")).isEqualTo(-12L);
    assertThat(m.get("big")).isEqualTo(1.2345678901234568E20);
    assertThat(m.get("d")).isEqualTo(1500.0);
    assertThat(m.get("t")).isEqualTo(true);
    assertThat(m).containsKey("n");
    assertThat(m.get("n")).isNull();
    assertThat(m.get("a")).isEqualTo(List.of(1L, "x", Map.of()));
    assertThat(m.get("o")).isEqualTo(Map.of("k", List.of()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{'a':1}", // single-quoted name
        "{\"a\":'x'}", // single-quoted value
        "{a:1}", // unquoted name
        "{\"a\":x}", // unquoted value
        "{\"a\":1/*c*/}", // block comment
        "{\"a\":1}//c", // line comment
        "{#c\n\"a\":1}", // hash comment
        "{\"a\":1} x", // trailing text
        "{\"a\":1}{}", // second document
        "{\"a\":1,}", // trailing comma
        "{\"a\":[1,]}", // trailing comma in array
        "{\"a\":[,1]}", // missing value
        "{\"a\":1;\"b\":2}", // semicolon separator
        "{\"a\"=1}", // = separator
        "{\"a\"=>1}", // => separator
        "{\"a\":NaN}", // non-finite literal
        "{\"a\":Infinity}",
        "{\"a\":1e999}", // overflows a double
        "{\"a\":01}", // leading zero
        "{\"a\":+1}", // leading plus
        "{\"a\":.5}", // no integer part
        "{\"a\":\"\\'\"}", // escape JSON does not have
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"a\u0001b\"}", // unescaped control character
        "{\"a\":\"\\ud800\"}", // unpaired high surrogate
        "{\"a\":\"\\udc00\"}", // unpaired low surrogate
        "{\"\\ud800\":1}", // unpaired surrogate in a name
        "{\"a\":1,\"a\":1}", // duplicate name, same value
        "{\"a\":1,\"\\u0061\":2}", // duplicate after unescaping
        "{\"o\":{\"a\":1,\"a\":2}}", // duplicate in a nested object
        "\uFEFF{\"a\":1}", // byte order mark
        "[1,2]", // not an object
        "\"s\"",
        "",
        "{\"a\":tru}",
      })
  void parseObject_notStrictJson_null(String json) {
    assertThat(JwtJson.parseObject(json)).isNull();
    assertThat(JwtJson.parseObject(json.getBytes(StandardCharsets.UTF_8))).isNull();
  }

  @Test
  void parseObject_nestingAtLimit_acceptedBeyond_null() {
    int max = JwtJson.MAX_DEPTH;
    String ok = "{\"a\":".repeat(max - 1) + "{}" + "}".repeat(max - 1);
    assertThat(JwtJson.parseObject(ok)).isNotNull();
    String deep = "{\"a\":".repeat(max) + "{}" + "}".repeat(max);
    assertThat(JwtJson.parseObject(deep)).isNull();
    String arraysOk = "{\"a\":" + "[".repeat(max - 1) + "]".repeat(max - 1) + "}";
    assertThat(JwtJson.parseObject(arraysOk)).isNotNull();
    String arrays = "{\"a\":" + "[".repeat(max) + "]".repeat(max) + "}";
    assertThat(JwtJson.parseObject(arrays)).isNull();
  }

  @Test
  void parseObject_invalidUtf8_nullNeverReplaced() {
    byte[][] bad = {
      {(byte) 0xff}, // never valid
      {(byte) 0xc3}, // truncated sequence
      {(byte) 0xc0, (byte) 0xaf}, // overlong '/'
      {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // encoded surrogate
      {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
    };
    for (byte[] b : bad) {
      byte[] json =
          concat(
              "{\"a\":\"".getBytes(StandardCharsets.UTF_8),
              b,
              "\"}".getBytes(StandardCharsets.UTF_8));
      assertThat(JwtJson.parseObject(json)).as(Arrays.toString(b)).isNull();
      assertThat(JwtJson.decodeUtf8(b)).isNull();
    }
    assertThat(JwtJson.parseObject("{\"a\":\"Zoë 😀\"}".getBytes(StandardCharsets.UTF_8)))
        .containsEntry("a", "Zoë 😀");
  }

  @Test
  void strictDeserializer_refusesWhatParseObjectRefuses() {
    assertThatThrownBy(() -> JwtJson.STRICT_DESERIALIZER.deserialize(new StringReader("{a:1}")))
        .isInstanceOf(DeserializationException.class);
    Map<String, ?> m = JwtJson.STRICT_DESERIALIZER.deserialize(new StringReader("{\"a\":1}"));
    assertThat(m.get("a")).isEqualTo(1L);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** The hand-written check agrees with the JDK: canonical iff decode then encode is identity. */
  @Test
  void isCanonicalBase64Url_agreesWithJdkRoundTrip() {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.";
    SplittableRandom random = new SplittableRandom(12);
    for (int i = 0; i < 200_000; i++) {
      int len = random.nextInt(9);
      StringBuilder s = new StringBuilder();
      for (int j = 0; j < len; j++) {
        s.append(alphabet.charAt(random.nextInt(random.nextInt(8) == 0 ? 68 : 64)));
      }
      String t = s.toString();
      assertThat(JwtJson.isCanonicalBase64Url("x" + t + "y", 1, t.length() + 1))
          .as(t)
          .isEqualTo(jdkCanonical(t));
    }
  }

  private static boolean jdkCanonical(String s) {
    try {
      byte[] b = Base64.getUrlDecoder().decode(s);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(b).equals(s);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Test
  void decodeBase64Url_nonCanonical_null() {
    assertThat(JwtJson.decodeBase64Url("QQ", 0, 2)).containsExactly('A');
    assertThat(JwtJson.decodeBase64Url("QR", 0, 2)).isNull(); // unused bits set
    assertThat(JwtJson.decodeBase64Url("QUE", 0, 3)).containsExactly('A', 'A');
    assertThat(JwtJson.decodeBase64Url("QUF", 0, 3)).isNull();
    assertThat(JwtJson.decodeBase64Url("QQ==", 0, 4)).isNull(); // padding
    assertThat(JwtJson.decodeBase64Url("+/8", 0, 3)).isNull(); // standard alphabet
    assertThat(JwtJson.decodeBase64Url("-_8", 0, 3)).containsExactly(0xfb, 0xff);
    assertThat(JwtJson.decodeBase64Url("QUFBQ", 0, 5)).isNull(); // a lone final character
    assertThat(JwtJson.decodeBase64Url("", 0, 0)).isNull();
  }
}
