package dev.hipaagrpc.audit;

import static java.util.Objects.requireNonNull;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A k-of-n witness policy: the checkpoint notes the verifier relies on must carry valid
 * c2sp.org/tlog-cosignature (Ed25519, v1) cosignatures from at least {@code k} of the {@code n}
 * named witnesses. Text form, one directive a line ({@code #} comments):
 *
 * <pre>
 * quorum 2
 * witness witness-a.clinic.example+4f1c09aa+BF3c…   https://witness-a.clinic.example/
 * witness witness-b.example+…                        http://127.0.0.1:8443/
 * </pre>
 *
 * Each witness is its verifier key ({@code name+hex key id+base64(0x04 || public key)}) and,
 * optionally, the URL prefix of its {@code add-checkpoint} endpoint. Immutable and thread-safe.
 */
public final class WitnessPolicy {

  /**
   * One witness. Immutable.
   *
   * @param name its key name
   * @param key its Ed25519 cosigning public key
   * @param url its URL prefix, or empty when it is not contacted
   */
  public record Witness(String name, PublicKey key, String url) {}

  private final int quorum;
  private final List<Witness> witnesses;

  private WitnessPolicy(int quorum, List<Witness> witnesses) {
    this.quorum = quorum;
    this.witnesses = List.copyOf(witnesses);
  }

  /**
   * A policy requiring {@code quorum} of {@code witnesses}.
   *
   * @throws IllegalArgumentException if the quorum is not between 1 and the number of witnesses, or
   *     two witnesses share a name
   */
  public static WitnessPolicy of(int quorum, List<Witness> witnesses) {
    requireNonNull(witnesses, "witnesses");
    Set<String> names = new HashSet<>();
    for (Witness w : witnesses) {
      if (!SignedNotes.validName(w.name()) || !names.add(w.name())) {
        throw new IllegalArgumentException("witness names must be valid and distinct");
      }
    }
    if (quorum < 1 || quorum > witnesses.size()) {
      throw new IllegalArgumentException(
          "the quorum must be between 1 and the number of witnesses");
    }
    return new WitnessPolicy(quorum, witnesses);
  }

  /**
   * Parses the text form (see the class documentation).
   *
   * @throws IllegalArgumentException naming the line that is wrong
   */
  public static WitnessPolicy parse(String text) {
    int quorum = -1;
    List<Witness> ws = new ArrayList<>();
    String[] lines = requireNonNull(text, "text").split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i].strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] p = l.split("\\s+", -1);
      if (p[0].equals("quorum") && p.length == 2 && p[1].matches("[1-9][0-9]{0,2}")) {
        quorum = Integer.parseInt(p[1]);
      } else if (p[0].equals("witness") && (p.length == 2 || p.length == 3)) {
        ws.add(witness(p[1], p.length == 3 ? p[2] : "", i + 1));
      } else {
        throw new IllegalArgumentException("witness policy line " + (i + 1) + " is malformed");
      }
    }
    if (quorum < 0) {
      throw new IllegalArgumentException("the witness policy has no quorum line");
    }
    return of(quorum, ws);
  }

  private static Witness witness(String vkey, String url, int line) {
    String[] v = vkey.split("\\+", 3);
    try {
      byte[] typed = Base64.getDecoder().decode(v[2]);
      if (v.length != 3 || typed.length != 33 || typed[0] != SignedNotes.COSIGNATURE) {
        throw new IllegalArgumentException("not an Ed25519 cosignature vkey");
      }
      byte[] raw = Arrays.copyOfRange(typed, 1, 33);
      if (!Crypto.HEX
          .formatHex(SignedNotes.keyId(v[0], SignedNotes.COSIGNATURE, raw))
          .equals(v[1])) {
        throw new IllegalArgumentException("key id mismatch");
      }
      return new Witness(v[0], SignedNotes.ed25519(raw), url);
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException(
          "witness policy line " + line + ": not a witness verifier key", e);
    }
  }

  /** The verifier key string of a witness's cosigning key ({@code name+id+base64(0x04||key)}). */
  public static String vkey(String name, PublicKey key) {
    byte[] raw = SignedNotes.raw(requireNonNull(key, "key"));
    byte[] typed = new byte[33];
    typed[0] = SignedNotes.COSIGNATURE;
    System.arraycopy(raw, 0, typed, 1, 32);
    return name
        + "+"
        + Crypto.HEX.formatHex(SignedNotes.keyId(name, SignedNotes.COSIGNATURE, raw))
        + "+"
        + Base64.getEncoder().encodeToString(typed);
  }

  /** How many cosignatures are required. */
  public int quorum() {
    return quorum;
  }

  /** The witnesses, in the order given. */
  public List<Witness> witnesses() {
    return witnesses;
  }

  /**
   * How many of the policy's witnesses validly cosigned the checkpoint whose body is {@code text},
   * counting the signature lines of every note in {@code notes} with that body.
   */
  int cosigners(String text, List<SignedNotes.Note> notes) {
    List<SignedNotes.Sig> sigs = new ArrayList<>();
    for (SignedNotes.Note n : notes) {
      if (n.text().equals(text)) {
        sigs.addAll(n.signatures());
      }
    }
    SignedNotes.Note merged = new SignedNotes.Note(text, sigs);
    int count = 0;
    for (Witness w : witnesses) {
      if (SignedNotes.cosignatureTime(merged, w.name(), w.key()) > 0) {
        count++;
      }
    }
    return count;
  }

  @Override
  public String toString() {
    return quorum + " of " + witnesses.size() + " witnesses";
  }
}
