package dev.hipaagrpc.auth.authz;

import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.hipaagrpc.auth.authz.proto.PolicyProto;
import dev.hipaagrpc.core.CallFacts;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Finds the patients a response names: every string field marked {@code
 * (hipaagrpc.auth.authz.patient_id)} anywhere in the response message (nested and repeated messages
 * included, for example a search returning several patients), so that audit attributes the call to
 * each of them. One plan per response type, compiled once; types with no such field cost nothing.
 */
final class ResponsePatients {

  /** Nesting followed at run time; deeper structures are not searched. */
  private static final int MAX_DEPTH = 16;

  private static final int CACHE_BOUND = 10_000;
  private static final ConcurrentMap<Descriptor, Plan> PLANS = new ConcurrentHashMap<>();
  private static final Plan NONE = new Plan(List.of(), List.of());

  private ResponsePatients() {}

  /** Records in {@code facts} every patient {@code response} names. */
  static void collect(Object response, CallFacts facts) {
    if (response instanceof Message m) {
      Plan plan = plan(m.getDescriptorForType());
      if (plan != NONE) {
        plan.collect(m, facts, 0);
      }
    }
  }

  /** Whether messages of {@code type} can name a patient. */
  static boolean namesPatients(Descriptor type) {
    return plan(type) != NONE;
  }

  private static Plan plan(Descriptor type) {
    Plan p = PLANS.get(type);
    if (p == null) {
      p = compile(type, new HashSet<>());
      if (PLANS.size() < CACHE_BOUND) { // bounded: types come from the server's own services
        PLANS.put(type, p);
      }
    }
    return p;
  }

  private static Plan compile(Descriptor type, Set<Descriptor> visiting) {
    Plan cached = PLANS.get(type);
    if (cached != null) {
      return cached;
    }
    if (!visiting.add(type)) {
      return NONE; // a recursive type: its patients are found through the outer occurrence
    }
    List<FieldDescriptor> marked = new ArrayList<>();
    List<Nested> nested = new ArrayList<>();
    for (FieldDescriptor f : type.getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.STRING && isMarked(f)) {
        marked.add(f);
      } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isMapField()) {
        Plan inner = compile(f.getMessageType(), visiting);
        if (inner != NONE) {
          nested.add(new Nested(f, inner));
        }
      }
    }
    visiting.remove(type);
    return marked.isEmpty() && nested.isEmpty() ? NONE : new Plan(marked, nested);
  }

  private static boolean isMarked(FieldDescriptor f) {
    FieldOptions options = f.getOptions();
    if (!options.hasExtension(PolicyProto.patientId)) {
      try {
        options = FieldOptions.parseFrom(options.toByteString(), PolicyCompiler.REGISTRY);
      } catch (InvalidProtocolBufferException e) {
        return false;
      }
    }
    return options.hasExtension(PolicyProto.patientId)
        && options.getExtension(PolicyProto.patientId);
  }

  private record Nested(FieldDescriptor field, Plan plan) {}

  private static final class Plan {
    final FieldDescriptor[] marked;
    final Nested[] nested;

    Plan(List<FieldDescriptor> marked, List<Nested> nested) {
      this.marked = marked.toArray(new FieldDescriptor[0]);
      this.nested = nested.toArray(new Nested[0]);
    }

    void collect(Message m, CallFacts facts, int depth) {
      for (FieldDescriptor f : marked) {
        if (f.isRepeated()) {
          int n = m.getRepeatedFieldCount(f);
          for (int i = 0; i < n; i++) {
            add(m.getRepeatedField(f, i), facts);
          }
        } else {
          add(m.getField(f), facts);
        }
      }
      if (depth >= MAX_DEPTH) {
        return;
      }
      for (Nested n : nested) {
        FieldDescriptor f = n.field();
        if (f.isRepeated()) {
          int count = m.getRepeatedFieldCount(f);
          for (int i = 0; i < count; i++) {
            n.plan().collect((Message) m.getRepeatedField(f, i), facts, depth + 1);
          }
        } else if (m.hasField(f)) {
          n.plan().collect((Message) m.getField(f), facts, depth + 1);
        }
      }
    }

    private static void add(@Nullable Object value, CallFacts facts) {
      if (value instanceof String s && !s.isEmpty()) {
        facts.addPatient(s);
      }
    }
  }
}
