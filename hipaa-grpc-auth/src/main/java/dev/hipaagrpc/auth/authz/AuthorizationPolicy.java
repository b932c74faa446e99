package dev.hipaagrpc.auth.authz;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.auth.authz.proto.BreakGlass;
import dev.hipaagrpc.auth.authz.proto.CallerKind;
import dev.hipaagrpc.auth.authz.proto.Effect;
import dev.hipaagrpc.auth.authz.proto.MethodSpec;
import dev.hipaagrpc.auth.authz.proto.Policy;
import dev.hipaagrpc.auth.authz.proto.Rule;
import dev.hipaagrpc.auth.authz.proto.SearchParamField;
import dev.hipaagrpc.core.proto.Action;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * A versioned, default-deny authorization policy: allow and deny rules on methods and services,
 * what each method does (FHIR resource and action, patient and tenant request fields), and who may
 * use emergency access.
 *
 * <p>The model is the {@code hipaagrpc.auth.authz.Policy} message of {@code
 * hipaagrpc/auth/authz/policy.proto} (shipped in this jar). State it in code with {@link
 * #newBuilder}, or in a file in protobuf text format or JSON with {@link #fromFile}, {@link
 * #parseTextFormat} or {@link #parseJson}; give it to {@link AuthorizationServerInterceptor}. A
 * policy is validated when it is created: an invalid policy never exists.
 *
 * <pre>{@code
 * AuthorizationPolicy policy = AuthorizationPolicy.newBuilder("2026-11-23.1")
 *     .rule(AuthorizationPolicy.allow("nurses-read-obs")
 *         .methods("clinic.Observations/*").anyRole("nurse").purposes("TREAT"))
 *     .rule(AuthorizationPolicy.deny("no-contractors").methods("clinic.Admin/*")
 *         .anyRole("contractor"))
 *     .method(AuthorizationPolicy.method("clinic.Observations/Get")
 *         .fhir("Observation", Action.READ).patientField("patient_id"))
 *     .breakGlass(List.of("physician"), List.of(), List.of("EMERGENCY", "CODE_BLUE"))
 *     .build();
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AuthorizationPolicy {

  private final Policy proto;

  private AuthorizationPolicy(Policy proto) {
    this.proto = proto;
  }

  /**
   * Starts a policy.
   *
   * @param version reported with every decision this policy makes (e.g. a date or a git hash); not
   *     blank
   */
  public static Builder newBuilder(String version) {
    return new Builder(requireNonNull(version, "version"));
  }

  /** Starts an ALLOW rule with a unique id. */
  public static RuleBuilder allow(String id) {
    return new RuleBuilder(requireNonNull(id, "id"), Effect.ALLOW);
  }

  /** Starts a DENY rule with a unique id; a matching deny rule wins over every allow rule. */
  public static RuleBuilder deny(String id) {
    return new RuleBuilder(requireNonNull(id, "id"), Effect.DENY);
  }

  /**
   * Starts declaring what a method does.
   *
   * @param fullMethodName {@code pkg.Service/Method}
   */
  public static MethodBuilder method(String fullMethodName) {
    return new MethodBuilder(requireNonNull(fullMethodName, "fullMethodName"));
  }

  /**
   * Returns the policy a {@code hipaagrpc.auth.authz.Policy} message states.
   *
   * @throws IllegalArgumentException if the policy is invalid; the message says which part
   */
  public static AuthorizationPolicy fromProto(Policy policy) {
    requireNonNull(policy, "policy");
    PolicyCompiler.validate(policy);
    return new AuthorizationPolicy(policy);
  }

  /**
   * Parses a policy in protobuf text format.
   *
   * @throws IllegalArgumentException if the text does not parse or the policy is invalid
   */
  public static AuthorizationPolicy parseTextFormat(String text) {
    requireNonNull(text, "text");
    return fromProto(parseText(text));
  }

  /**
   * Parses a policy in protobuf JSON format; unknown fields are refused.
   *
   * @throws IllegalArgumentException if the JSON does not parse or the policy is invalid
   */
  public static AuthorizationPolicy parseJson(String json) {
    requireNonNull(json, "json");
    return fromProto(parseJsonPolicy(json));
  }

  /**
   * Reads a policy file: JSON when the name ends in {@code .json}, protobuf text format otherwise.
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if it does not parse or the policy is invalid
   */
  public static AuthorizationPolicy fromFile(Path file) throws IOException {
    requireNonNull(file, "file");
    return fromProto(parseFile(file, Files.readAllBytes(file)));
  }

  /** The version string reported with every decision. */
  public String version() {
    return proto.getVersion();
  }

  /** The policy as a {@code hipaagrpc.auth.authz.Policy} message (e.g. to write it to a file). */
  public Policy toProto() {
    return proto;
  }

  /** Prints the version and the number of rules. */
  @Override
  public String toString() {
    return "AuthorizationPolicy{version="
        + proto.getVersion()
        + ", rules="
        + proto.getRulesCount()
        + "}";
  }

  static Policy parseFile(Path file, byte[] content) {
    String text = new String(content, StandardCharsets.UTF_8);
    String name = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
    return name.endsWith(".json") ? parseJsonPolicy(text) : parseText(text);
  }

  private static Policy parseText(String text) {
    Policy.Builder b = Policy.newBuilder();
    try {
      TextFormat.getParser().merge(text, b);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException("policy text format: " + e.getMessage(), e);
    }
    return b.build();
  }

  private static Policy parseJsonPolicy(String json) {
    Policy.Builder b = Policy.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalArgumentException("policy JSON: " + e.getMessage(), e);
    }
    return b.build();
  }

  /** Builds an {@link AuthorizationPolicy}. Not thread-safe. */
  public static final class Builder {
    private final Policy.Builder proto = Policy.newBuilder();

    private Builder(String version) {
      proto.setVersion(version);
    }

    /** Adds a rule; rules keep the order added (the first matching allow rule is reported). */
    public Builder rule(RuleBuilder rule) {
      proto.addRules(requireNonNull(rule, "rule").proto.build());
      return this;
    }

    /** Declares what a method does (FHIR resource and action, patient and tenant fields). */
    public Builder method(MethodBuilder method) {
      proto.addMethods(requireNonNull(method, "method").proto.build());
      return this;
    }

    /**
     * Configures emergency access: callers holding any of {@code roles} or {@code scopes} may use
     * break-glass on methods whose allow rule permits it, by sending one of {@code reasons} in
     * {@code x-break-glass-reason}. Default: nobody.
     */
    public Builder breakGlass(
        Iterable<String> roles, Iterable<String> scopes, Iterable<String> reasons) {
      proto.setBreakGlass(
          BreakGlass.newBuilder()
              .addAllRoles(requireNonNull(roles, "roles"))
              .addAllScopes(requireNonNull(scopes, "scopes"))
              .addAllReasons(requireNonNull(reasons, "reasons")));
      return this;
    }

    /**
     * Returns the validated policy.
     *
     * @throws IllegalStateException if the policy is invalid; the message names the rule or method
     *     to fix
     */
    public AuthorizationPolicy build() {
      Policy policy = proto.build();
      try {
        PolicyCompiler.validate(policy);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("invalid policy: " + e.getMessage(), e);
      }
      return new AuthorizationPolicy(policy);
    }
  }

  /**
   * One rule of a policy. Every condition set must hold; unset conditions match every caller. Not
   * thread-safe.
   */
  public static final class RuleBuilder {
    private final Rule.Builder proto;

    private RuleBuilder(String id, Effect effect) {
      proto = Rule.newBuilder().setId(id).setEffect(effect);
    }

    /** Methods ({@code pkg.Service/Method}) or whole services ({@code pkg.Service/*}). */
    public RuleBuilder methods(String... methods) {
      proto.addAllMethods(Arrays.asList(methods));
      return this;
    }

    /** The caller holds at least one of these roles. */
    public RuleBuilder anyRole(String... roles) {
      proto.addAllRoles(Arrays.asList(roles));
      return this;
    }

    /** The caller holds every one of these scopes. */
    public RuleBuilder requireScopes(String... scopes) {
      proto.addAllScopes(Arrays.asList(scopes));
      return this;
    }

    /** The caller is of this kind: {@code USER} or {@code SERVICE}. Default: any. */
    public RuleBuilder callerKind(CallerKind kind) {
      proto.setCallerKind(requireNonNull(kind, "kind"));
      return this;
    }

    /** The calling service's SPIFFE ID is one of these: exact, or a prefix ending in {@code /*}. */
    public RuleBuilder spiffeIds(String... patterns) {
      proto.addAllSpiffeIds(Arrays.asList(patterns));
      return this;
    }

    /** The caller declared one of these HL7 PurposeOfUse codes. */
    public RuleBuilder purposes(String... codes) {
      proto.addAllPurposes(Arrays.asList(codes));
      return this;
    }

    /** Allow rules only: break-glass may reach this rule's methods. Default: no. */
    public RuleBuilder allowBreakGlass() {
      proto.setAllowBreakGlass(true);
      return this;
    }
  }

  /**
   * What one method does. Each part is optional; the same method may also be declared by proto
   * options, provided the declarations agree. Not thread-safe.
   */
  public static final class MethodBuilder {
    private final MethodSpec.Builder proto;

    private MethodBuilder(String fullMethodName) {
      proto = MethodSpec.newBuilder().setMethod(fullMethodName);
    }

    /**
     * The FHIR resource type the method acts on and the action it performs on it; the caller's
     * SMART on FHIR scopes must then grant that action (CREATE c, READ r, UPDATE u, DELETE d,
     * SEARCH s; no SMART scope grants EXECUTE or EXPORT). When the rpc also declares {@code
     * (hipaagrpc.core.action)} and its service is read with {@code methodOptionsFrom}, the two must
     * agree. Default: none.
     */
    public MethodBuilder fhir(String resourceType, Action action) {
      proto.setFhirResource(requireNonNull(resourceType, "resourceType"));
      proto.setAction(requireNonNull(action, "action"));
      return this;
    }

    /**
     * Path of the request's string field holding the patient id ({@code patient_id}, {@code
     * subject.id}). Default: none.
     */
    public MethodBuilder patientField(String path) {
      proto.setPatientField(requireNonNull(path, "path"));
      return this;
    }

    /**
     * Declares that the request field at {@code path} (string, singular or repeated) carries the
     * value(s) of the FHIR search parameter {@code name} of the method's resource, in token form
     * ({@code system|code}, {@code code} or {@code |code}). A SMART v2 granular scope such as
     * {@code patient/Observation.rs?category=...|laboratory} then grants the call only when every
     * value there matches; an unset or empty field asks for everything and is not granted by it.
     * Requires {@link #fhir}. Same as the {@code (hipaagrpc.auth.authz.search_param)} field option.
     * Default: none (granular scopes grant the method nothing).
     */
    public MethodBuilder searchParamField(String name, String path) {
      proto.addSearchParams(
          SearchParamField.newBuilder()
              .setName(requireNonNull(name, "name"))
              .setField(requireNonNull(path, "path")));
      return this;
    }

    /** Path of the request's string field holding the tenant. Default: none. */
    public MethodBuilder tenantField(String path) {
      proto.setTenantField(requireNonNull(path, "path"));
      return this;
    }

    /**
     * Step-up authentication for users (RFC 9470): the token's {@code acr} must be one of {@code
     * acrValues} (none: not checked). Services are not subject to step-up. Default: none.
     */
    public MethodBuilder requireAcr(String... acrValues) {
      proto.getStepUpBuilder().addAllAcrValues(java.util.List.of(acrValues));
      return this;
    }

    /**
     * Step-up for users: the token's {@code amr} must contain every one of {@code methods} (RFC
     * 8176, e.g. {@code mfa}, {@code hwk}). Default: none.
     */
    public MethodBuilder requireAmr(String... methods) {
      proto.getStepUpBuilder().addAllAmr(java.util.List.of(methods));
      return this;
    }

    /**
     * Step-up for users: the user authenticated ({@code auth_time}) at most {@code maxAge} ago; a
     * token without {@code auth_time} fails. Whole seconds, at least one. Default: not checked.
     */
    public MethodBuilder maxAuthenticationAge(java.time.Duration maxAge) {
      requireNonNull(maxAge, "maxAge");
      if (maxAge.toSeconds() < 1) {
        throw new IllegalArgumentException("maxAge must be at least one second");
      }
      proto.getStepUpBuilder().setMaxAuthAgeSeconds(maxAge.toSeconds());
      return this;
    }
  }
}
