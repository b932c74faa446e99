package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.proto.Action;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One parsed SMART on FHIR resource scope, v1 ({@code patient/*.read}) or v2 ({@code
 * patient/Observation.rs}).
 *
 * <p>Scopes that do not start with {@code patient/}, {@code user/} or {@code system/} ({@code
 * openid}, {@code launch/patient}, ...) are not resource scopes and parse to {@code null}. Scopes
 * that start like one but do not parse, and v2 scopes with a query ({@code ?category=...}, whose
 * restriction this library cannot enforce), are {@link #MALFORMED}: they grant nothing.
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

  /** Grants nothing; stands for every scope that looks like a resource scope but is not valid. */
  static final SmartScope MALFORMED = new SmartScope(Context.PATIENT, "", 0);

  private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
  private static final int CACHE_LIMIT = 4096;

  // Scope strings repeat across callers; parsing each once keeps the per-call cost to a lookup.
  // Bounded: past the limit new strings are parsed on every call instead of being cached.
  private static final ConcurrentHashMap<String, SmartScope> CACHE = new ConcurrentHashMap<>();
  private static final SmartScope NOT_SMART = new SmartScope(Context.USER, "", 0);

  final Context context;
  final String resource;
  final int permissions;

  private SmartScope(Context context, String resource, int permissions) {
    this.context = context;
    this.resource = resource;
    this.permissions = permissions;
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

  /** Whether this scope grants {@code permission} (one of the bit constants) on the type. */
  boolean grants(String resourceType, int permission) {
    return (permissions & permission) != 0
        && (resource.equals("*") || resource.equals(resourceType));
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
      if (resource != null && scope.grants(resource, permission)) {
        result |= patient ? GRANTS_PATIENT : GRANTS_OTHER;
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
    int dot = rest.indexOf('.');
    if (dot <= 0 || rest.indexOf('.', dot + 1) >= 0 || rest.indexOf('?') >= 0) {
      return MALFORMED;
    }
    String resource = rest.substring(0, dot);
    if (!resource.equals("*") && !RESOURCE_TYPE.matcher(resource).matches()) {
      return MALFORMED;
    }
    int permissions = permissions(rest.substring(dot + 1));
    return permissions == 0 ? MALFORMED : new SmartScope(context, resource, permissions);
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
