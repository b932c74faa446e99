package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditRecord;
import dev.hipaagrpc.audit.proto.Checkpoint;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;

/**
 * The checks of one record on its own, in log order: schema and frame, HMAC under the evolving
 * chain key, checkpoint signature under the signing key valid at that point (following KEY_ROTATION
 * hand-overs and keys given from a sequence number on). Shared by {@link AuditVerifier} (a
 * directory) and {@link AuditChain} (shipped records). Not thread-safe.
 */
final class RecordChecks {

  /** Bounds the key derivation for the first record of a pruned log (an hour of hashing). */
  private static final long MAX_FIRST_EPOCH = 1L << 26;

  /** Epochs between the keys kept as starting points for deriving (one per 65 536 derived). */
  private static final long WAYPOINT_EVERY = 1L << 16;

  private final byte @Nullable [] chainKey;
  private final TreeMap<Long, PublicKey> keysFrom;
  private PublicKey currentKey;
  private String currentKeyId;
  private long keySwitchSeq;
  private final List<AuditVerifier.SigningKey> history = new ArrayList<>();
  private long keyEpoch = -1;
  private byte @Nullable [] key;
  private boolean afresh = true;
  // The key the last content() call derived (never the same array as key), made current by
  // commitKey().
  private byte @Nullable [] candidate;
  private long candidateEpoch = -1;
  // K_e at every multiple of WAYPOINT_EVERY derived so far (the receiver holds K0 anyway).
  private final TreeMap<Long, byte[]> waypoints = new TreeMap<>();

  RecordChecks(PublicKey first, byte @Nullable [] chainKey, Map<Long, PublicKey> keysFrom) {
    this.chainKey = chainKey;
    this.keysFrom = new TreeMap<>(keysFrom);
    this.currentKey = first;
    this.currentKeyId = Checkpoints.keyId(first);
    history.add(new AuditVerifier.SigningKey(first, 0));
  }

  /** The checkpoint signing key valid after the records checked so far. */
  PublicKey currentKey() {
    return currentKey;
  }

  /**
   * The signing keys that may have signed a checkpoint note of tree size {@code size}: the one
   * valid from the last hand-over at or before it, and a key given from about that seq on.
   */
  List<PublicKey> keysAround(long size) {
    List<PublicKey> keys = new ArrayList<>();
    PublicKey k = history.get(0).key();
    for (AuditVerifier.SigningKey s : history) {
      if (s.fromSeq() <= size) {
        k = s.key();
      }
    }
    keys.add(k);
    for (long at : new long[] {size, size - 1}) {
      Map.Entry<Long, PublicKey> given = keysFrom.floorEntry(at);
      if (given != null) {
        keys.add(given.getValue());
      }
    }
    return keys;
  }

  /** The key history so far (immutable copy). */
  List<AuditVerifier.SigningKey> history() {
    return List.copyOf(history);
  }

  /**
   * Derive the chain key afresh for the next record (its epoch need not follow the last one); the
   * keys derived before are kept as starting points.
   */
  void forgetKey() {
    afresh = true;
  }

  /** Undoes {@link #forgetKey} when the record checked afresh was refused. */
  void keepKey() {
    afresh = key == null;
    discardCandidate();
  }

  /**
   * Makes the chain key used by the last {@link #content} call the current one (call when that
   * record is accepted); until then a refused record leaves the key where it was.
   */
  void commitKey() {
    byte[] c = candidate;
    if (c != null) {
      byte[] old = key;
      if (old != null) {
        Arrays.fill(old, (byte) 0);
      }
      key = c;
      keyEpoch = candidateEpoch;
      afresh = false;
    }
    candidate = null;
  }

  private void discardCandidate() {
    byte[] c = candidate;
    if (c != null) {
      Arrays.fill(c, (byte) 0);
    }
    candidate = null;
  }

  /** Schema and HMAC; returns a description of what is wrong, or null. */
  @Nullable String content(byte[] line, @Nullable Frame f) {
    if (f == null) {
      return "not a well-formed record";
    }
    AuditRecord.Builder rec = AuditRecord.newBuilder();
    try {
      JsonFormat.parser().merge(new String(line, UTF_8), rec);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return "not a record of the audit schema";
    }
    if (rec.getSeq() != f.seq
        || rec.getEpoch() != f.epoch
        || !rec.getPrev().equals(f.prev)
        || !rec.getMac().equals(f.mac)
        || rec.getBodyCase() == AuditRecord.BodyCase.BODY_NOT_SET
        || (rec.getBodyCase() == AuditRecord.BodyCase.CHECKPOINT) != f.checkpoint
        || (f.checkpoint && !rec.getCheckpoint().getReason().name().equals(f.reason))) {
      return "the record's fields do not match its frame";
    }
    byte[] k0 = chainKey;
    if (k0 != null) {
      byte[] k = keyFor(k0, f.epoch);
      if (k == null) {
        return "key epoch out of order";
      }
      Mac mac = Crypto.hmac(k);
      mac.update(line, 0, f.bodyLength);
      if (!Crypto.hexEquals(Crypto.HEX.formatHex(mac.doFinal()), f.mac)) {
        return "the HMAC does not verify: the record was altered";
      }
    }
    return null;
  }

  /**
   * K_epoch, evolving forward from the last key used (or, afresh, from the nearest lower key
   * derived before); null if the epoch went backwards or jumped too far (a genuine log advances by
   * one epoch at a time). The key is a candidate until {@link #commitKey}.
   */
  private byte @Nullable [] keyFor(byte[] k0, long epoch) {
    discardCandidate();
    byte[] k = key;
    if (afresh || k == null) {
      if (epoch < 0 || epoch > MAX_FIRST_EPOCH) {
        return null;
      }
      return candidate(derive(k0, epoch), epoch);
    }
    // Forward jumps are allowed here (a deleted file skips epochs; the sequence check names
    // that), bounded so that a forged epoch cannot make us hash for hours.
    if (epoch < keyEpoch || epoch - keyEpoch > MAX_FIRST_EPOCH) {
      return null;
    }
    if (epoch == keyEpoch) {
      return candidate(k.clone(), epoch);
    }
    return candidate(epoch == keyEpoch + 1 ? Crypto.evolve(k) : derive(k0, epoch), epoch);
  }

  private byte[] candidate(byte[] k, long epoch) {
    candidate = k;
    candidateEpoch = epoch;
    return k;
  }

  /**
   * K_epoch from the nearest lower key known (the current one or a waypoint), leaving a waypoint
   * every {@link #WAYPOINT_EVERY} epochs: a forged high epoch costs its hashing once, later ones
   * near it at most that stride.
   */
  private byte[] derive(byte[] k0, long epoch) {
    Map.Entry<Long, byte[]> from = waypoints.floorEntry(epoch);
    long e = from == null ? 0 : from.getKey();
    byte[] k = from == null ? k0.clone() : from.getValue().clone();
    byte[] cur = key;
    if (cur != null && keyEpoch <= epoch && keyEpoch > e) {
      e = keyEpoch;
      k = cur.clone();
    }
    while (e < epoch) {
      byte[] next = Crypto.evolve(k);
      Arrays.fill(k, (byte) 0);
      k = next;
      e++;
      if (e % WAYPOINT_EVERY == 0) {
        waypoints.put(e, k.clone());
      }
    }
    return k;
  }

  /** The checkpoint's key id and signature; follows a KEY_ROTATION. Null when it verifies. */
  @Nullable String signatureProblem(byte[] line, Frame f) {
    AuditRecord.Builder rec = AuditRecord.newBuilder();
    try {
      JsonFormat.parser().merge(new String(line, UTF_8), rec);
    } catch (InvalidProtocolBufferException e) {
      return "checkpoint unreadable";
    }
    Checkpoint cp = rec.getCheckpoint();
    Map.Entry<Long, PublicKey> given = keysFrom.floorEntry(f.seq);
    if (given != null && given.getKey() > keySwitchSeq) {
      switchKey(given.getValue(), given.getKey());
    }
    if (!cp.getKeyId().equals(currentKeyId)) {
      return "the checkpoint was signed by another key (key id mismatch)";
    }
    byte[] canonical =
        Checkpoints.canonical(
            f.seq,
            f.epoch,
            f.prev,
            cp.getReason().name(),
            cp.getTime(),
            cp.getTruncatedBytes(),
            cp.getKeyId(),
            cp.getNextKey());
    if (!Checkpoints.verify(currentKey, canonical, cp.getSignature())) {
      return "the checkpoint's Ed25519 signature does not verify";
    }
    if (cp.getReason() == Checkpoint.Reason.KEY_ROTATION) {
      PublicKey next;
      try {
        next =
            KeyFactory.getInstance("Ed25519")
                .generatePublic(
                    new X509EncodedKeySpec(Base64.getDecoder().decode(cp.getNextKey())));
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        return "the key rotation names no valid Ed25519 key";
      }
      // The hand-over, signed by the outgoing key: the next key signs from the next record.
      switchKey(next, f.seq + 1);
    } else if (!cp.getNextKey().isEmpty()) {
      return "only a KEY_ROTATION checkpoint names a next key";
    }
    return null;
  }

  private void switchKey(PublicKey k, long fromSeq) {
    currentKey = k;
    currentKeyId = Checkpoints.keyId(k);
    keySwitchSeq = fromSeq;
    history.add(new AuditVerifier.SigningKey(k, fromSeq));
  }
}
