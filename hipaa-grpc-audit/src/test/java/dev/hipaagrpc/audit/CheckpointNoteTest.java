package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.audit.AuditVerifier.Problem;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sink's checkpoint notes, checked by a signed-note parser written here from
 * c2sp.org/signed-note and c2sp.org/tlog-checkpoint alone (BouncyCastle's Ed25519, not the JDK's),
 * and the tree root recomputed here from the log lines by the RFC 6962 definition.
 */
class CheckpointNoteTest {

  @TempDir Path dir;
  private final byte[] genesis = AuditKeys.newSecretKey();
  private final KeyPair signing = AuditKeys.newSigningKeyPair();
  private final List<String> notes = new ArrayList<>();

  // ------------------------------------------------------------ the independent parser

  /** A verified note: its text lines; throws if anything in it is off. */
  static List<String> verifyNote(String note, String vkey) {
    String[] v = vkey.split("\\+", 3);
    assertThat(v).hasSize(3);
    String name = v[0];
    byte[] typed = Base64.getDecoder().decode(v[2]);
    assertThat(typed[0]).as("Ed25519 type byte").isEqualTo((byte) 1);
    byte[] pub = Arrays.copyOfRange(typed, 1, typed.length);
    assertThat(pub).hasSize(32);
    byte[] id = sha256(concat(name.getBytes(UTF_8), new byte[] {0x0a, 0x01}, pub));
    assertThat(v[1]).isEqualTo(hex(Arrays.copyOf(id, 4)));

    assertThat(note).endsWith("\n");
    for (int i = 0; i < note.length(); i++) {
      char c = note.charAt(i);
      assertThat(c >= 0x20 || c == '\n').as("no control characters").isTrue();
    }
    int blank = note.lastIndexOf("\n\n");
    assertThat(blank).isPositive();
    String text = note.substring(0, blank + 1);
    String[] sigLines = note.substring(blank + 2, note.length() - 1).split("\n", -1);
    boolean verified = false;
    for (String line : sigLines) {
      assertThat(line).startsWith("\u2014 ");
      String[] parts = line.substring(2).split(" ", -1);
      assertThat(parts).hasSize(2);
      byte[] sig = Base64.getDecoder().decode(parts[1]);
      if (parts[0].equals(name) && Arrays.equals(Arrays.copyOf(sig, 4), Arrays.copyOf(id, 4))) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, new Ed25519PublicKeyParameters(pub, 0));
        byte[] msg = text.getBytes(UTF_8);
        s.update(msg, 0, msg.length);
        assertThat(s.verifySignature(Arrays.copyOfRange(sig, 4, sig.length)))
            .as("signature")
            .isTrue();
        verified = true;
      }
    }
    assertThat(verified).as("a signature by the known key").isTrue();
    return List.of(text.substring(0, text.length() - 1).split("\n", -1));
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int off = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  /** MTH(D[n]) straight from RFC 6962 section 2.1. */
  private static byte[] mth(List<byte[]> d) {
    if (d.isEmpty()) {
      return sha256(new byte[0]);
    }
    if (d.size() == 1) {
      return sha256(concat(new byte[] {0}, d.get(0)));
    }
    int k = 1;
    while (k * 2 < d.size()) {
      k *= 2;
    }
    return sha256(concat(new byte[] {1}, mth(d.subList(0, k)), mth(d.subList(k, d.size()))));
  }

  // ------------------------------------------------------------ tests

  @Test
  void parser_specExample_verifies() {
    // The example of c2sp.org/signed-note, "Verifier keys".
    String vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    String note =
        "This is an example message.\n\n\u2014 example.com/foo"
            + " Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    assertThat(verifyNote(note, vkey)).containsExactly("This is an example message.");
    // Our own vkey encoding and key id agree with the spec's example.
    byte[] raw = Arrays.copyOfRange(Base64.getDecoder().decode(vkey.split("\\+", 3)[2]), 1, 33);
    assertThat(SignedNotes.vkey("example.com/foo", SignedNotes.ed25519(raw))).isEqualTo(vkey);
    SignedNotes.Note parsed = SignedNotes.parse(note);
    assertThat(parsed).isNotNull();
    assertThat(SignedNotes.verify(parsed, "example.com/foo", SignedNotes.ed25519(raw))).isTrue();
  }

  private void writeLog(int n, String origin) throws IOException {
    ChainedFileSink.Builder b =
        ChainedFileSink.newBuilder(dir)
            .genesisKey(genesis)
            .signingKey(signing)
            .checkpointEvery(7, Duration.ofHours(1))
            .rotateAt(16 * 1024, Duration.ofDays(1))
            .onCheckpointNote(notes::add);
    if (origin != null) {
      b.origin(origin);
    }
    try (ChainedFileSink sink = b.build()) {
      for (int i = 0; i < n; i += 3) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 3); j++) {
          batch.add(ChainedFileSinkTest.event(j));
        }
        sink.write(batch);
      }
    }
  }

  private List<byte[]> allLines() throws IOException {
    List<byte[]> out = new ArrayList<>();
    for (Path f : LogFiles.list(dir)) {
      for (String l : Files.readAllLines(f, UTF_8)) {
        out.add(l.getBytes(UTF_8));
      }
    }
    return out;
  }

  @Test
  void checkpointNote_everyNote_independentParserAndRootFromTheLines() throws Exception {
    writeLog(300, "audit.clinic.example/records-1");
    String vkey = SignedNotes.vkey("audit.clinic.example/records-1", signing.getPublic());
    List<byte[]> lines = allLines();
    assertThat(notes).hasSizeGreaterThan(40);
    for (String note : notes) {
      List<String> text = verifyNote(note, vkey);
      assertThat(text).hasSize(3);
      assertThat(text.get(0)).isEqualTo("audit.clinic.example/records-1");
      assertThat(text.get(1)).matches("0|[1-9][0-9]*");
      int size = Integer.parseInt(text.get(1));
      // Each note covers the records up to and including its checkpoint record.
      assertThat(new String(lines.get(size - 1), UTF_8)).contains("\"checkpoint\":");
      assertThat(text.get(2))
          .isEqualTo(Base64.getEncoder().encodeToString(mth(lines.subList(0, size))));
    }
    String latest = Files.readString(dir.resolve("checkpoint"), UTF_8);
    assertThat(latest).isEqualTo(notes.get(notes.size() - 1));
    assertThat(verifyNote(latest, vkey).get(1)).isEqualTo(Integer.toString(lines.size()));
    // tlog-tiles: the first full level-0 tile holds the first 256 leaf hashes.
    byte[] tile = Files.readAllBytes(dir.resolve("tile/0/000"));
    assertThat(tile).hasSize(8192);
    assertThat(Arrays.copyOfRange(tile, 32 * 255, 32 * 256))
        .isEqualTo(sha256(concat(new byte[] {0}, lines.get(255))));

    AuditVerifier.Result r =
        AuditVerifier.newBuilder(signing.getPublic())
            .chainKey(genesis)
            .origin("audit.clinic.example/records-1")
            .checkpointNote(notes.get(3))
            .build()
            .verify(dir);
    assertThat(r.ok()).as("%s", r.failure()).isTrue();
    assertThat(r.notesVerified()).isEqualTo(2);
  }

  @Test
  void checkpointNote_defaultOriginAndReopen_treeContinues() throws Exception {
    writeLog(20, null);
    String first = notes.get(0);
    String origin = first.substring(0, first.indexOf('\n'));
    String genesisHash = hex(sha256(allLines().get(0)));
    assertThat(origin).isEqualTo("hipaagrpc.dev/audit/" + genesisHash.substring(0, 16));
    notes.clear();
    writeLog(10, null); // reopens: RESUMED, same origin, tree restored from the tiles
    String vkey = SignedNotes.vkey(origin, signing.getPublic());
    List<byte[]> lines = allLines();
    List<String> text = verifyNote(notes.get(notes.size() - 1), vkey);
    assertThat(text.get(0)).isEqualTo(origin);
    assertThat(text.get(1)).isEqualTo(Integer.toString(lines.size()));
    assertThat(text.get(2)).isEqualTo(Base64.getEncoder().encodeToString(mth(lines)));
  }

  @Test
  void checkpointNote_tailCutWithNoteKept_truncatedAndEditedRecordDetected() throws Exception {
    writeLog(40, null);
    String keptNote = notes.get(notes.size() - 1);
    Path last = LogFiles.list(dir).get(LogFiles.list(dir).size() - 1);
    List<String> l = new ArrayList<>(Files.readAllLines(last, UTF_8));
    Files.writeString(last, String.join("\n", l.subList(0, l.size() - 2)) + "\n", UTF_8);
    AuditVerifier.Result cut =
        AuditVerifier.newBuilder(signing.getPublic()).checkpointNote(keptNote).build().verify(dir);
    assertThat(cut.ok()).isFalse();
    assertThat(cut.failure().problem()).isEqualTo(Problem.TRUNCATED);

    // A note signed by someone else is refused, not ignored.
    KeyPair other = AuditKeys.newSigningKeyPair();
    String o = keptNote.substring(0, keptNote.indexOf('\n'));
    String forged =
        SignedNotes.sign(
            keptNote.substring(0, keptNote.indexOf("\n\n") + 1),
            o,
            other.getPrivate(),
            other.getPublic());
    Files.writeString(last, String.join("\n", l) + "\n", UTF_8);
    AuditVerifier.Result bad =
        AuditVerifier.newBuilder(signing.getPublic()).checkpointNote(forged).build().verify(dir);
    assertThat(bad.failure().problem()).isEqualTo(Problem.BAD_SIGNATURE);

    // A note whose root the records do not reproduce (the signing key re-signed other history).
    String wrongRoot =
        SignedNotes.sign(
            SignedNotes.checkpointText(o, 5, new byte[32]),
            o,
            signing.getPrivate(),
            signing.getPublic());
    AuditVerifier.Result edited =
        AuditVerifier.newBuilder(signing.getPublic()).checkpointNote(wrongRoot).build().verify(dir);
    assertThat(edited.failure().problem()).isEqualTo(Problem.EDITED);
    assertThat(edited.failure().seq()).isEqualTo(4);
  }
}
