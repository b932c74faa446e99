package dev.hipaagrpc.masking;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.Message;
import dev.hipaagrpc.masking.proto.WriteRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The write side of "minimum necessary": compiles each request type's {@code
 * (hipaagrpc.masking.write_rule)} options once into an immutable plan ({@link PlanCache}; types
 * with nothing to check pruned) and finds the first field a caller may not set.
 */
final class WriteRules {

  /** One field to check: its own rule, and/or the plan of the message (or map value) it holds. */
  private record Check(
      FieldDescriptor field,
      @Nullable WriteRule rule,
      Set<String> readOnlyFor,
      @Nullable Node nested,
      @Nullable FieldDescriptor mapValue) {}

  private static final class Node {
    Check[] checks = new Check[0];
    boolean active;
  }

  private final Set<String> allowUnrecognized;
  private final PlanCache<Node> cache = new PlanCache<>(this::compile, WriteRules::settle);

  WriteRules(Set<String> allowUnrecognized) {
    this.allowUnrecognized = Set.copyOf(allowUnrecognized);
  }

  /** Whether no message of this type can break a write rule (the zero-cost path). */
  boolean inert(Descriptor type) {
    return !plan(type).active;
  }

  /**
   * Returns the path of the first field of {@code request} the caller may not set (field names from
   * the request root, {@code contact.ssn}; never a value), or {@code null}.
   *
   * @throws IllegalStateException if a write rule of the type is refused
   */
  @Nullable String firstForbidden(Message request, Set<String> roles) {
    Node node = plan(request.getDescriptorForType());
    return node.active ? check(request, node, roles, "") : null;
  }

  private static @Nullable String check(Message m, Node node, Set<String> roles, String prefix) {
    for (Check c : node.checks) {
      FieldDescriptor f = c.field();
      boolean set = f.isRepeated() ? m.getRepeatedFieldCount(f) > 0 : isSet(m, f);
      if (!set) {
        continue;
      }
      String path = prefix + f.getName();
      WriteRule rule = c.rule();
      if (rule != null && (rule.getOutputOnly() || intersects(c.readOnlyFor(), roles))) {
        return path;
      }
      Node nested = c.nested();
      if (nested == null) {
        continue;
      }
      if (f.isRepeated()) {
        for (Object element : (List<?>) m.getField(f)) {
          Message value = (Message) element;
          FieldDescriptor mapValue = c.mapValue();
          if (mapValue != null) {
            value = (Message) value.getField(mapValue);
          }
          String found = check(value, nested, roles, path + ".");
          if (found != null) {
            return found;
          }
        }
      } else {
        String found = check((Message) m.getField(f), nested, roles, path + ".");
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  private static boolean isSet(Message m, FieldDescriptor f) {
    return f.hasPresence() ? m.hasField(f) : !m.getField(f).equals(f.getDefaultValue());
  }

  private static boolean intersects(Set<String> readOnlyFor, Set<String> roles) {
    for (String role : roles) {
      if (readOnlyFor.contains(role)) {
        return true;
      }
    }
    return false;
  }

  private Node plan(Descriptor type) {
    return cache.get(type);
  }

  private Node compile(Descriptor type, Map<Descriptor, Node> working, List<Node> created) {
    Node existing = working.get(type);
    if (existing != null) {
      return existing;
    }
    Node node = new Node();
    working.put(type, node);
    created.add(node);
    List<Check> checks = new ArrayList<>();
    for (FieldDescriptor field : type.getFields()) {
      WriteRule rule = PlanCompiler.writeRule(field, allowUnrecognized);
      FieldDescriptor value =
          field.isMapField() ? field.getMessageType().findFieldByNumber(2) : field;
      Node nested = null;
      if (value.getJavaType() == JavaType.MESSAGE
          && !value.getMessageType().getFile().getPackage().equals("google.protobuf")) {
        nested = compile(value.getMessageType(), working, created);
      }
      if (rule != null || nested != null) {
        Set<String> readOnly = rule == null ? Set.of() : Set.copyOf(rule.getReadOnlyForList());
        checks.add(new Check(field, rule, readOnly, nested, field.isMapField() ? value : null));
      }
    }
    node.checks = checks.toArray(new Check[0]);
    return node;
  }

  /** Marks nodes active by fixpoint (recursive types), then prunes checks with nothing to do. */
  private static void settle(List<Node> created) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Node node : created) {
        if (node.active) {
          continue;
        }
        for (Check c : node.checks) {
          Node nested = c.nested();
          if (c.rule() != null || (nested != null && nested.active)) {
            node.active = true;
            changed = true;
            break;
          }
        }
      }
    }
    for (Node node : created) {
      List<Check> kept = new ArrayList<>();
      for (Check c : node.checks) {
        Node nested = c.nested();
        if (c.rule() != null || (nested != null && nested.active)) {
          kept.add(
              nested != null && !nested.active
                  ? new Check(c.field(), c.rule(), c.readOnlyFor(), null, c.mapValue())
                  : c);
        }
      }
      node.checks = node.active ? kept.toArray(new Check[0]) : new Check[0];
    }
  }
}
