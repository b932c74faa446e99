package dev.hipaagrpc.testing;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.hipaagrpc.masking.SensitivityOptions;
import dev.hipaagrpc.masking.proto.Sensitivity;
import dev.hipaagrpc.masking.proto.Strategy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A test kit: fills every sensitive field of a message with recognizable canary values, then finds
 * those values in whatever text was captured (logs, statuses, trailers, audit output, files).
 *
 * <pre>{@code
 * PhiCanaries canaries = PhiCanaries.create(42);
 * Patient patient = canaries.fill(Patient.getDefaultInstance());
 * // ... run the patient through the service, capture logs and statuses ...
 * canaries.assertAbsent(capturedLog, "server log");
 * }</pre>
 *
 * <p>Canaries are fake, unique, and shaped for their strategy so masking really runs: dates for
 * date fields, ZIP+4 codes for geographic fields, ages over 89 (as large numbers) for age fields,
 * {@code CANARY-<random>} text otherwise. A field whose whole message is sensitive gets canaries in
 * every string of that message. Booleans, enums and floating-point values cannot be recognized in
 * text and are set but not registered. Map keys are never canaries (keys are not masked). Searches
 * also look for the Base64 forms of each value.
 *
 * <p>Not thread-safe: use one instance per test.
 */
public final class PhiCanaries {

  private static final int MAX_DEPTH = 8;
  // A recursive type is entered at most twice on one path, which keeps trees small.
  private static final int MAX_REENTRY = 2;
  private static final char[] ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".toCharArray();

  private final Random random;
  private final Set<String> values = new LinkedHashSet<>();
  private final Map<Descriptor, Integer> path = new HashMap<>();

  private PhiCanaries(long seed) {
    this.random = new Random(seed);
  }

  /** Returns a kit whose canaries are derived from {@code seed} (reproducible). */
  public static PhiCanaries create(long seed) {
    return new PhiCanaries(seed);
  }

  /**
   * Returns a copy of {@code prototype} with every sensitive field (by sensitivity option or {@code
   * debug_redact}), in nested messages too, set to a new canary; repeated fields get two elements,
   * maps one entry. A recursive type is filled at most two levels deep.
   *
   * @throws IllegalStateException if a sensitivity option is refused
   */
  @SuppressWarnings("unchecked")
  public <M extends Message> M fill(M prototype) {
    requireNonNull(prototype, "prototype");
    Message.Builder b = prototype.toBuilder();
    fill(b, prototype.getDescriptorForType(), false, 0);
    return (M) b.build();
  }

  /** Every canary value handed out so far, in order; unmodifiable. */
  public Set<String> values() {
    return Collections.unmodifiableSet(values);
  }

  /** Returns the canaries found in {@code text} (as themselves or Base64), in order. */
  public List<String> findIn(CharSequence text) {
    requireNonNull(text, "text");
    String s = text.toString();
    List<String> found = new ArrayList<>();
    for (String v : values) {
      byte[] utf8 = v.getBytes(StandardCharsets.UTF_8);
      if (s.contains(v)
          || s.contains(Base64.getEncoder().withoutPadding().encodeToString(utf8))
          || s.contains(Base64.getUrlEncoder().withoutPadding().encodeToString(utf8))) {
        found.add(v);
      }
    }
    return found;
  }

  /** Returns the canaries found in a file, read as UTF-8 (malformed bytes replaced). */
  public List<String> findIn(Path file) throws IOException {
    return findIn(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
  }

  /**
   * Throws unless no canary is in {@code text}.
   *
   * @param where names the captured output in the failure message
   * @throws AssertionError naming the canaries found (fake values, safe to print)
   */
  public void assertAbsent(CharSequence text, String where) {
    List<String> found = findIn(text);
    if (!found.isEmpty()) {
      throw new AssertionError("PHI canaries leaked into " + where + ": " + found);
    }
  }

  private void fill(Message.Builder b, Descriptor type, boolean allSensitive, int depth) {
    if (depth > MAX_DEPTH) {
      return;
    }
    path.merge(type, 1, Integer::sum);
    try {
      fillFields(b, type, allSensitive, depth);
    } finally {
      path.merge(type, -1, Integer::sum);
    }
  }

  private void fillFields(Message.Builder b, Descriptor type, boolean allSensitive, int depth) {
    for (FieldDescriptor field : type.getFields()) {
      if (field.getContainingOneof() != null && hasOneofSet(b, field)) {
        continue;
      }
      Sensitivity s = sensitivity(field);
      boolean sensitive = allSensitive || s != null;
      if (field.isMapField()) {
        fillMap(b, field, sensitive, s, depth);
        continue;
      }
      int count = field.isRepeated() ? 2 : 1;
      for (int i = 0; i < count; i++) {
        Object v = value(b, field, sensitive, s, depth);
        if (v == null) {
          break;
        }
        if (field.isRepeated()) {
          b.addRepeatedField(field, v);
        } else {
          b.setField(field, v);
        }
      }
    }
  }

  private static boolean hasOneofSet(Message.Builder b, FieldDescriptor field) {
    return b.hasOneof(field.getContainingOneof());
  }

  private static @Nullable Sensitivity sensitivity(FieldDescriptor field) {
    return SensitivityOptions.effective(field);
  }

  private void fillMap(
      Message.Builder b,
      FieldDescriptor field,
      boolean sensitive,
      @Nullable Sensitivity s,
      int depth) {
    Descriptor entryType = field.getMessageType();
    FieldDescriptor valueField = entryType.findFieldByNumber(2);
    Message.Builder entry = b.newBuilderForField(field);
    entry.setField(entryType.findFieldByNumber(1), key(entryType.findFieldByNumber(1)));
    Object v = value(entry, valueField, sensitive, s, depth);
    if (v == null) {
      return;
    }
    entry.setField(valueField, v);
    b.addRepeatedField(field, entry.build());
  }

  private Object key(FieldDescriptor keyField) {
    return switch (keyField.getJavaType()) {
      case STRING -> "k" + random.nextInt(1000);
      case INT -> random.nextInt(1000);
      case LONG -> (long) random.nextInt(1000);
      case BOOLEAN -> true;
      default -> throw new IllegalStateException("unexpected map key type");
    };
  }

  private @Nullable Object value(
      Message.Builder parent,
      FieldDescriptor field,
      boolean sensitive,
      @Nullable Sensitivity s,
      int depth) {
    Strategy strategy = s == null ? Strategy.STRATEGY_REDACT : SensitivityOptions.strategy(s);
    return switch (field.getJavaType()) {
      case STRING -> sensitive ? stringCanary(strategy) : "public-" + token(6);
      case BYTE_STRING ->
          ByteString.copyFromUtf8(sensitive ? register("CANARY-" + token(12)) : "public");
      case INT -> sensitive ? (int) numberCanary() : 7;
      case LONG -> sensitive ? numberCanary() : 7L;
      case FLOAT -> 36.6f;
      case DOUBLE -> 72.25;
      case BOOLEAN -> true;
      case ENUM -> {
        List<EnumValueDescriptor> enumValues = field.getEnumType().getValues();
        yield enumValues.get(enumValues.size() > 1 ? 1 : 0);
      }
      case MESSAGE -> messageValue(parent, field, sensitive, depth);
    };
  }

  private @Nullable Message messageValue(
      Message.Builder parent, FieldDescriptor field, boolean sensitive, int depth) {
    Descriptor type = field.getMessageType();
    if (type.getFullName().equals("google.protobuf.Any")) {
      return null;
    }
    if (path.getOrDefault(type, 0) >= MAX_REENTRY) {
      return null;
    }
    Message.Builder nested = parent.newBuilderForField(field);
    if (type.getFullName().equals("google.protobuf.Timestamp")) {
      long seconds = -2_000_000_000L + random.nextInt(1_000_000_000) * 2L + 12_345;
      nested.setField(type.findFieldByNumber(1), seconds);
      if (sensitive) {
        register(Long.toString(seconds));
      }
      return nested.build();
    }
    fill(nested, type, sensitive, depth + 1);
    return nested.build();
  }

  private String stringCanary(Strategy strategy) {
    return switch (strategy) {
      case STRATEGY_GENERALIZE_DATE_TO_YEAR ->
          register(
              String.format(
                  "18%02d-%02d-%02d",
                  random.nextInt(100), 1 + random.nextInt(12), 1 + random.nextInt(28)));
      case STRATEGY_GENERALIZE_ZIP3 ->
          register(String.format("9%04d-%04d", random.nextInt(10_000), random.nextInt(10_000)));
      case STRATEGY_GENERALIZE_AGE -> register(Long.toString(numberCanary()));
      default -> register("CANARY-" + token(12));
    };
  }

  private long numberCanary() {
    long v = 700_000_000L + random.nextInt(200_000_000);
    register(Long.toString(v));
    return v;
  }

  private String register(String value) {
    values.add(value);
    return value;
  }

  private String token(int length) {
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(out);
  }
}
