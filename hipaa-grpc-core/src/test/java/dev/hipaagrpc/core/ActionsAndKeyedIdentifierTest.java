package dev.hipaagrpc.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.MethodOptions;
import dev.hipaagrpc.core.proto.Action;
import dev.hipaagrpc.core.proto.ActionProto;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class ActionsAndKeyedIdentifierTest {

  @Test
  void namingRule_firstWordPicksTheAction() {
    assertThat(Actions.namingRule("GetPatient")).isEqualTo(Action.READ);
    assertThat(Actions.namingRule("ListPatients")).isEqualTo(Action.SEARCH);
    assertThat(Actions.namingRule("CreateOrder")).isEqualTo(Action.CREATE);
    assertThat(Actions.namingRule("UpdateContact")).isEqualTo(Action.UPDATE);
    assertThat(Actions.namingRule("DeleteNote")).isEqualTo(Action.DELETE);
    assertThat(Actions.namingRule("Getaway")).isEqualTo(Action.EXECUTE);
    assertThat(Actions.namingRule("Reindex")).isEqualTo(Action.EXECUTE);
    assertThat(Actions.namingRule("")).isEqualTo(Action.EXECUTE);
  }

  @Test
  void declared_readsTheOptionAlsoWhenItArrivedAsAnUnknownField() throws Exception {
    MethodOptions withExtension =
        MethodOptions.newBuilder().setExtension(ActionProto.action, Action.UPDATE).build();
    assertThat(Actions.declared(withExtension)).isEqualTo(Action.UPDATE);

    MethodOptions unknown = MethodOptions.parseFrom(withExtension.toByteArray());
    assertThat(unknown.hasExtension(ActionProto.action)).isFalse();
    assertThat(Actions.declared(unknown)).isEqualTo(Action.UPDATE);
    assertThat(Actions.declared(MethodOptions.getDefaultInstance()))
        .isEqualTo(Action.ACTION_UNSPECIFIED);
  }

  @Test
  void code_isTheLowerCaseName() {
    assertThat(Actions.code(Action.SEARCH)).isEqualTo("search");
    assertThat(Actions.code(Action.ACTION_UNSPECIFIED)).isEqualTo("execute");
  }

  @Test
  void keyedIdentifier_matchesTheDocumentedConstruction() throws Exception {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) 7);
    KeyedIdentifier ids = KeyedIdentifier.create("k1", key);

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    byte[] subkey = mac.doFinal("hipaa-grpc/keyed-hash/v1".getBytes(StandardCharsets.US_ASCII));
    mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
    mac.update("patient".getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) 0);
    String expected =
        "kh1.k1."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(mac.doFinal("MRN-1".getBytes(StandardCharsets.UTF_8)));

    assertThat(ids.of("patient", "MRN-1")).isEqualTo(expected);
    assertThat(KeyedIdentifier.isKeyedIdentifier(expected)).isTrue();
  }

  @Test
  void keyedIdentifier_domainsAndKeysSeparate() {
    byte[] a = new byte[32];
    byte[] b = new byte[32];
    b[0] = 1;
    KeyedIdentifier ka = KeyedIdentifier.create(a);
    KeyedIdentifier kb = KeyedIdentifier.create(b);

    assertThat(ka.of("patient", "x")).isNotEqualTo(ka.of("subject", "x"));
    assertThat(ka.of("patient", "x")).isNotEqualTo(kb.of("patient", "x"));
    assertThat(ka.of("patient", "x")).isEqualTo(KeyedIdentifier.create(a).of("patient", "x"));
    assertThat(ka.keyId()).hasSize(8).isNotEqualTo(kb.keyId());
    assertThat(ka.toString()).doesNotContain(Base64.getEncoder().encodeToString(a));
  }

  @Test
  void keyedIdentifier_refusesShortKeysAndBadDomains() {
    assertThatThrownBy(() -> KeyedIdentifier.create(new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyedIdentifier.create(new byte[32]).of("Patient Id", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyedIdentifier.create("bad id", new byte[32]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
