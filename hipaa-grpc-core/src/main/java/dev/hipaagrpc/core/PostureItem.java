package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One fact of a {@link PostureReport}: a key ({@code tls.protocols}), a value, the {@link
 * Safeguard} it evidences and whether it is {@linkplain Status#OK as it should be}, {@linkplain
 * Status#WARN worth a look} or {@linkplain Status#UNSAFE unsafe} (an explicit {@code
 * allowUnsafe...} opt-out, or a safeguard that is not in force).
 *
 * <p>Values are JSON-shaped: a {@code String}, {@code Boolean}, integral number ({@code Integer},
 * {@code Long}), finite {@code Double}, an {@link Instant} (written as ISO-8601 UTC), an enum
 * constant (written as its name), a {@code Collection} of values (kept in order) or a {@code Map}
 * from {@code String} to values (written with its keys sorted, so that the report is the same for
 * the same configuration). Collections are copied. Values are configuration facts, never secrets.
 *
 * <p>Immutable and thread-safe.
 */
public final class PostureItem {

  /** How an item stands. */
  public enum Status {
    /** As it should be. */
    OK,
    /** Works, but deserves a look (a certificate expiring soon, a failed key refresh). */
    WARN,
    /** An explicit unsafe opt-out, or a safeguard that is not in force. */
    UNSAFE
  }

  private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*");

  private final String key;
  private final Safeguard safeguard;
  private final Status status;
  private final Object value;
  private final @Nullable String note;

  private PostureItem(
      String key, Safeguard safeguard, Status status, Object value, @Nullable String note) {
    requireNonNull(key, "key");
    if (!KEY.matcher(key).matches()) {
      throw new IllegalArgumentException(
          "posture key must be dot-separated lower case words (a.b_c), got: " + key);
    }
    this.key = key;
    this.safeguard = requireNonNull(safeguard, "safeguard");
    this.status = requireNonNull(status, "status");
    this.value = normalize(requireNonNull(value, "value"));
    this.note = note;
  }

  /** An item that is as it should be. */
  public static PostureItem ok(String key, Safeguard safeguard, Object value) {
    return new PostureItem(key, safeguard, Status.OK, value, null);
  }

  /** An item worth a look; {@code note} says why (a fixed text, never a secret). */
  public static PostureItem warn(String key, Safeguard safeguard, Object value, String note) {
    return new PostureItem(key, safeguard, Status.WARN, value, requireNonNull(note, "note"));
  }

  /** An unsafe item; {@code note} says what was opted out of or is missing, and what it costs. */
  public static PostureItem unsafe(String key, Safeguard safeguard, Object value, String note) {
    return new PostureItem(key, safeguard, Status.UNSAFE, value, requireNonNull(note, "note"));
  }

  /** An item with the given status; {@code note} is required unless the status is OK. */
  public static PostureItem of(
      String key, Safeguard safeguard, Status status, Object value, @Nullable String note) {
    if (status != Status.OK && note == null) {
      throw new IllegalArgumentException("a " + status + " posture item needs a note: " + key);
    }
    return new PostureItem(key, safeguard, status, value, note);
  }

  /** The key: dot-separated lower-case words, the first naming the module ({@code tls}). */
  public String key() {
    return key;
  }

  /** The standard this item evidences. */
  public Safeguard safeguard() {
    return safeguard;
  }

  /** How the item stands. */
  public Status status() {
    return status;
  }

  /**
   * The value: a {@code String}, {@code Boolean}, {@code Long}, {@code Double}, an unmodifiable
   * {@code List} or an unmodifiable, key-sorted {@code Map<String, Object>} of such values.
   */
  public Object value() {
    return value;
  }

  /** Why the item is not OK; {@code null} for most OK items. */
  public @Nullable String note() {
    return note;
  }

  private static Object normalize(Object v) {
    if (v instanceof String || v instanceof Boolean || v instanceof Long) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("posture values must be finite numbers");
      }
      return d;
    }
    if (v instanceof Instant i) {
      return i.toString();
    }
    if (v instanceof Enum<?> e) {
      return e.name();
    }
    if (v instanceof Collection<?> c) {
      ArrayList<Object> list = new ArrayList<>(c.size());
      for (Object o : c) {
        list.add(normalize(requireNonNull(o, "a posture list element")));
      }
      return Collections.unmodifiableList(list);
    }
    if (v instanceof Map<?, ?> m) {
      TreeMap<String, Object> map = new TreeMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String k)) {
          throw new IllegalArgumentException("posture map keys must be strings");
        }
        map.put(k, normalize(requireNonNull(e.getValue(), "a posture map value")));
      }
      return Collections.unmodifiableMap(map);
    }
    throw new IllegalArgumentException(
        "posture values are strings, booleans, numbers, instants, enums, lists and maps, not "
            + v.getClass().getName());
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof PostureItem p
        && key.equals(p.key)
        && safeguard == p.safeguard
        && status == p.status
        && value.equals(p.value)
        && Objects.equals(note, p.note);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, safeguard, status, value, note);
  }

  @Override
  public String toString() {
    return key + "=" + value + " [" + status + ", " + safeguard.citation() + "]";
  }
}
