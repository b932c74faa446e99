package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.hipaagrpc.core.KeyedIdentifier;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class TokenizerTest {

  private final Tokenizer tokenizer = Fixtures.tokenizer();

  @Test
  void keyedHash_deterministicPerKeyAndDistinctPerValue() {
    assertThat(tokenizer.keyedHash("123-45-6789")).isEqualTo(tokenizer.keyedHash("123-45-6789"));
    assertThat(tokenizer.keyedHash("123-45-6789")).isNotEqualTo(tokenizer.keyedHash("123-45-6780"));
    assertThat(tokenizer.keyedHash("x")).startsWith("kh1.k1.").hasSize("kh1.k1.".length() + 43);
    Tokenizer otherKey = Tokenizer.create(TokenKeyProvider.of("k0", Map.of("k0", Fixtures.key(0))));
    assertThat(otherKey.keyedHash("x")).isNotEqualTo(tokenizer.keyedHash("x"));
    assertThat(tokenizer.keyedHash(ByteString.copyFromUtf8("x")).size()).isEqualTo(32);
  }

  @Test
  void keyedHash_isCoreKeyedIdentifierInValueDomain() {
    KeyedIdentifier format = KeyedIdentifier.create("k1", Fixtures.key(1).getEncoded());
    String id = format.of(Tokenizer.KEYED_HASH_DOMAIN, "123-45-6789");

    assertThat(tokenizer.keyedHash("123-45-6789")).isEqualTo(id);
    assertThat(KeyedIdentifier.isKeyedIdentifier(id)).isTrue();
    // The bytes form is the same MAC, without prefix and key id.
    assertThat(tokenizer.keyedHash(ByteString.copyFromUtf8("123-45-6789")).toByteArray())
        .isEqualTo(Base64.getUrlDecoder().decode(id.substring("kh1.k1.".length())));
  }

  @Test
  void keyedHash_followsTheProvidersCurrentKey() {
    AtomicReference<String> current = new AtomicReference<>("k1");
    Map<String, SecretKeySpec> keys = Map.of("k1", Fixtures.key(1), "k0", Fixtures.key(0));
    TokenKeyProvider rotating =
        new TokenKeyProvider() {
          @Override
          public String currentKeyId() {
            return current.get();
          }

          @Override
          public @Nullable SecretKeySpec key(String keyId) {
            return keys.get(keyId);
          }
        };
    Tokenizer rotatingTokenizer = Tokenizer.create(rotating);
    String before = rotatingTokenizer.keyedHash("x");

    current.set("k0");

    assertThat(before).startsWith("kh1.k1.");
    assertThat(rotatingTokenizer.keyedHash("x"))
        .startsWith("kh1.k0.")
        .isEqualTo(KeyedIdentifier.create("k0", Fixtures.key(0).getEncoded()).of("value", "x"));
  }

  @Test
  void tokenize_roundTripsOnlyForDetokenizeRole() {
    String token = tokenizer.tokenize("MRN-42");

    assertThat(token).startsWith("tk1.k1.").doesNotContain("MRN-42");
    assertThat(tokenizer.tokenize("MRN-42")).isNotEqualTo(token);
    assertThat(tokenizer.detokenize(token, Fixtures.principal("detokenize"))).isEqualTo("MRN-42");
    assertThatThrownBy(() -> tokenizer.detokenize(token, Fixtures.principal("clinician")))
        .isInstanceOf(SecurityException.class);
    assertThatThrownBy(() -> tokenizer.detokenize(token, null))
        .isInstanceOf(SecurityException.class);
  }

  @Test
  void tokenize_bytesRoundTrip() {
    ByteString token = tokenizer.tokenize(ByteString.copyFromUtf8("photo"));

    assertThat(tokenizer.detokenize(token, Fixtures.principal("detokenize")).toStringUtf8())
        .isEqualTo("photo");
  }

  @Test
  void detokenize_customRole() {
    Tokenizer custom =
        Tokenizer.newBuilder(TokenKeyProvider.of("k1", Map.of("k1", Fixtures.key(1))))
            .detokenizeRole("reidentify")
            .build();

    String token = custom.tokenize("v");

    assertThat(custom.detokenize(token, Fixtures.principal("reidentify"))).isEqualTo("v");
    assertThatThrownBy(() -> custom.detokenize(token, Fixtures.principal("detokenize")))
        .isInstanceOf(SecurityException.class);
  }

  @Test
  void detokenize_afterRotation_oldTokensStillReversible() {
    Tokenizer before = Tokenizer.create(TokenKeyProvider.of("k0", Map.of("k0", Fixtures.key(0))));
    String old = before.tokenize("MRN-1");

    String fresh = tokenizer.tokenize("MRN-2");

    assertThat(fresh).startsWith("tk1.k1.");
    assertThat(tokenizer.detokenize(old, Fixtures.principal("detokenize"))).isEqualTo("MRN-1");
  }

  @Test
  void detokenize_unknownKey_refusedWithoutEcho() {
    Tokenizer other = Tokenizer.create(TokenKeyProvider.of("k9", Map.of("k9", Fixtures.key(9))));
    String token = other.tokenize("secret-value");

    assertThatThrownBy(() -> tokenizer.detokenize(token, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining(token);
  }

  @Test
  void detokenize_tamperedOrSwappedKeyId_refused() {
    String token = tokenizer.tokenize("MRN-42");
    char[] chars = token.toCharArray();
    int last = chars.length - 10;
    chars[last] = chars[last] == 'A' ? 'B' : 'A';
    String tampered = new String(chars);
    String swapped = token.replace("tk1.k1.", "tk1.k0.");

    assertThatThrownBy(() -> tokenizer.detokenize(tampered, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token is not valid");
    assertThatThrownBy(() -> tokenizer.detokenize(swapped, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class);
    for (String garbage : new String[] {"", "tk1.", "tk1.k1.", "tk1.k1.!!", "tk1.bad id.AAAA"}) {
      assertThatThrownBy(() -> tokenizer.detokenize(garbage, Fixtures.principal("detokenize")))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void keyMaterial_neverInOutput() {
    SecretKeySpec key = Fixtures.key(1);
    String keyB64 = Base64.getEncoder().encodeToString(key.getEncoded());
    String keyB64Url = Base64.getUrlEncoder().withoutPadding().encodeToString(key.getEncoded());
    TokenKeyProvider provider = TokenKeyProvider.of("k1", Map.of("k1", key));

    String out =
        tokenizer + " " + provider + " " + tokenizer.tokenize("v") + " " + tokenizer.keyedHash("v");

    assertThat(out).doesNotContain(keyB64).doesNotContain(keyB64Url.substring(0, 20));
  }

  @Test
  void build_badKeys_refused() {
    assertThatThrownBy(
            () -> TokenKeyProvider.of("k1", Map.of("k1", new SecretKeySpec(new byte[16], "AES"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenKeyProvider.of("k2", Map.of("k1", Fixtures.key(1))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenKeyProvider.of("bad id", Map.of("bad id", Fixtures.key(1))))
        .isInstanceOf(IllegalArgumentException.class);
    TokenKeyProvider empty =
        new TokenKeyProvider() {
          @Override
          public String currentKeyId() {
            return "k1";
          }

          @Override
          public javax.crypto.SecretKey key(String keyId) {
            return null;
          }
        };
    assertThatThrownBy(() -> Tokenizer.create(empty)).isInstanceOf(IllegalStateException.class);
  }
}
