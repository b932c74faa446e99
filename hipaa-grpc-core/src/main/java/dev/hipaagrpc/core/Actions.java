package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.UnknownFieldSet;
import dev.hipaagrpc.core.proto.Action;
import dev.hipaagrpc.core.proto.ActionProto;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The {@link Action} of a method: what authorization checks SMART scopes against and what audit
 * records, from one {@code (hipaagrpc.core.action)} method option.
 *
 * <p>{@link #declared} returns the option alone, for decisions that must not guess (SMART scopes
 * grant nothing to a method without one). {@link #of} falls back to a naming rule for the record of
 * a call: the first word of the method name (up to the next capital letter or underscore) picks
 * create ({@code Create, Add, Insert, Register, Post, New, Submit, Upload}), search ({@code Search,
 * List, Find, Query, Browse}), read ({@code Get, Read, Fetch, Lookup, Watch, Describe, Download,
 * Export, Stream, Retrieve, View, Check}), update ({@code Update, Patch, Put, Set, Modify, Replace,
 * Upsert, Edit, Change, Amend, Merge}) or delete ({@code Delete, Remove, Purge, Erase, Destroy,
 * Revoke, Cancel}); anything else is execute.
 *
 * <p>Results are cached per full method name (bounded: names come from the server's own services).
 * Thread-safe.
 */
public final class Actions {

  private static final List<String> CREATE =
      List.of("create", "add", "insert", "register", "post", "new", "submit", "upload");
  private static final List<String> SEARCH = List.of("search", "list", "find", "query", "browse");
  private static final List<String> READ =
      List.of(
          "get",
          "read",
          "fetch",
          "lookup",
          "watch",
          "describe",
          "download",
          "export",
          "stream",
          "retrieve",
          "view",
          "check");
  private static final List<String> UPDATE =
      List.of(
          "update", "patch", "put", "set", "modify", "replace", "upsert", "edit", "change", "amend",
          "merge");
  private static final List<String> DELETE =
      List.of("delete", "remove", "purge", "erase", "destroy", "revoke", "cancel");

  private static final int CACHE_BOUND = 10_000;
  private static final ConcurrentMap<String, Action> DECLARED = new ConcurrentHashMap<>();
  private static final ConcurrentMap<String, Action> EFFECTIVE = new ConcurrentHashMap<>();

  private Actions() {}

  /**
   * The method's {@code (hipaagrpc.core.action)} option, or {@link Action#ACTION_UNSPECIFIED} when
   * it has none or its stub carries no proto descriptor.
   */
  public static Action declared(MethodDescriptor<?, ?> method) {
    requireNonNull(method, "method");
    Action cached = DECLARED.get(method.getFullMethodName());
    if (cached != null) {
      return cached;
    }
    Action action = Action.ACTION_UNSPECIFIED;
    if (method.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier supplier) {
      action = declared(supplier.getMethodDescriptor().getOptions());
    }
    return remember(DECLARED, method.getFullMethodName(), action);
  }

  /** The {@code (hipaagrpc.core.action)} option in {@code options}, or ACTION_UNSPECIFIED. */
  public static Action declared(DescriptorProtos.MethodOptions options) {
    requireNonNull(options, "options");
    int number;
    if (options.hasExtension(ActionProto.action)) {
      number = options.getExtension(ActionProto.action).getNumber();
    } else {
      // Options parsed before our extension was registered keep it as an unknown field.
      UnknownFieldSet unknown = options.getUnknownFields();
      if (!unknown.hasField(ActionProto.ACTION_FIELD_NUMBER)) {
        return Action.ACTION_UNSPECIFIED;
      }
      List<Long> varints = unknown.getField(ActionProto.ACTION_FIELD_NUMBER).getVarintList();
      if (varints.isEmpty()) {
        return Action.ACTION_UNSPECIFIED;
      }
      number = varints.get(varints.size() - 1).intValue();
    }
    Action a = Action.forNumber(number);
    return a == null ? Action.ACTION_UNSPECIFIED : a;
  }

  /** The declared action, else the naming rule's; never ACTION_UNSPECIFIED. */
  public static Action of(MethodDescriptor<?, ?> method) {
    requireNonNull(method, "method");
    Action cached = EFFECTIVE.get(method.getFullMethodName());
    if (cached != null) {
      return cached;
    }
    Action action = declared(method);
    if (action == Action.ACTION_UNSPECIFIED) {
      action = namingRule(method.getBareMethodName());
    }
    return remember(EFFECTIVE, method.getFullMethodName(), action);
  }

  /** The action's lower-case code as recorded in audit events: {@code read}, {@code search}… */
  public static String code(Action action) {
    requireNonNull(action, "action");
    if (action == Action.ACTION_UNSPECIFIED || action == Action.UNRECOGNIZED) {
      return "execute";
    }
    return action.name().toLowerCase(Locale.ROOT);
  }

  static Action namingRule(@org.jspecify.annotations.Nullable String bare) {
    if (bare == null || bare.isEmpty()) {
      return Action.EXECUTE;
    }
    int end = 1;
    while (end < bare.length() && Character.isLowerCase(bare.charAt(end))) {
      end++;
    }
    String word = bare.substring(0, end).toLowerCase(Locale.ROOT);
    if (CREATE.contains(word)) {
      return Action.CREATE;
    }
    if (SEARCH.contains(word)) {
      return Action.SEARCH;
    }
    if (READ.contains(word)) {
      return Action.READ;
    }
    if (UPDATE.contains(word)) {
      return Action.UPDATE;
    }
    if (DELETE.contains(word)) {
      return Action.DELETE;
    }
    return Action.EXECUTE;
  }

  private static Action remember(ConcurrentMap<String, Action> cache, String name, Action a) {
    if (cache.size() < CACHE_BOUND) {
      cache.put(name, a);
    }
    return a;
  }
}
