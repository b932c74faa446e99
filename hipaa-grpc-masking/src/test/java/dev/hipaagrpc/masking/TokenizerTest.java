package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import com.google.protobuf.ByteString;
import java.util.EnumMap;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class TokenizerTest {

  // Made by the pre-Tink Tokenizer (hipaa-grpc 0.1.0-SNAPSHOT before issue 15) with
  // TokenKeyProvider.of("k2024", Map.of("k2024", Fixtures.key(1))): tokenize("MRN0012345") and
  // tokenize(ByteString "photo"). Fixed vectors: they must stay readable.
  private static final String LEGACY_TOKEN =
      "tk1.k2024.zw1D2cE9Fz2AOHYy8T_ECKRYDI3qydQbgWWl-q9n-ANpmO3yq1I";
  private static final String LEGACY_BYTES_TOKEN =
      "tk1.k2024.6mtwFz9i6YE--YtFbDpgfpqYJ91QTra8Y4ifXNKJpDPe";

  private final Tokenizer tokenizer = Fixtures.tokenizer();

  @Test
  void keyedHash_deterministicPerKeyAndDistinctPerValue() {
    assertThat(tokenizer.keyedHash("123-45-6789")).isEqualTo(tokenizer.keyedHash("123-45-6789"));
    assertThat(tokenizer.keyedHash("123-45-6789")).isNotEqualTo(tokenizer.keyedHash("123-45-6780"));
    // 5-byte Tink key id + 32-byte HMAC-SHA256 tag, base64url: 50 characters.
    assertThat(tokenizer.keyedHash("x")).startsWith("kh2.").hasSize("kh2.".length() + 50);
    Tokenizer otherKey = Tokenizer.create(TokenKeysets.generate());
    assertThat(otherKey.keyedHash("x")).isNotEqualTo(tokenizer.keyedHash("x"));
    assertThat(tokenizer.keyedHash(ByteString.copyFromUtf8("x")).size()).isEqualTo(37);
  }

  @Test
  void keyedHash_isTinkMacOverDomainAndValue() throws Exception {
    String token = tokenizer.keyedHash("123-45-6789");
    byte[] tag = java.util.Base64.getUrlDecoder().decode(token.substring("kh2.".length()));
    com.google.crypto.tink.Mac mac =
        Fixtures.KEYSETS
            .macKeyset()
            .getPrimitive(
                com.google.crypto.tink.ConfigurationV0.get(), com.google.crypto.tink.Mac.class);

    mac.verifyMac(
        tag, ("value\u0000" + "123-45-6789").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThatThrownBy(
            () ->
                mac.verifyMac(tag, "123-45-6789".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isInstanceOf(java.security.GeneralSecurityException.class);
  }

  @Test
  void tokenize_randomizedAndRoundTripsOnlyForDetokenizeRole() {
    String token = tokenizer.tokenize("MRN-42");

    assertThat(token).startsWith("tk2.").doesNotContain("MRN-42");
    assertThat(tokenizer.tokenize("MRN-42")).isNotEqualTo(token);
    assertThat(tokenizer.detokenize(token, Fixtures.principal("detokenize"))).isEqualTo("MRN-42");
    assertThatThrownBy(() -> tokenizer.detokenize(token, Fixtures.principal("clinician")))
        .isInstanceOf(SecurityException.class);
    assertThatThrownBy(() -> tokenizer.detokenize(token, null))
        .isInstanceOf(SecurityException.class);
  }

  @Test
  void deterministicToken_sameValueSameTokenUnderOneKeyset_reversible() {
    String a = tokenizer.deterministicToken("MRN0012345");

    assertThat(a).startsWith("td1.").doesNotContain("MRN0012345");
    assertThat(tokenizer.deterministicToken("MRN0012345")).isEqualTo(a);
    assertThat(tokenizer.deterministicToken("MRN0012346")).isNotEqualTo(a);
    assertThat(tokenizer.detokenize(a, Fixtures.principal("detokenize"))).isEqualTo("MRN0012345");
    assertThatThrownBy(() -> tokenizer.detokenize(a, Fixtures.principal("analyst")))
        .isInstanceOf(SecurityException.class);
    ByteString bytes = tokenizer.deterministicToken(ByteString.copyFromUtf8("MRN0012345"));
    assertThat(bytes)
        .isEqualTo(tokenizer.deterministicToken(ByteString.copyFromUtf8("MRN0012345")));
    assertThat(tokenizer.detokenize(bytes, Fixtures.principal("detokenize")).toStringUtf8())
        .isEqualTo("MRN0012345");
  }

  @Test
  void deterministicToken_otherTenantsKeyset_differentTokenAndNotReversible() {
    Tokenizer tenantA = Tokenizer.create(TokenKeysets.generate());
    Tokenizer tenantB = Tokenizer.create(TokenKeysets.generate());

    String a = tenantA.deterministicToken("MRN0012345");
    String b = tenantB.deterministicToken("MRN0012345");

    assertThat(a).isNotEqualTo(b);
    assertThatThrownBy(() -> tenantB.detokenize(a, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token is not valid");
  }

  @Test
  void tokenKinds_areBoundToTheirLabel_oneNeverOpensAsAnother() {
    String randomized = tokenizer.tokenize("v").substring("tk2.".length());
    String deterministic = tokenizer.deterministicToken("v").substring("td1.".length());

    assertThatThrownBy(
            () -> tokenizer.detokenize("td1." + randomized, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> tokenizer.detokenize("tk2." + deterministic, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tokenize_bytesRoundTrip() {
    ByteString token = tokenizer.tokenize(ByteString.copyFromUtf8("photo"));

    assertThat(tokenizer.detokenize(token, Fixtures.principal("detokenize")).toStringUtf8())
        .isEqualTo("photo");
  }

  @Test
  void detokenize_customRole() {
    Tokenizer custom = Tokenizer.newBuilder(Fixtures.KEYSETS).detokenizeRole("reidentify").build();

    String token = custom.tokenize("v");

    assertThat(custom.detokenize(token, Fixtures.principal("reidentify"))).isEqualTo("v");
    assertThatThrownBy(() -> custom.detokenize(token, Fixtures.principal("detokenize")))
        .isInstanceOf(SecurityException.class);
  }

  @Test
  void rotation_oldTokensStillReversible_primaryMakesNewOnes() {
    TokenKeysets before = TokenKeysets.generate();
    Tokenizer old = Tokenizer.create(before);
    String oldToken = old.tokenize("MRN-1");
    String oldDeterministic = old.deterministicToken("MRN-1");
    String oldHash = old.keyedHash("MRN-1");

    TokenKeysets after = before.withNewPrimary();
    Tokenizer rotated = Tokenizer.create(after);

    assertThat(after.aeadKeyset().size()).isEqualTo(2);
    assertThat(rotated.detokenize(oldToken, Fixtures.principal("detokenize"))).isEqualTo("MRN-1");
    assertThat(rotated.detokenize(oldDeterministic, Fixtures.principal("detokenize")))
        .isEqualTo("MRN-1");
    // The primary encrypts: new tokens are under the new key, which the old keysets lack.
    String newDeterministic = rotated.deterministicToken("MRN-1");
    assertThat(newDeterministic).isNotEqualTo(oldDeterministic);
    assertThat(rotated.keyedHash("MRN-1")).isNotEqualTo(oldHash);
    String newToken = rotated.tokenize("MRN-2");
    assertThatThrownBy(() -> old.detokenize(newToken, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> old.detokenize(newDeterministic, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void legacyTk1Token_fromTheOldCodePath_stillReadable() {
    Tokenizer withLegacy =
        Tokenizer.newBuilder(Fixtures.KEYSETS)
            .legacyKeys(TokenKeyProvider.of("k2024", Map.of("k2024", Fixtures.key(1))))
            .build();

    assertThat(withLegacy.detokenize(LEGACY_TOKEN, Fixtures.principal("detokenize")))
        .isEqualTo("MRN0012345");
    assertThat(
            withLegacy
                .detokenize(
                    ByteString.copyFromUtf8(LEGACY_BYTES_TOKEN), Fixtures.principal("detokenize"))
                .toStringUtf8())
        .isEqualTo("photo");
    assertThatThrownBy(() -> withLegacy.detokenize(LEGACY_TOKEN, Fixtures.principal("clinician")))
        .isInstanceOf(SecurityException.class);
    // Without the legacy keys, or with another key, it is refused without echoing the token.
    assertThatThrownBy(() -> tokenizer.detokenize(LEGACY_TOKEN, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token's key is not available");
    Tokenizer wrongKey =
        Tokenizer.newBuilder(Fixtures.KEYSETS)
            .legacyKeys(TokenKeyProvider.of("k2024", Map.of("k2024", Fixtures.key(2))))
            .build();
    assertThatThrownBy(() -> wrongKey.detokenize(LEGACY_TOKEN, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token is not valid");
  }

  @Test
  void detokenize_tamperedOrGarbage_refusedWithoutEcho() {
    String token = tokenizer.tokenize("MRN-42");
    char[] chars = token.toCharArray();
    int last = chars.length - 10;
    chars[last] = chars[last] == 'A' ? 'B' : 'A';
    String tampered = new String(chars);

    assertThatThrownBy(() -> tokenizer.detokenize(tampered, Fixtures.principal("detokenize")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token is not valid");
    for (String garbage :
        new String[] {
          "", "tk2.", "td1.!!", "tk1.", "tk1.k1.", "tk1.k1.!!", "tk1.bad id.AAAA", "x"
        }) {
      assertThatThrownBy(() -> tokenizer.detokenize(garbage, Fixtures.principal("detokenize")))
          .isInstanceOf(IllegalArgumentException.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("!!"));
    }
  }

  @Test
  void everyKeyOperation_reportedToTheListener() {
    Map<KeyOperationListener.Operation, Integer> ok =
        new EnumMap<>(KeyOperationListener.Operation.class);
    Map<KeyOperationListener.Operation, Integer> failed =
        new EnumMap<>(KeyOperationListener.Operation.class);
    Tokenizer counted =
        Tokenizer.newBuilder(Fixtures.KEYSETS)
            .keyOperationListener(
                (op, success) -> (success ? ok : failed).merge(op, 1, Integer::sum))
            .build();

    String t = counted.tokenize("a");
    counted.tokenize(ByteString.copyFromUtf8("b"));
    counted.deterministicToken("c");
    counted.keyedHash("d");
    counted.detokenize(t, Fixtures.principal("detokenize"));
    assertThatThrownBy(() -> counted.detokenize(t, Fixtures.principal("clinician")))
        .isInstanceOf(SecurityException.class);

    assertThat(ok)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                KeyOperationListener.Operation.TOKENIZE, 2,
                KeyOperationListener.Operation.DETERMINISTIC_TOKENIZE, 1,
                KeyOperationListener.Operation.KEYED_HASH, 1,
                KeyOperationListener.Operation.DETOKENIZE, 1));
    assertThat(failed)
        .containsExactlyEntriesOf(Map.of(KeyOperationListener.Operation.DETOKENIZE, 1));
  }

  @Test
  void keyMaterial_neverInOutput() throws Exception {
    String keysetJson =
        TinkJsonProtoKeysetFormat.serializeKeyset(
            Fixtures.KEYSETS.aeadKeyset(), InsecureSecretKeyAccess.get());
    String keyValue =
        keysetJson.replaceAll("(?s).*\"value\":\\s*\"([^\"]+)\".*", "$1"); // the serialized key

    String out = tokenizer + " " + Fixtures.KEYSETS + " " + tokenizer.tokenize("v");

    assertThat(keyValue).hasSizeGreaterThan(20);
    assertThat(out).doesNotContain(keyValue.substring(0, 20)).doesNotContain("\"value\"");
  }

  @Test
  void keysets_wrongKindOrSize_refused() throws Exception {
    KeysetHandle gcm128 = KeysetHandle.generateNew(PredefinedAeadParameters.AES128_GCM);
    KeysetHandle mac128 = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_128BITTAG);

    assertThatThrownBy(
            () ->
                TokenKeysets.of(
                    gcm128,
                    Fixtures.KEYSETS.deterministicAeadKeyset(),
                    Fixtures.KEYSETS.macKeyset()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AES-256-GCM");
    assertThatThrownBy(
            () ->
                TokenKeysets.of(
                    Fixtures.KEYSETS.aeadKeyset(),
                    Fixtures.KEYSETS.deterministicAeadKeyset(),
                    mac128))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HMAC-SHA256");
    assertThatThrownBy(
            () ->
                TokenKeysets.of(
                    Fixtures.KEYSETS.macKeyset(),
                    Fixtures.KEYSETS.deterministicAeadKeyset(),
                    Fixtures.KEYSETS.macKeyset()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void legacyKeys_badKeys_refused() {
    assertThatThrownBy(
            () -> TokenKeyProvider.of("k1", Map.of("k1", new SecretKeySpec(new byte[16], "AES"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenKeyProvider.of("k2", Map.of("k1", Fixtures.key(1))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenKeyProvider.of("bad id", Map.of("bad id", Fixtures.key(1))))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
