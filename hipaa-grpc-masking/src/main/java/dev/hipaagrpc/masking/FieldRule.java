package dev.hipaagrpc.masking;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** How one sensitive field is masked: compiled once from its options, immutable. */
final class FieldRule {

  enum Kind {
    CLEAR,
    MARKER,
    KEEP_LAST,
    KEYED_HASH,
    TOKEN,
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

  private static final Pattern ZIP = Pattern.compile("(\\d{3})\\d{2}(?:-?\\d{4})?");
  private static final Pattern ISO_DATE = Pattern.compile("(\\d{4})(?:-\\d{2}(?:-\\d{2}.*)?)?");
  private static final Pattern US_DATE = Pattern.compile("\\d{1,2}/\\d{1,2}/(\\d{4})");
  private static final Pattern AGE_TEXT = Pattern.compile("\\d{1,9}");

  final Kind kind;
  final String marker;
  final int keepLast;
  final Set<String> revealTo;
  // debug_redact alone: masked when printing, never in responses.
  final boolean printOnly;
  private final @Nullable Tokenizer tokenizer;

  FieldRule(
      Kind kind,
      String marker,
      int keepLast,
      Set<String> revealTo,
      boolean printOnly,
      @Nullable Tokenizer tokenizer) {
    this.kind = kind;
    this.marker = marker;
    this.keepLast = keepLast;
    this.revealTo = Set.copyOf(revealTo);
    this.printOnly = printOnly;
    this.tokenizer = tokenizer;
  }

  boolean revealedTo(Set<String> roles) {
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

  private String dateToYear(String value) {
    String v = value.strip();
    Matcher iso = ISO_DATE.matcher(v);
    if (iso.matches()) {
      return iso.group(1);
    }
    Matcher us = US_DATE.matcher(v);
    if (us.matches()) {
      return us.group(1);
    }
    return marker;
  }

  private String zip3(String value) {
    Matcher m = ZIP.matcher(value.strip());
    if (!m.matches()) {
      return marker;
    }
    String zip3 = m.group(1);
    return RESTRICTED_ZIP3.contains(zip3) ? "000" : zip3;
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
    if (!AGE_TEXT.matcher(v).matches()) {
      return marker;
    }
    return Integer.parseInt(v) > 89 ? "90+" : v;
  }

  private static Message timestampToYear(Message timestamp) {
    Descriptor type = timestamp.getDescriptorForType();
    FieldDescriptor secondsField = type.findFieldByNumber(1);
    FieldDescriptor nanosField = type.findFieldByNumber(2);
    long seconds = (Long) timestamp.getField(secondsField);
    long day = Math.floorDiv(seconds, SECONDS_PER_DAY);
    int year = java.time.LocalDate.ofEpochDay(day).getYear();
    long yearStart = java.time.LocalDate.of(year, 1, 1).toEpochDay() * SECONDS_PER_DAY;
    return timestamp.toBuilder().setField(secondsField, yearStart).clearField(nanosField).build();
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
