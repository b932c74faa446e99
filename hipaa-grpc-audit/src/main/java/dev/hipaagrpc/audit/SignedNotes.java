package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and the checkpoint body of
 * c2sp.org/tlog-checkpoint (origin, tree size, base64 root). Key id = the first four bytes of
 * SHA-256(key name || 0x0A || 0x01 || 32-byte public key). Stateless.
 */
final class SignedNotes {

  static final byte ED25519 = 0x01;
  static final byte COSIGNATURE = 0x04;
  private static final String DASH = "\u2014 ";
  private static final Pattern SIZE = Pattern.compile("0|[1-9][0-9]{0,18}");
  // The X.509 SubjectPublicKeyInfo prefix of every Ed25519 public key (RFC 8410).
  private static final byte[] SPKI_PREFIX = Crypto.HEX.parseHex("302a300506032b6570032100");

  /** A checkpoint's body. */
  static final class Checkpoint {
    private final String origin;
    private final long size;
    private final byte[] root;

    Checkpoint(String origin, long size, byte[] root) {
      this.origin = origin;
      this.size = size;
      this.root = root.clone();
    }

    String origin() {
      return origin;
    }

    long size() {
      return size;
    }

    byte[] root() {
      return root.clone();
    }
  }

  /** One signature line. */
  static final class Sig {
    private final String name;
    private final byte[] keyId;
    private final byte[] signature;

    Sig(String name, byte[] keyId, byte[] signature) {
      this.name = name;
      this.keyId = keyId.clone();
      this.signature = signature.clone();
    }

    String name() {
      return name;
    }

    byte[] keyId() {
      return keyId.clone();
    }

    byte[] signature() {
      return signature.clone();
    }
  }

  /** A parsed note: the signed text (with its final newline) and the signature lines. */
  record Note(String text, List<Sig> signatures) {}

  private SignedNotes() {}

  /** The 32-byte RFC 8032 encoding of an Ed25519 public key. */
  static byte[] raw(PublicKey key) {
    byte[] enc = key.getEncoded();
    if (enc.length != 44 || !Arrays.equals(enc, 0, 12, SPKI_PREFIX, 0, 12)) {
      throw new IllegalArgumentException("not an Ed25519 public key");
    }
    return Arrays.copyOfRange(enc, 12, 44);
  }

  /** The Ed25519 public key of a 32-byte RFC 8032 encoding. */
  static PublicKey ed25519(byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes");
    }
    byte[] spki = Arrays.copyOf(SPKI_PREFIX, 44);
    System.arraycopy(raw, 0, spki, 12, 32);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  static byte[] keyId(String name, byte type, byte[] rawKey) {
    MessageDigest md = Crypto.sha256();
    md.update(name.getBytes(UTF_8));
    md.update((byte) '\n');
    md.update(type);
    md.update(rawKey);
    return Arrays.copyOf(md.digest(), 4);
  }

  /** The verifier key string {@code <name>+<hex key id>+<base64(0x01 || key)>}. */
  static String vkey(String name, PublicKey key) {
    byte[] raw = raw(key);
    byte[] typed = new byte[33];
    typed[0] = ED25519;
    System.arraycopy(raw, 0, typed, 1, 32);
    return name
        + "+"
        + Crypto.HEX.formatHex(keyId(name, ED25519, raw))
        + "+"
        + Base64.getEncoder().encodeToString(typed);
  }

  /** Whether {@code name} is a valid key name: non-empty, no spaces, no plus. */
  static boolean validName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '+' || c < 0x21 || Character.isSpaceChar(c) || Character.isWhitespace(c)) {
        return false;
      }
    }
    return true;
  }

  static String checkpointText(String origin, long size, byte[] root) {
    return origin + "\n" + size + "\n" + Base64.getEncoder().encodeToString(root) + "\n";
  }

  /** Signs {@code text} (ending in a newline) as a note by key {@code name}. */
  static String sign(String text, String name, PrivateKey key, PublicKey publicKey) {
    byte[] sig;
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(text.getBytes(UTF_8));
      sig = s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign the checkpoint note with Ed25519", e);
    }
    return text + "\n" + signatureLine(name, keyId(name, ED25519, raw(publicKey)), sig);
  }

  static String signatureLine(String name, byte[] keyId, byte[] signature) {
    byte[] b = new byte[4 + signature.length];
    System.arraycopy(keyId, 0, b, 0, 4);
    System.arraycopy(signature, 0, b, 4, signature.length);
    return DASH + name + " " + Base64.getEncoder().encodeToString(b) + "\n";
  }

  /** Parses a note; null if it is not one. */
  static @Nullable Note parse(String note) {
    if (!note.endsWith("\n") || note.length() > 1 << 20) {
      return null;
    }
    for (int i = 0; i < note.length(); i++) {
      if (note.charAt(i) < 0x20 && note.charAt(i) != '\n') {
        return null;
      }
    }
    int sep = note.lastIndexOf("\n\n");
    if (sep < 0) {
      return null;
    }
    String text = note.substring(0, sep + 1);
    String[] lines = note.substring(sep + 2).split("\n", -1);
    List<Sig> sigs = new ArrayList<>();
    for (int i = 0; i < lines.length - 1; i++) {
      String l = lines[i];
      if (!l.startsWith(DASH)) {
        return null;
      }
      int sp = l.indexOf(' ', DASH.length());
      if (sp < 0) {
        return null;
      }
      String name = l.substring(DASH.length(), sp);
      byte[] b;
      try {
        b = Base64.getDecoder().decode(l.substring(sp + 1));
      } catch (IllegalArgumentException e) {
        return null;
      }
      if (!validName(name) || b.length < 5) {
        return null;
      }
      sigs.add(new Sig(name, Arrays.copyOf(b, 4), Arrays.copyOfRange(b, 4, b.length)));
    }
    if (sigs.isEmpty() || sigs.size() > 100 || !lines[lines.length - 1].isEmpty()) {
      return null;
    }
    return new Note(text, List.copyOf(sigs));
  }

  /**
   * Whether the note carries a valid Ed25519 signature by {@code name} with {@code key}. A
   * signature line with that name and key id that does not verify makes the answer false.
   */
  static boolean verify(Note note, String name, PublicKey key) {
    byte[] id = keyId(name, ED25519, raw(key));
    boolean ok = false;
    for (Sig s : note.signatures()) {
      if (s.name().equals(name) && Arrays.equals(s.keyId(), id)) {
        if (!Checkpoints.verify(key, note.text().getBytes(UTF_8), s.signature())) {
          return false;
        }
        ok = true;
      }
    }
    return ok;
  }

  /**
   * A c2sp.org/tlog-cosignature v1 Ed25519 cosignature line by witness {@code name} over the
   * checkpoint {@code text}, at {@code timestamp} (POSIX seconds): key id type 0x04, signature =
   * big-endian u64 timestamp || Ed25519("cosignature/v1\ntime T\n" || text).
   */
  static String cosign(String text, String name, PrivateKey key, PublicKey publicKey, long time) {
    byte[] sig;
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(cosignedMessage(text, time));
      sig = s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot cosign with Ed25519", e);
    }
    byte[] b = new byte[8 + sig.length];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (time >>> (56 - 8 * i));
    }
    System.arraycopy(sig, 0, b, 8, sig.length);
    return signatureLine(name, keyId(name, COSIGNATURE, raw(publicKey)), b);
  }

  /**
   * The timestamp of a valid cosignature by witness {@code name} with {@code key} on the note, or
   * -1 if there is none (or one with that name and key id fails to verify).
   */
  static long cosignatureTime(Note note, String name, PublicKey key) {
    byte[] id = keyId(name, COSIGNATURE, raw(key));
    long time = -1;
    for (Sig s : note.signatures()) {
      if (!s.name().equals(name) || !Arrays.equals(s.keyId(), id)) {
        continue;
      }
      byte[] b = s.signature();
      if (b.length != 72) {
        return -1;
      }
      long t = 0;
      for (int i = 0; i < 8; i++) {
        t = (t << 8) | (b[i] & 0xff);
      }
      if (t <= 0
          || !Checkpoints.verify(
              key, cosignedMessage(note.text(), t), Arrays.copyOfRange(b, 8, 72))) {
        return -1;
      }
      time = t;
    }
    return time;
  }

  private static byte[] cosignedMessage(String text, long time) {
    return ("cosignature/v1\ntime " + time + "\n" + text).getBytes(UTF_8);
  }

  /** Parses a checkpoint body; null if the text is not one. */
  static @Nullable Checkpoint checkpoint(String text) {
    String[] l = text.split("\n", -1);
    if (l.length < 4
        || !l[l.length - 1].isEmpty()
        || l[0].isEmpty()
        || !SIZE.matcher(l[1]).matches()) {
      return null;
    }
    for (int i = 3; i < l.length - 1; i++) {
      if (l[i].isEmpty()) {
        return null;
      }
    }
    try {
      byte[] root = Base64.getDecoder().decode(l[2]);
      if (root.length != 32 || !Base64.getEncoder().encodeToString(root).equals(l[2])) {
        return null;
      }
      return new Checkpoint(l[0], Long.parseLong(l[1]), root);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
