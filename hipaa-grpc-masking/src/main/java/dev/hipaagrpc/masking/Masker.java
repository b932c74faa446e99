package dev.hipaagrpc.masking;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.UnknownFieldSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Applies compiled plans to messages. Stateless apart from the plan cache; thread-safe. */
final class Masker {

  /**
   * Who the masked message is for: the caller's roles and SMART patient context (null: not a
   * patient-facing caller). Printing uses {@link #NOBODY}.
   */
  record Viewer(Set<String> roles, @Nullable String patient) {
    static final Viewer NOBODY = new Viewer(Set.of(), null);
  }

  /** Counts the values hidden from the caller in one pass. Not thread-safe; one per pass. */
  static final class Counter {
    int count;
  }

  private final PlanCompiler compiler;
  private final TypeRegistry registry;

  Masker(PlanCompiler compiler, TypeRegistry registry) {
    this.compiler = compiler;
    this.registry = registry;
  }

  PlanCompiler compiler() {
    return compiler;
  }

  /** Whether messages of this type never need masking: the zero-cost path, no allocation. */
  boolean inert(Message message) {
    Descriptor type = message.getDescriptorForType();
    return !compiler.plan(type).active && !type.getFullName().equals(PlanCompiler.ANY);
  }

  /** Returns the masked message, the same instance when nothing changed. */
  Message mask(Message message, Viewer viewer, Counter counter) {
    Descriptor type = message.getDescriptorForType();
    if (type.getFullName().equals(PlanCompiler.ANY)) {
      Message masked = maskAny(message, viewer, counter);
      return masked == null ? message.getDefaultInstanceForType() : masked;
    }
    return apply(message, compiler.plan(type), viewer, false, counter);
  }

  private Message apply(
      Message message, MessagePlan plan, Viewer viewer, boolean self, Counter counter) {
    if (!plan.active) {
      return message;
    }
    // reveal_to_self: a record naming its patient decides for itself and what it contains; one
    // that does not inherits its enclosing record's answer.
    FieldDescriptor patientField = plan.patientField;
    if (patientField != null) {
      String patient = viewer.patient();
      self = patient != null && patient.equals(message.getField(patientField));
    }
    Message.Builder b = null;
    for (MessagePlan.FieldPlan fp : plan.fields) {
      FieldDescriptor f = fp.field;
      FieldRule rule = fp.rule;
      boolean masked = rule != null && !rule.revealedTo(viewer.roles(), self);
      if (f.isRepeated()) {
        // One reflective call for the whole list instead of one per element.
        List<?> list = (List<?>) message.getField(f);
        int n = list.size();
        if (n == 0) {
          continue;
        }
        if (masked && rule != null && rule.kind == FieldRule.Kind.CLEAR) {
          b = builder(b, message).clearField(f);
          counter.count += n;
          continue;
        }
        List<Object> values = null;
        for (int i = 0; i < n; i++) {
          Object v = list.get(i);
          Object nv =
              f.isMapField()
                  ? maskMapEntry((Message) v, fp, masked, viewer, self, counter)
                  : maskValue(v, fp, masked, viewer, self, counter);
          if (values == null && !same(nv, v)) {
            values = new ArrayList<>(n);
            for (int j = 0; j < i; j++) {
              values.add(list.get(j));
            }
          }
          if (values != null && nv != null) {
            values.add(nv);
          }
        }
        if (values != null) {
          b = builder(b, message).setField(f, values);
        }
      } else {
        // One reflective call instead of two for fields without presence (proto3 scalars).
        Object v;
        if (f.hasPresence()) {
          if (!message.hasField(f)) {
            continue;
          }
          v = message.getField(f);
        } else {
          v = message.getField(f);
          if (v.equals(f.getDefaultValue())) {
            continue;
          }
        }
        if (masked && rule != null && rule.kind == FieldRule.Kind.CLEAR) {
          b = builder(b, message).clearField(f);
          counter.count++;
          continue;
        }
        Object nv = maskValue(v, fp, masked, viewer, self, counter);
        if (nv == null) {
          b = builder(b, message).clearField(f);
        } else if (!same(nv, v)) {
          b = builder(b, message).setField(f, nv);
        }
      }
    }
    // Unknown fields of a type that holds sensitive data may be sensitive fields of a newer
    // schema: fail closed and drop them.
    if (!message.getUnknownFields().asMap().isEmpty()) {
      b = builder(b, message).setUnknownFields(UnknownFieldSet.getDefaultInstance());
    }
    return b == null ? message : b.build();
  }

  private static Message.Builder builder(Message.@Nullable Builder b, Message message) {
    return b != null ? b : message.toBuilder();
  }

  @SuppressWarnings("ReferenceEquality") // identity: "did the pass change this value?"
  private static boolean same(@Nullable Object a, Object b) {
    return a == b;
  }

  /** Returns the new value, the same instance when unchanged, or null to drop it. */
  private @Nullable Object maskValue(
      Object v,
      MessagePlan.FieldPlan fp,
      boolean masked,
      Viewer viewer,
      boolean self,
      Counter counter) {
    if (masked) {
      Object nv = requireRule(fp).mask(v, fp.mapValue != null ? fp.mapValue : fp.field);
      if (!Objects.equals(nv, v)) {
        counter.count++;
        return nv;
      }
      return v;
    }
    if (fp.any) {
      return maskAny((Message) v, viewer, self, counter, 0);
    }
    MessagePlan nested = fp.nested;
    if (nested != null) {
      return apply((Message) v, nested, viewer, self, counter);
    }
    return v;
  }

  private @Nullable Object maskMapEntry(
      Message entry,
      MessagePlan.FieldPlan fp,
      boolean masked,
      Viewer viewer,
      boolean self,
      Counter counter) {
    FieldDescriptor valueField = Objects.requireNonNull(fp.mapValue, "mapValue");
    Object v = entry.getField(valueField);
    Object nv = maskValue(v, fp, masked, viewer, self, counter);
    if (nv == null) {
      return null;
    }
    if (same(nv, v)) {
      return entry;
    }
    return entry.toBuilder().setField(valueField, nv).build();
  }

  private static FieldRule requireRule(MessagePlan.FieldPlan fp) {
    FieldRule rule = fp.rule;
    if (rule == null) {
      throw new IllegalStateException("no rule");
    }
    return rule;
  }

  /** Masks the content of an Any; returns null (remove it) when its type is not known. */
  @Nullable Message maskAny(Message any, Viewer viewer, Counter counter) {
    return maskAny(any, viewer, false, counter, 0);
  }

  /** Anys nested deeper than this are removed rather than unpacked (fail closed). */
  private static final int MAX_ANY_NESTING = 8;

  private @Nullable Message maskAny(
      Message any, Viewer viewer, boolean self, Counter counter, int depth) {
    Descriptor anyType = any.getDescriptorForType();
    FieldDescriptor typeUrlField = anyType.findFieldByNumber(1);
    FieldDescriptor valueField = anyType.findFieldByNumber(2);
    String typeUrl = (String) any.getField(typeUrlField);
    ByteString value = (ByteString) any.getField(valueField);
    if (typeUrl.isEmpty() && value.isEmpty()) {
      return any;
    }
    Descriptor type;
    try {
      type = registry.getDescriptorForTypeUrl(typeUrl);
    } catch (InvalidProtocolBufferException e) {
      type = null;
    }
    if (type == null) {
      counter.count++;
      return null;
    }
    if (type.getFullName().equals(PlanCompiler.ANY)) {
      // An Any packed in an Any: the outer plan sees only a string and bytes, so mask what the
      // inner one holds, or remove it.
      if (depth >= MAX_ANY_NESTING) {
        counter.count++;
        return null;
      }
      Message inner;
      try {
        inner = DynamicMessage.parseFrom(type, value);
      } catch (InvalidProtocolBufferException e) {
        counter.count++;
        return null;
      }
      Message maskedInner = maskAny(inner, viewer, self, counter, depth + 1);
      if (maskedInner == null) {
        return null;
      }
      if (same(maskedInner, inner)) {
        return any;
      }
      return any.toBuilder().setField(valueField, maskedInner.toByteString()).build();
    }
    MessagePlan plan = compiler.plan(type);
    if (!plan.active) {
      return any;
    }
    Message content;
    try {
      content = DynamicMessage.parseFrom(type, value);
    } catch (InvalidProtocolBufferException e) {
      counter.count++;
      return null;
    }
    Message masked = apply(content, plan, viewer, self, counter);
    if (same(masked, content)) {
      return any;
    }
    return any.toBuilder().setField(valueField, masked.toByteString()).build();
  }

  /** Parses an Any's content for printing, or returns null when its type is not known. */
  @Nullable Message unpackForPrint(Message any) {
    Descriptor anyType = any.getDescriptorForType();
    String typeUrl = (String) any.getField(anyType.findFieldByNumber(1));
    ByteString value = (ByteString) any.getField(anyType.findFieldByNumber(2));
    try {
      Descriptor type = registry.getDescriptorForTypeUrl(typeUrl);
      return type == null ? null : DynamicMessage.parseFrom(type, value);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
