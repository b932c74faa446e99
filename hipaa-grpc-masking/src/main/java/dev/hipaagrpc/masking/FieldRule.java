package dev.hipaagrpc.masking;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** How one sensitive field is masked: compiled once from its options, immutable. */
final class FieldRule {

  enum Kind {
    CLEAR,
    MARKER,
    KEEP_LAST,
    KEYED_HASH,
    TOKEN,
    DETERMINISTIC_TOKEN,
    DATE_TO_YEAR,
    ZIP3,
    AGE,
    TIMESTAMP_TO_YEAR,
    DATE_MESSAGE_TO_YEAR
  }

  static final String DEFAULT_MARKER = "[REDACTED]";
  private static final String KEEP_LAST_PREFIX = "****";
  private static final long SECONDS_PER_DAY = 86_400L;

  // HHS de-identification guidance: three-digit ZIP areas of 20,000 people or fewer (2000 census)
  // must be reported as 000.
  private static final Set<String> RESTRICTED_ZIP3 =
      Set.of(
          "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
          "879", "884", "890", "893");

  final Kind kind;
  final String marker;
  final int keepLast;
  final Set<String> revealTo;
  // reveal_to_self: shown to the patient the record belongs to.
  final boolean revealToSelf;
  // debug_redact alone: masked when printing, never in responses.
  final boolean printOnly;
  private final @Nullable Tokenizer tokenizer;

  FieldRule(
      Kind kind,
      String marker,
      int keepLast,
      Set<String> revealTo,
      boolean revealToSelf,
      boolean printOnly,
      @Nullable Tokenizer tokenizer) {
    this.kind = kind;
    this.marker = marker;
    this.keepLast = keepLast;
    this.revealTo = Set.copyOf(revealTo);
    this.revealToSelf = revealToSelf;
    this.printOnly = printOnly;
    this.tokenizer = tokenizer;
  }

  /** Whether a caller with these roles sees the value; {@code self}: the record is the caller's. */
  boolean revealedTo(Set<String> roles, boolean self) {
    if (self && revealToSelf) {
      return true;
    }
    if (roles.isEmpty() || revealTo.isEmpty()) {
      return false;
    }
    for (String role : revealTo) {
      if (roles.contains(role)) {
        return true;
      }
    }
    return false;
  }

  /** Masks one value (one element of a repeated field, or a map value); never CLEAR. */
  Object mask(Object value, FieldDescriptor field) {
    return switch (kind) {
      case MARKER -> marker;
      case KEEP_LAST -> keepLast((String) value);
      case KEYED_HASH ->
          value instanceof ByteString bytes
              ? tokenizer().keyedHash(bytes)
              : tokenizer().keyedHash((String) value);
      case TOKEN ->
          value instanceof ByteString bytes
              ? tokenizer().tokenize(bytes)
              : tokenizer().tokenize((String) value);
      case DETERMINISTIC_TOKEN ->
          value instanceof ByteString bytes
              ? tokenizer().deterministicToken(bytes)
              : tokenizer().deterministicToken((String) value);
      case DATE_TO_YEAR -> dateToYear((String) value);
      case ZIP3 -> zip3((String) value);
      case AGE -> age(value, field);
      case TIMESTAMP_TO_YEAR -> timestampToYear((Message) value);
      case DATE_MESSAGE_TO_YEAR -> dateMessageToYear((Message) value);
      case CLEAR ->
          throw new IllegalStateException("CLEAR has no value for " + field.getFullName());
    };
  }

  private Tokenizer tokenizer() {
    Tokenizer t = tokenizer;
    if (t == null) {
      // The compiler refuses these kinds without a tokenizer; this is a second line of defence.
      throw new IllegalStateException("no Tokenizer configured");
    }
    return t;
  }

  private String keepLast(String value) {
    int length = value.codePointCount(0, value.length());
    if (length < 2 * keepLast) {
      return KEEP_LAST_PREFIX;
    }
    int start = value.offsetByCodePoints(0, length - keepLast);
    return KEEP_LAST_PREFIX + value.substring(start);
  }

  // Hand-written matchers: these run per value on the response path, where regexes cost more than
  // the rest of the masking.

  /** {@code YYYY}, {@code YYYY-MM}, {@code YYYY-MM-DD...} or {@code M/D/YYYY} to the year. */
  private String dateToYear(String value) {
    String v = value.strip();
    int n = v.length();
    if (n >= 4 && digits(v, 0, 4)) {
      boolean ok =
          n == 4
              || (n == 7 && v.charAt(4) == '-' && digits(v, 5, 7))
              || (n >= 10
                  && v.charAt(4) == '-'
                  && digits(v, 5, 7)
                  && v.charAt(7) == '-'
                  && digits(v, 8, 10));
      if (ok) {
        return v.substring(0, 4);
      }
    }
    int first = v.indexOf('/');
    int second = first < 0 ? -1 : v.indexOf('/', first + 1);
    if (first >= 1
        && first <= 2
        && second - first - 1 >= 1
        && second - first - 1 <= 2
        && n - second - 1 == 4
        && digits(v, 0, first)
        && digits(v, first + 1, second)
        && digits(v, second + 1, n)) {
      return v.substring(second + 1);
    }
    return marker;
  }

  /** {@code 12345}, {@code 12345-6789} or {@code 123456789} to the first three digits. */
  private String zip3(String value) {
    String v = value.strip();
    int n = v.length();
    boolean ok =
        digits(v, 0, 5)
            && (n == 5
                || (n == 9 && digits(v, 5, 9))
                || (n == 10 && v.charAt(5) == '-' && digits(v, 6, 10)));
    if (!ok) {
      return marker;
    }
    String zip3 = v.substring(0, 3);
    return RESTRICTED_ZIP3.contains(zip3) ? "000" : zip3;
  }

  private static boolean digits(String s, int from, int to) {
    if (to > s.length() || from >= to) {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private Object age(Object value, FieldDescriptor field) {
    boolean unsigned =
        switch (field.getType()) {
          case UINT32, FIXED32, UINT64, FIXED64 -> true;
          default -> false;
        };
    if (value instanceof Integer i) {
      boolean over = unsigned ? Integer.compareUnsigned(i, 89) > 0 : i > 89;
      return over ? 90 : value;
    }
    if (value instanceof Long l) {
      boolean over = unsigned ? Long.compareUnsigned(l, 89L) > 0 : l > 89;
      return over ? 90L : value;
    }
    String v = ((String) value).strip();
    if (v.length() > 9 || !digits(v, 0, v.length())) {
      return marker;
    }
    return Integer.parseInt(v) > 89 ? "90+" : v;
  }

  private static Message timestampToYear(Message timestamp) {
    if (timestamp instanceof Timestamp ts) {
      return Timestamp.newBuilder().setSeconds(yearStart(ts.getSeconds())).build();
    }
    Descriptor type = timestamp.getDescriptorForType();
    FieldDescriptor secondsField = type.findFieldByNumber(1);
    FieldDescriptor nanosField = type.findFieldByNumber(2);
    long seconds = (Long) timestamp.getField(secondsField);
    return timestamp.toBuilder()
        .setField(secondsField, yearStart(seconds))
        .clearField(nanosField)
        .build();
  }

  private static long yearStart(long seconds) {
    // Outside Timestamp's valid range (years 1-9999) nothing meaningful remains: use the epoch.
    if (seconds < -62_135_596_800L || seconds > 253_402_300_799L) {
      return 0L;
    }
    int year = java.time.LocalDate.ofEpochDay(Math.floorDiv(seconds, SECONDS_PER_DAY)).getYear();
    return java.time.LocalDate.of(year, 1, 1).toEpochDay() * SECONDS_PER_DAY;
  }

  private static Message dateMessageToYear(Message date) {
    Descriptor type = date.getDescriptorForType();
    Message.Builder b = date.toBuilder();
    for (FieldDescriptor f : type.getFields()) {
      if (!f.getName().equals("year")) {
        b.clearField(f);
      }
    }
    return b.build();
  }
}
