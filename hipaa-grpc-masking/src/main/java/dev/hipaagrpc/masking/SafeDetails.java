package dev.hipaagrpc.masking;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Which {@code google.rpc.Status} details may reach a caller: an allow-list of detail types (only
 * {@code google.rpc.BadRequest}), and of those only the field violations whose field path, reason
 * and description are of a safe shape and contain no value of the call's requests.
 */
final class SafeDetails {

  private static final String BAD_REQUEST_URL = "type.googleapis.com/google.rpc.BadRequest";
  // Field names, list indexes, and the empty subscript that stands for a map key.
  private static final Pattern PATH =
      Pattern.compile(
          "[A-Za-z_][A-Za-z0-9_]*(\\[[0-9]{0,10}\\])?(\\.[A-Za-z_][A-Za-z0-9_]*(\\[[0-9]{0,10}\\])?){0,31}");
  private static final Pattern TEXT = Pattern.compile("[\\x20-\\x7e]{0,256}");
  private static final int MAX_VALUES = 4096;
  private static final int MAX_DEPTH = 32;
  // Shorter values match too much schema text to tell an echo from a coincidence.
  private static final int MIN_VALUE_LENGTH = 2;

  private SafeDetails() {}

  /** The request values an echo check looks for, lower-cased. */
  static List<String> valuesOf(List<Message> requests) {
    List<String> out = new ArrayList<>();
    for (Message m : requests) {
      collect(m, out, 0);
    }
    return out;
  }

  private static void collect(Message m, List<String> out, int depth) {
    if (depth > MAX_DEPTH) {
      return;
    }
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      Object v = e.getValue();
      if (v instanceof List<?> list) {
        for (Object element : list) {
          add(element, out, depth);
        }
      } else {
        add(v, out, depth);
      }
    }
  }

  private static void add(Object v, List<String> out, int depth) {
    if (out.size() >= MAX_VALUES) {
      return;
    }
    if (v instanceof Message m) {
      collect(m, out, depth + 1);
      return;
    }
    String s;
    if (v instanceof String str) {
      s = str;
    } else if (v instanceof ByteString bytes) {
      s = bytes.toStringUtf8();
    } else if (v instanceof Number || v instanceof Boolean) {
      s = String.valueOf(v);
      if (v instanceof Boolean) {
        return; // "true"/"false" are schema words, not identifying
      }
    } else {
      return; // enum values are names from the schema
    }
    String t = s.strip().toLowerCase(Locale.ROOT);
    if (t.length() >= MIN_VALUE_LENGTH) {
      out.add(t);
    }
  }

  /**
   * Returns the details a caller may see, or {@code null} for none: a {@code google.rpc.Status}
   * with {@code code}, {@code message} and one {@code BadRequest} holding the safe violations.
   */
  static com.google.rpc.@Nullable Status filter(
      byte[] statusDetails, int code, String message, List<String> requestValues) {
    com.google.rpc.Status original;
    try {
      original = com.google.rpc.Status.parseFrom(statusDetails);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
    BadRequest.Builder kept = BadRequest.newBuilder();
    for (Any any : original.getDetailsList()) {
      if (!any.getTypeUrl().equals(BAD_REQUEST_URL)) {
        continue; // not on the allow-list
      }
      BadRequest bad;
      try {
        bad = any.unpack(BadRequest.class);
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      for (BadRequest.FieldViolation v : bad.getFieldViolationsList()) {
        if (safe(v, requestValues)) {
          // Copy only the three checked fields: localized messages and unknown fields stay behind.
          kept.addFieldViolations(
              BadRequest.FieldViolation.newBuilder()
                  .setField(v.getField())
                  .setReason(v.getReason())
                  .setDescription(v.getDescription()));
        }
      }
    }
    if (kept.getFieldViolationsCount() == 0) {
      return null;
    }
    return com.google.rpc.Status.newBuilder()
        .setCode(code)
        .setMessage(message)
        .addDetails(Any.pack(kept.build()))
        .build();
  }

  private static boolean safe(BadRequest.FieldViolation v, List<String> requestValues) {
    if (!PATH.matcher(v.getField()).matches()
        || !TEXT.matcher(v.getDescription()).matches()
        || !TEXT.matcher(v.getReason()).matches()) {
      return false;
    }
    String field = v.getField().toLowerCase(Locale.ROOT);
    String description = v.getDescription().toLowerCase(Locale.ROOT);
    String reason = v.getReason().toLowerCase(Locale.ROOT);
    for (String value : requestValues) {
      if (description.contains(value) || reason.contains(value) || field.contains(value)) {
        return false;
      }
    }
    return true;
  }
}
