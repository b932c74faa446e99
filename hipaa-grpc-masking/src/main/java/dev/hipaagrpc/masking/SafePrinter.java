package dev.hipaagrpc.masking;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;

/**
 * Prints a message that {@link Masker} has already masked. Never delegates to the generated {@code
 * toString()} or {@code TextFormat}, which ignore {@code debug_redact}
 * (protocolbuffers/protobuf#13576); prints byte fields as their length only and unknown fields not
 * at all; escapes control characters so a value cannot forge a log line.
 */
final class SafePrinter {

  static final int MAX_LENGTH = 16 * 1024;
  private static final int MAX_DEPTH = 32;

  private final Masker masker;

  SafePrinter(Masker masker) {
    this.masker = masker;
  }

  String print(Message message) {
    StringBuilder sb = new StringBuilder(128);
    sb.append(message.getDescriptorForType().getName());
    message(message, sb, 0);
    if (sb.length() > MAX_LENGTH) {
      sb.setLength(MAX_LENGTH);
      sb.append("...(truncated)");
    }
    return sb.toString();
  }

  private void message(Message message, StringBuilder sb, int depth) {
    if (depth > MAX_DEPTH) {
      sb.append(" {...}");
      return;
    }
    if (message.getDescriptorForType().getFullName().equals(PlanCompiler.ANY)) {
      any(message, sb, depth);
      return;
    }
    sb.append(" {");
    for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
      if (sb.length() > MAX_LENGTH) {
        return;
      }
      FieldDescriptor f = e.getKey();
      if (f.isRepeated()) {
        for (Object v : (List<?>) e.getValue()) {
          field(f, v, sb, depth);
        }
      } else {
        field(f, e.getValue(), sb, depth);
      }
    }
    if (!message.getUnknownFields().asMap().isEmpty()) {
      sb.append(" <unknown fields withheld>");
    }
    sb.append(" }");
  }

  private void any(Message any, StringBuilder sb, int depth) {
    String typeUrl = (String) any.getField(any.getDescriptorForType().findFieldByNumber(1));
    if (typeUrl.isEmpty()) {
      sb.append(" {}");
      return;
    }
    sb.append(" { [");
    string(typeUrl, sb);
    sb.append(']');
    Message content = masker.unpackForPrint(any);
    if (content == null) {
      sb.append(" <withheld> }");
      return;
    }
    message(content, sb, depth + 1);
    sb.append(" }");
  }

  private void field(FieldDescriptor f, Object v, StringBuilder sb, int depth) {
    sb.append(' ').append(f.isExtension() ? "[" + f.getFullName() + "]" : f.getName());
    switch (f.getJavaType()) {
      case MESSAGE -> message((Message) v, sb, depth + 1);
      case STRING -> {
        sb.append(": \"");
        string((String) v, sb);
        sb.append('"');
      }
      case BYTE_STRING -> sb.append(": <").append(((ByteString) v).size()).append(" bytes>");
      case ENUM -> sb.append(": ").append(((EnumValueDescriptor) v).getName());
      default -> sb.append(": ").append(v);
    }
  }

  private static void string(String s, StringBuilder sb) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
  }
}
