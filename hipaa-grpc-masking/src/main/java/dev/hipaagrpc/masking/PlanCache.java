package dev.hipaagrpc.masking;

import com.google.protobuf.Descriptors.Descriptor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One compiled plan per message type, for the redactor's masking plans and the write rules alike.
 *
 * <p>Reads are lock-free: the cache is an immutable map behind a volatile reference; a miss
 * compiles under a lock into a copy of the map (with every type reachable from the new one) and
 * publishes the copy. The compiler puts a plan in the working map before compiling its fields, so
 * recursive types terminate; {@code settle} then decides, over every plan the miss created, which
 * have work (a fixpoint). A compilation that throws publishes nothing.
 */
final class PlanCache<P> {

  /** Compiles {@code type}, registering it (and what it reaches) in {@code working}/created. */
  interface Compile<P> {
    P compile(Descriptor type, Map<Descriptor, P> working, List<P> created);
  }

  private final Compile<P> compile;
  private final Consumer<List<P>> settle;
  private volatile Map<Descriptor, P> plans = Collections.emptyMap();

  PlanCache(Compile<P> compile, Consumer<List<P>> settle) {
    this.compile = compile;
    this.settle = settle;
  }

  P get(Descriptor type) {
    P plan = plans.get(type);
    if (plan != null) {
      return plan;
    }
    synchronized (this) {
      plan = plans.get(type);
      if (plan != null) {
        return plan;
      }
      Map<Descriptor, P> working = new HashMap<>(plans);
      List<P> created = new ArrayList<>();
      P result = compile.compile(type, working, created);
      settle.accept(created);
      plans = Collections.unmodifiableMap(working);
      return result;
    }
  }
}
