package dev.hipaagrpc.auth.authz;

import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.hipaagrpc.auth.authz.proto.PolicyProto;
import dev.hipaagrpc.core.CallFacts;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Finds the patients a response names: every string field marked {@code
 * (hipaagrpc.auth.authz.patient_id)} anywhere in the response message — nested, repeated, map
 * values and recursive structures included (for example a search returning several patients) — so
 * that audit attributes the call to each of them.
 *
 * <p>Plans are compiled once per message type, all types reachable from a response at once: a type
 * that can reach no marked field costs nothing at run time, and a type shared by many paths is
 * compiled once (no blow-up on schemas that reuse types). Runtime descent is bounded by {@value
 * #MAX_DEPTH} levels.
 */
final class ResponsePatients {

  /** Nesting followed at run time; deeper structures are not searched. */
  private static final int MAX_DEPTH = 32;

  private static final int CACHE_BOUND = 10_000;
  private static final ConcurrentMap<Descriptor, Plan> PLANS = new ConcurrentHashMap<>();
  private static final Plan NONE = new Plan();

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
    if (p != null) {
      return p;
    }
    synchronized (PLANS) {
      p = PLANS.get(type);
      if (p == null) {
        compileFrom(type);
        p = PLANS.getOrDefault(type, NONE);
      }
      return p;
    }
  }

  /** Compiles plans for {@code root} and every message type reachable from it. */
  private static void compileFrom(Descriptor root) {
    // 1. Every type reachable from the root, with its message-typed fields.
    Set<Descriptor> types = new LinkedHashSet<>();
    Deque<Descriptor> todo = new ArrayDeque<>();
    todo.add(root);
    while (!todo.isEmpty()) {
      Descriptor t = todo.pop();
      if (PLANS.containsKey(t) || !types.add(t)) {
        continue;
      }
      for (FieldDescriptor f : t.getFields()) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          todo.add(f.getMessageType()); // map fields: their entry type, whose value field leads on
        }
      }
    }
    // 2. Which of them can reach a marked field (fixpoint; cycles are fine).
    Map<Descriptor, Boolean> reaches = new HashMap<>();
    for (Descriptor t : types) {
      reaches.put(t, hasMarked(t));
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Descriptor t : types) {
        if (Boolean.TRUE.equals(reaches.get(t))) {
          continue;
        }
        for (FieldDescriptor f : t.getFields()) {
          if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && reachesPatient(f, reaches)) {
            reaches.put(t, true);
            changed = true;
            break;
          }
        }
      }
    }
    // 3. One plan per type that reaches; references between plans may form cycles.
    Map<Descriptor, Plan> built = new HashMap<>();
    for (Descriptor t : types) {
      if (Boolean.TRUE.equals(reaches.get(t))) {
        built.put(t, new Plan());
      }
    }
    for (Map.Entry<Descriptor, Plan> e : built.entrySet()) {
      List<FieldDescriptor> marked = new ArrayList<>();
      List<FieldDescriptor> nestedFields = new ArrayList<>();
      List<Plan> nestedPlans = new ArrayList<>();
      for (FieldDescriptor f : e.getKey().getFields()) {
        if (f.getJavaType() == FieldDescriptor.JavaType.STRING && isMarked(f)) {
          marked.add(f);
        } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          Plan inner = built.get(f.getMessageType());
          if (inner == null) {
            inner = PLANS.get(f.getMessageType()); // compiled earlier from another root
          }
          if (inner != null && inner != NONE) {
            nestedFields.add(f);
            nestedPlans.add(inner);
          }
        }
      }
      e.getValue().fill(marked, nestedFields, nestedPlans);
    }
    if (PLANS.size() < CACHE_BOUND) { // bounded: types come from the server's own services
      for (Descriptor t : types) {
        PLANS.put(t, built.getOrDefault(t, NONE));
      }
    }
  }

  private static boolean reachesPatient(FieldDescriptor f, Map<Descriptor, Boolean> reaches) {
    Boolean local = reaches.get(f.getMessageType());
    if (local != null) {
      return local;
    }
    Plan known = PLANS.get(f.getMessageType());
    return known != null && known != NONE;
  }

  private static boolean hasMarked(Descriptor t) {
    for (FieldDescriptor f : t.getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.STRING && isMarked(f)) {
        return true;
      }
    }
    return false;
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

  /** What to read in one message type. Filled once, before it is published; then immutable. */
  private static final class Plan {
    private FieldDescriptor[] marked = new FieldDescriptor[0];
    private FieldDescriptor[] nestedFields = new FieldDescriptor[0];
    private Plan[] nestedPlans = new Plan[0];

    void fill(List<FieldDescriptor> m, List<FieldDescriptor> nf, List<Plan> np) {
      marked = m.toArray(new FieldDescriptor[0]);
      nestedFields = nf.toArray(new FieldDescriptor[0]);
      nestedPlans = np.toArray(new Plan[0]);
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
      for (int k = 0; k < nestedFields.length; k++) {
        FieldDescriptor f = nestedFields[k];
        Plan plan = nestedPlans[k];
        if (f.isRepeated()) {
          int count = m.getRepeatedFieldCount(f);
          for (int i = 0; i < count; i++) {
            plan.collect((Message) m.getRepeatedField(f, i), facts, depth + 1);
          }
        } else if (m.hasField(f)) {
          plan.collect((Message) m.getField(f), facts, depth + 1);
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
