package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.jupiter.api.Test;

/**
 * The test vectors of {@code audit-format.md}, computed by the production code from fixed inputs:
 * the page must contain exactly this block, so the specification cannot drift from the code.
 */
class AuditFormatVectorsTest {

  private static final HexFormat HEX = HexFormat.of();

  static String vectors() throws Exception {
    byte[] k0 = new byte[32];
    for (int i = 0; i < 32; i++) {
      k0[i] = (byte) i;
    }
    byte[] seed = new byte[32];
    for (int i = 0; i < 32; i++) {
      seed[i] = (byte) (0x20 + i);
    }
    PrivateKey priv =
        KeyFactory.getInstance("Ed25519")
            .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    byte[] rawPub = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
    PublicKey pub = SignedNotes.ed25519(rawPub);
    KeyPair pair = new KeyPair(pub, priv);

    byte[] k1 = Crypto.evolve(k0);
    String prefix = "{\"seq\":0,\"epoch\":0,\"prev\":\"" + Crypto.ZERO_HASH + "\",\"checkpoint\":";
    String keyId = Checkpoints.keyId(pub);
    String time = "2026-01-01T00:00:00.000Z";
    byte[] canonical = Checkpoints.canonical(0, 0, Crypto.ZERO_HASH, "GENESIS", time, 0, keyId, "");
    String sig = Checkpoints.sign(priv, canonical);
    String body =
        prefix
            + "{\"reason\":\"GENESIS\",\"time\":\""
            + time
            + "\",\"truncatedBytes\":0,\"keyId\":\""
            + keyId
            + "\",\"signature\":\""
            + sig
            + "\"}";
    Mac mac = Crypto.hmac(k0);
    String tag = HEX.formatHex(mac.doFinal(body.getBytes(UTF_8)));
    String line = body + ",\"mac\":\"" + tag + "\"}";
    byte[] lb = line.getBytes(UTF_8);
    assertThat(Frame.parse(lb)).isNotNull();
    byte[] leaf = Merkle.leafHash(lb, 0, lb.length);
    String origin = "audit.example/vectors";
    String note =
        SignedNotes.sign(
            SignedNotes.checkpointText(origin, 1, leaf), origin, pair.getPrivate(), pub);
    List<byte[]> two = List.of(leaf, Merkle.leafHash(new byte[0], 0, 0));
    String cosig =
        SignedNotes.cosign(
            SignedNotes.checkpointText(origin, 1, leaf),
            "witness.example/w1",
            priv,
            pub,
            1767225600);
    return String.join(
        "\n",
        "genesis chain key K0 (hex)     " + HEX.formatHex(k0),
        "K1 = SHA-256(label || K0)      " + HEX.formatHex(k1),
        "K2                             " + HEX.formatHex(Crypto.evolve(k1)),
        "Ed25519 seed (hex)             " + HEX.formatHex(seed),
        "Ed25519 public key (hex)       " + HEX.formatHex(rawPub),
        "public key X.509 DER (base64)  " + Base64.getEncoder().encodeToString(pub.getEncoded()),
        "checkpoint keyId               " + keyId,
        "signed checkpoint string       " + new String(canonical, UTF_8).replace("\n", "\\n"),
        "checkpoint signature (base64)  " + sig,
        "HMAC-SHA256(K0, body)          " + tag,
        "genesis record line            " + line,
        "SHA-256(line) (next prev)      " + Crypto.sha256Hex(lb, 0, lb.length),
        "leaf hash SHA-256(0x00||line)  " + HEX.formatHex(leaf),
        "MTH of [line, empty leaf]      " + HEX.formatHex(Merkle.mth(two, 0, 2)),
        "note key id (hex)              "
            + HEX.formatHex(SignedNotes.keyId(origin, SignedNotes.ED25519, rawPub)),
        "log vkey                       " + SignedNotes.vkey(origin, pub),
        "checkpoint note                " + note.replace("\n", "\\n"),
        "cosignature by witness.example/w1 (same key, time 1767225600)",
        "                               " + cosig.replace("\n", "\\n"));
  }

  @Test
  void auditFormatPage_containsTheVectorsTheCodeComputes() throws Exception {
    String v = vectors();
    Path page = Path.of("..", "src", "site", "markdown", "audit-format.md");
    String text = Files.readString(page, UTF_8);
    assertThat(text).as("audit-format.md must hold:\n%s", v).contains("```\n" + v + "\n```");
  }
}
