package dev.hipaagrpc.auth.authn;

import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.JwkSet;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.KeyOperation;
import io.jsonwebtoken.security.PublicJwk;
import java.security.Key;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One immutable generation of verification keys, with the times it is fresh and usable until. */
final class KeySourceSnapshot {
  private static final Logger logger = LoggerFactory.getLogger(KeySourceSnapshot.class);

  /** One key, its optional id and its optional pinned algorithm ({@code alg} of the JWK). */
  static final class Entry {
    final @Nullable String kid;
    final Key key;
    final @Nullable String alg;

    Entry(@Nullable String kid, Key key, @Nullable String alg) {
      this.kid = kid;
      this.key = key;
      this.alg = alg;
    }
  }

  final List<Entry> entries;
  private final Map<String, Entry> byKid;
  private final Set<Key> identities;

  /** When the keys were fetched ({@link Long#MIN_VALUE} for fixed keys). */
  final long fetchedAtMillis;

  final long freshUntilMillis;
  final long usableUntilMillis;

  KeySourceSnapshot(
      List<Entry> entries, long fetchedAtMillis, long freshUntilMillis, long usableUntilMillis) {
    this.fetchedAtMillis = fetchedAtMillis;
    this.entries = List.copyOf(entries);
    Map<String, Entry> map = new HashMap<>();
    Set<Key> ids = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Entry e : this.entries) {
      if (e.kid != null) {
        map.putIfAbsent(e.kid, e);
      }
      ids.add(e.key);
    }
    this.byKid = map;
    this.identities = ids;
    this.freshUntilMillis = freshUntilMillis;
    this.usableUntilMillis = usableUntilMillis;
  }

  @Nullable Entry byKid(String kid) {
    return byKid.get(kid);
  }

  boolean containsIdentity(Key key) {
    return identities.contains(key);
  }

  /**
   * Parses a JWK Set into verification keys: public keys with {@code use} absent or {@code sig} and
   * {@code key_ops} absent or containing {@code verify}. Private and symmetric keys are skipped (a
   * published JWK Set must never carry them). Keys whose encoding equals one in {@code previous}
   * keep the previous {@link Key} object, so verified-token cache entries stay valid across a
   * refresh that did not change them.
   *
   * @throws IllegalArgumentException when the text is not a JWK Set (message free of its content)
   */
  static List<Entry> parseJwkSet(String json, @Nullable KeySourceSnapshot previous) {
    JwkSet set;
    try {
      // The same strict JSON reader as for tokens: no duplicate members, comments or trailing text.
      set =
          Jwks.setParser()
              .json(JwtJson.STRICT_DESERIALIZER)
              .ignoreUnsupported(true)
              .build()
              .parse(json);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a valid JWK Set", null);
    }
    List<Entry> out = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (Jwk<?> jwk : set.getKeys()) {
      if (!(jwk instanceof PublicJwk)) {
        logger.warn("JWK Set holds a non-public key; ignored");
        continue;
      }
      Object use = jwk.get("use");
      if (use != null && !"sig".equals(use)) {
        continue;
      }
      Set<KeyOperation> ops = jwk.getOperations();
      if (ops != null
          && !ops.isEmpty()
          && ops.stream().noneMatch(o -> "verify".equals(o.getId()))) {
        continue;
      }
      String kid = jwk.getId();
      if (kid != null && !seen.add(kid)) {
        logger.warn("JWK Set repeats a key id; later keys with that id are ignored");
        continue;
      }
      PublicKey key = (PublicKey) jwk.toKey();
      Key reused = previous == null ? null : previous.sameKey(kid, key);
      out.add(new Entry(kid, reused != null ? reused : key, jwk.getAlgorithm()));
    }
    return out;
  }

  private @Nullable Key sameKey(@Nullable String kid, Key candidate) {
    for (Entry e : entries) {
      if (java.util.Objects.equals(e.kid, kid)
          && Arrays.equals(e.key.getEncoded(), candidate.getEncoded())) {
        return e.key;
      }
    }
    return null;
  }
}
