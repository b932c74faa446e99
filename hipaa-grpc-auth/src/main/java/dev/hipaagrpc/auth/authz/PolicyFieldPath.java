package dev.hipaagrpc.auth.authz;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A path to a singular string field of a request message ({@code patient_id}, {@code subject.id}),
 * resolved once per message type.
 */
final class PolicyFieldPath {

  private static final Pattern SYNTAX =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");

  private final String path;
  private final List<String> segments;

  /** Whether the last field may be repeated (search parameter values), not only singular. */
  private final boolean values;

  // The last resolution, published safely by the final fields of Resolved.
  private volatile @Nullable Resolved resolved;

  private static final class Resolved {
    final Descriptor type;
    final FieldDescriptor @Nullable [] fields; // null: the path does not fit this type

    Resolved(Descriptor type, FieldDescriptor @Nullable [] fields) {
      this.type = type;
      this.fields = fields;
    }
  }

  private PolicyFieldPath(String path, boolean values) {
    this.path = path;
    this.segments = List.of(path.split("\\.", -1));
    this.values = values;
  }

  /** Parses a configured path; throws {@link IllegalArgumentException} when it is not one. */
  static PolicyFieldPath parse(String path) {
    return parse(path, false);
  }

  /**
   * Parses a path to a string field that may be repeated (read with {@link #extractValues}); throws
   * {@link IllegalArgumentException} when it is not a path.
   */
  static PolicyFieldPath parseValues(String path) {
    return parse(path, true);
  }

  private static PolicyFieldPath parse(String path, boolean values) {
    if (!SYNTAX.matcher(path).matches()) {
      throw new IllegalArgumentException("invalid field path '" + path + "'");
    }
    return new PolicyFieldPath(path, values);
  }

  String path() {
    return path;
  }

  /**
   * Checks that the path names a singular string field (through singular message fields) of {@code
   * type}; throws {@link IllegalArgumentException} otherwise.
   */
  void validateAgainst(Descriptor type) {
    if (resolve(type) == null) {
      throw new IllegalArgumentException(
          "field path '"
              + path
              + (values ? "' is not a string field of " : "' is not a singular string field of ")
              + type.getFullName()
              + " (reached through singular message fields)");
    }
  }

  /**
   * Returns the field's value ({@code ""} when unset), or {@code null} when the request is not a
   * protobuf message whose type has this field: the caller must then fail closed.
   */
  @Nullable String extract(Object request) {
    List<String> values = extractValues(request);
    return values == null ? null : values.isEmpty() ? "" : values.get(0);
  }

  /**
   * Returns the non-empty values of the (possibly repeated) field, an empty list when there are
   * none, or {@code null} when the request is not a protobuf message whose type has this field.
   */
  @Nullable List<String> extractValues(Object request) {
    if (!(request instanceof Message message)) {
      return null;
    }
    FieldDescriptor[] fields = resolve(message.getDescriptorForType());
    if (fields == null) {
      return null;
    }
    for (int i = 0; i < fields.length - 1; i++) {
      if (!message.hasField(fields[i])) {
        return List.of();
      }
      message = (Message) message.getField(fields[i]);
    }
    FieldDescriptor last = fields[fields.length - 1];
    if (!last.isRepeated()) {
      String v = (String) message.getField(last);
      return v.isEmpty() ? List.of() : List.of(v);
    }
    List<String> out = new java.util.ArrayList<>();
    int n = message.getRepeatedFieldCount(last);
    for (int i = 0; i < n; i++) {
      String v = (String) message.getRepeatedField(last, i);
      if (!v.isEmpty()) {
        out.add(v);
      }
    }
    return out;
  }

  private FieldDescriptor @Nullable [] resolve(Descriptor type) {
    Resolved r = resolved;
    if (r != null && r.type == type) {
      return r.fields;
    }
    FieldDescriptor[] fields = new FieldDescriptor[segments.size()];
    @Nullable Descriptor current = type;
    boolean ok = true;
    for (int i = 0; i < fields.length; i++) {
      FieldDescriptor f = current == null ? null : current.findFieldByName(segments.get(i));
      boolean last = i == fields.length - 1;
      if (f == null
          || (f.isRepeated() && !(last && values))
          || (last && f.getJavaType() != FieldDescriptor.JavaType.STRING)
          || (!last && f.getJavaType() != FieldDescriptor.JavaType.MESSAGE)) {
        ok = false;
        break;
      }
      fields[i] = f;
      current = last ? null : f.getMessageType();
    }
    FieldDescriptor[] result = ok ? fields : null;
    resolved = new Resolved(type, result);
    return result;
  }
}
