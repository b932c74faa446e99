package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.proto.Action;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One parsed SMART on FHIR resource scope, v1 ({@code patient/*.read}) or v2 ({@code
 * patient/Observation.rs}).
 *
 * <p>Scopes that do not start with {@code patient/}, {@code user/} or {@code system/} ({@code
 * openid}, {@code launch/patient}, ...) are not resource scopes and parse to {@code null}. Scopes
 * that start like one but do not parse are {@link #MALFORMED}: they grant nothing.
 *
 * <p>A v2 scope may end in a query, {@code ?name=value(&name=value)*} (SMART App Launch 2.x
 * granular scopes, e.g. {@code patient/Observation.rs?category=http://terminology.hl7.org/
 * CodeSystem/observation-category|laboratory}). Such a scope grants a call only when every value
 * the request carries in the fields declared for each of its parameters matches ({@link
 * #grantsValues}); a value may list alternatives separated by commas (FHIR's OR). Parameter names
 * are {@code [a-z][a-z0-9-]*} (no modifiers such as {@code :not}); values are taken literally (no
 * percent-decoding); a parameter named twice, an empty value, or anything else is {@link
 * #MALFORMED}.
 *
 * <p>An {@link Action} maps to one SMART permission: CREATE c, READ r, UPDATE u, DELETE d, SEARCH
 * s. EXECUTE, EXPORT and an unspecified action have none, so no SMART scope grants them.
 */
final class SmartScope {

  enum Context {
    PATIENT,
    USER,
    SYSTEM
  }

  static final int CREATE = 1;
  static final int READ = 2;
  static final int UPDATE = 4;
  static final int DELETE = 8;
  static final int SEARCH = 16;
  static final int ALL = CREATE | READ | UPDATE | DELETE | SEARCH;

  /** Some patient/ scope grants the method's action on its resource. */
  static final int GRANTS_PATIENT = 1;

  /** Some user/ or system/ scope grants it. */
  static final int GRANTS_OTHER = 2;

  /** The caller holds a valid patient/ scope (for any resource). */
  static final int HOLDS_PATIENT = 4;

  /** The caller holds a valid user/ or system/ scope (for any resource). */
  static final int HOLDS_OTHER = 8;

  /** Some granular scope would grant the action on the resource, depending on the request. */
  static final int GRANTS_IF_VALUES_MATCH = 16;

  /** Grants nothing; stands for every scope that looks like a resource scope but is not valid. */
  static final SmartScope MALFORMED = new SmartScope(Context.PATIENT, "", 0, Map.of());

  private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
  private static final Pattern PARAMETER = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  private static final int CACHE_LIMIT = 4096;

  // Scope strings repeat across callers; parsing each once keeps the per-call cost to a lookup.
  // Bounded: past the limit new strings are parsed on every call instead of being cached.
  private static final ConcurrentHashMap<String, SmartScope> CACHE = new ConcurrentHashMap<>();
  private static final SmartScope NOT_SMART = new SmartScope(Context.USER, "", 0, Map.of());

  final Context context;
  final String resource;
  final int permissions;

  /** The query of a granular scope: each parameter's accepted values; empty for a plain scope. */
  final Map<String, Set<String>> parameters;

  private SmartScope(
      Context context, String resource, int permissions, Map<String, Set<String>> parameters) {
    this.context = context;
    this.resource = resource;
    this.permissions = permissions;
    this.parameters = parameters;
  }

  /** Returns the parsed scope, {@link #MALFORMED}, or {@code null} for a non-resource scope. */
  static @Nullable SmartScope of(String scope) {
    SmartScope parsed = CACHE.get(scope);
    if (parsed == null) {
      parsed = parse(scope);
      if (CACHE.size() < CACHE_LIMIT && scope.length() <= 256) {
        CACHE.putIfAbsent(scope, parsed);
      }
    }
    return parsed == NOT_SMART ? null : parsed;
  }

  /** The SMART permission bit of {@code action}, or 0 when no SMART permission names it. */
  static int permission(Action action) {
    return switch (action) {
      case CREATE -> CREATE;
      case READ -> READ;
      case UPDATE -> UPDATE;
      case DELETE -> DELETE;
      case SEARCH -> SEARCH;
      default -> 0;
    };
  }

  /**
   * Whether this scope's resource and permissions cover {@code permission} (one of the bit
   * constants) on the type; for a granular scope the request's values must match too.
   */
  boolean covers(String resourceType, int permission) {
    return (permissions & permission) != 0
        && (resource.equals("*") || resource.equals(resourceType));
  }

  /**
   * Whether this granular scope's query admits the request: for each of its parameters the method
   * declares a field ({@code values} holds its name) carrying at least one value, and each value
   * matches one of the parameter's accepted tokens.
   */
  boolean grantsValues(Map<String, List<String>> values) {
    for (Map.Entry<String, Set<String>> p : parameters.entrySet()) {
      List<String> requested = values.get(p.getKey());
      if (requested == null || requested.isEmpty()) {
        return false; // not restricted by the request: it would ask for every value
      }
      for (String value : requested) {
        if (!tokenMatches(p.getValue(), value)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * FHIR token search semantics: {@code system|code} matches exactly that, {@code |code} a code
   * without a system, and a bare {@code code} that code in any system.
   */
  private static boolean tokenMatches(Set<String> accepted, String value) {
    int firstBar = value.indexOf('|');
    if (value.indexOf(',') >= 0 || (firstBar >= 0 && firstBar != value.lastIndexOf('|'))) {
      // One token per value: a backend passing "a,b" or "x|y|code" on to a FHIR server would
      // read several (comma is FHIR's OR), so such a value matches nothing.
      return false;
    }
    if (accepted.contains(value)) {
      return true;
    }
    int bar = value.lastIndexOf('|');
    return bar > 0 && accepted.contains(value.substring(bar + 1));
  }

  /**
   * Which contexts' granular scopes admit the request ({@link #GRANTS_PATIENT}, {@link
   * #GRANTS_OTHER}); {@code values} holds the request's values per declared parameter.
   */
  static int evaluateValues(
      Principal principal, String resource, int permission, Map<String, List<String>> values) {
    int result = 0;
    for (String s : principal.scopes()) {
      SmartScope scope = of(s);
      if (scope != null
          && scope != MALFORMED
          && !scope.parameters.isEmpty()
          && scope.covers(resource, permission)
          && scope.grantsValues(values)) {
        result |= scope.context == Context.PATIENT ? GRANTS_PATIENT : GRANTS_OTHER;
      }
    }
    return result;
  }

  /**
   * What the caller's scopes say about one method: {@link #GRANTS_PATIENT}, {@link #GRANTS_OTHER},
   * {@link #HOLDS_PATIENT} and {@link #HOLDS_OTHER} bits. Only {@code HOLDS_} bits when {@code
   * resource} is null (the method declares no FHIR resource).
   */
  static int evaluate(Principal principal, @Nullable String resource, int permission) {
    int result = 0;
    for (String s : principal.scopes()) {
      SmartScope scope = of(s);
      if (scope == null || scope == MALFORMED) {
        continue;
      }
      boolean patient = scope.context == Context.PATIENT;
      result |= patient ? HOLDS_PATIENT : HOLDS_OTHER;
      if (resource != null && scope.covers(resource, permission)) {
        result |=
            !scope.parameters.isEmpty()
                ? GRANTS_IF_VALUES_MATCH
                : patient ? GRANTS_PATIENT : GRANTS_OTHER;
      }
    }
    return result;
  }

  private static SmartScope parse(String scope) {
    int slash = scope.indexOf('/');
    if (slash < 0) {
      return NOT_SMART;
    }
    Context context =
        switch (scope.substring(0, slash)) {
          case "patient" -> Context.PATIENT;
          case "user" -> Context.USER;
          case "system" -> Context.SYSTEM;
          default -> null;
        };
    if (context == null) {
      return NOT_SMART;
    }
    String rest = scope.substring(slash + 1);
    Map<String, Set<String>> parameters = Map.of();
    int question = rest.indexOf('?');
    if (question >= 0) {
      parameters = query(rest.substring(question + 1));
      if (parameters == null) {
        return MALFORMED;
      }
      rest = rest.substring(0, question);
    }
    int dot = rest.indexOf('.');
    if (dot <= 0 || rest.indexOf('.', dot + 1) >= 0) {
      return MALFORMED;
    }
    String resource = rest.substring(0, dot);
    if (!resource.equals("*") && !RESOURCE_TYPE.matcher(resource).matches()) {
      return MALFORMED;
    }
    String letters = rest.substring(dot + 1);
    boolean v1 = letters.equals("read") || letters.equals("write") || letters.equals("*");
    if (!parameters.isEmpty() && v1) {
      return MALFORMED; // queries are a SMART v2 feature
    }
    int permissions = permissions(letters);
    return permissions == 0
        ? MALFORMED
        : new SmartScope(context, resource, permissions, parameters);
  }

  /** Parses {@code name=value(&name=value)*}; null when it is not that. */
  private static @Nullable Map<String, Set<String>> query(String q) {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (String pair : q.split("&", -1)) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        return null;
      }
      String name = pair.substring(0, eq);
      if (!PARAMETER.matcher(name).matches() || out.containsKey(name)) {
        return null;
      }
      Set<String> alternatives = new LinkedHashSet<>();
      for (String v : pair.substring(eq + 1).split(",", -1)) {
        if (v.isEmpty() || v.endsWith("|")) {
          return null;
        }
        alternatives.add(v);
      }
      out.put(name, Set.copyOf(alternatives));
    }
    return out.isEmpty() ? null : Map.copyOf(out);
  }

  private static int permissions(String p) {
    // v1
    if (p.equals("read")) {
      return READ | SEARCH;
    }
    if (p.equals("write")) {
      return CREATE | UPDATE | DELETE;
    }
    if (p.equals("*")) {
      return ALL;
    }
    // v2: a non-empty subsequence of "cruds", in that order, each letter at most once.
    String order = "cruds";
    int[] bits = {CREATE, READ, UPDATE, DELETE, SEARCH};
    int result = 0;
    int next = 0;
    for (int i = 0; i < p.length(); i++) {
      int at = order.indexOf(p.charAt(i), next);
      if (at < 0) {
        return 0;
      }
      result |= bits[at];
      next = at + 1;
    }
    return result;
  }
}
