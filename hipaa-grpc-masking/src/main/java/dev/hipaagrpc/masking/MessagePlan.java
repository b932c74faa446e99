package dev.hipaagrpc.masking;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import org.jspecify.annotations.Nullable;

/**
 * The compiled masking plan of one message type. Built (and, for recursive types, linked) by {@link
 * PlanCompiler} before it is published through a volatile cache, then never changed.
 */
final class MessagePlan {

  static final FieldPlan[] NO_FIELDS = new FieldPlan[0];

  final Descriptor type;
  // Only the fields that need work; empty when the type has nothing sensitive.
  FieldPlan[] fields = NO_FIELDS;
  // The (hipaagrpc.masking.patient_id) field: whose record this is, for reveal_to_self.
  @Nullable FieldDescriptor patientField;
  // False: the type has nothing sensitive, directly or nested, and is returned as is.
  boolean active;

  MessagePlan(Descriptor type) {
    this.type = type;
  }

  /** One field that needs work: masked itself, or a message (or Any) that contains something. */
  static final class FieldPlan {
    final FieldDescriptor field;
    final @Nullable FieldRule rule;
    // For message fields, repeated messages and map values of message type.
    @Nullable MessagePlan nested;
    // The field (or the map's value) is a google.protobuf.Any.
    final boolean any;
    // For map fields: the entry's value field.
    final @Nullable FieldDescriptor mapValue;

    FieldPlan(
        FieldDescriptor field,
        @Nullable FieldRule rule,
        @Nullable MessagePlan nested,
        boolean any,
        @Nullable FieldDescriptor mapValue) {
      this.field = field;
      this.rule = rule;
      this.nested = nested;
      this.any = any;
      this.mapValue = mapValue;
    }
  }
}
