package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.core.internal.Checks.requireNonBlank;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.hipaagrpc.auth.authz.proto.Access;
import dev.hipaagrpc.auth.authz.proto.BreakGlass;
import dev.hipaagrpc.auth.authz.proto.CallerKind;
import dev.hipaagrpc.auth.authz.proto.Effect;
import dev.hipaagrpc.auth.authz.proto.MethodSpec;
import dev.hipaagrpc.auth.authz.proto.Policy;
import dev.hipaagrpc.auth.authz.proto.PolicyProto;
import dev.hipaagrpc.auth.authz.proto.Rule;
import dev.hipaagrpc.auth.authz.proto.SearchParamField;
import dev.hipaagrpc.auth.authz.proto.StepUp;
import dev.hipaagrpc.core.Actions;
import dev.hipaagrpc.core.internal.MethodPatterns;
import dev.hipaagrpc.core.proto.Action;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Validates policy sources and compiles them into a {@link PolicyPlan}. Every problem is an {@link
 * IllegalArgumentException} whose message names the rule, method or field at fault (policy text is
 * configuration, never PHI).
 */
final class PolicyCompiler {

  private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}");
  private static final Pattern REASON_CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
  private static final Pattern SEARCH_PARAMETER = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  private static final Pattern SPIFFE_ID =
      Pattern.compile("spiffe://[a-z0-9._-]+(/[A-Za-z0-9._~%:@!$&'()+,;=-]+)*(/\\*)?");

  static final ExtensionRegistry REGISTRY = ExtensionRegistry.newInstance();

  static {
    PolicyProto.registerAllExtensions(REGISTRY);
  }

  private PolicyCompiler() {}

  /** A policy together with a label naming where it came from, for error messages. */
  static final class Source {
    final String label;
    final Policy policy;

    Source(String label, Policy policy) {
      this.label = label;
      this.policy = policy;
    }
  }

  private static final class Spec {
    @Nullable String resource;
    Action action = Action.ACTION_UNSPECIFIED;
    @Nullable String patientField;
    @Nullable String tenantField;
    @Nullable StepUpRequirement stepUp;

    /** FHIR search parameter name to request field path, for granular SMART scopes. */
    final Map<String, String> searchParams = new LinkedHashMap<>();

    /** Whether a policy (not only field options) declared search parameters. */
    boolean searchParamsDeclared;

    final @Nullable Descriptor inputType;

    Spec(@Nullable Descriptor inputType) {
      this.inputType = inputType;
    }
  }

  /**
   * Compiles a code policy, a file policy and the method options of {@code services} into one plan,
   * versioned {@code code+file} (or {@code method-options} when neither policy is given).
   */
  static PolicyPlan compile(
      @Nullable Policy code, @Nullable Policy file, List<ServiceDescriptor> services) {
    List<Source> sources = new ArrayList<>();
    List<String> versions = new ArrayList<>();
    if (code != null) {
      sources.add(new Source("code policy", code));
      versions.add(code.getVersion());
    }
    if (file != null) {
      sources.add(new Source("policy file", file));
      versions.add(file.getVersion());
    }
    String version = versions.isEmpty() ? "method-options" : String.join("+", versions);
    return compile(version, sources, services);
  }

  /** Validates one policy alone (used by {@code AuthorizationPolicy.build()} and parsing). */
  static void validate(Policy policy) {
    compile(policy.getVersion(), List.of(new Source("policy", policy)), List.of());
  }

  static PolicyPlan compile(
      String version, List<Source> sources, List<ServiceDescriptor> serviceDescriptors) {
    if (version.isBlank()) {
      throw new IllegalArgumentException("policy version must not be blank");
    }
    Map<String, Descriptors.MethodDescriptor> known = new LinkedHashMap<>();
    // (hipaagrpc.core.action) of described methods: the one place an rpc says what it does.
    Map<String, Action> declaredActions = new HashMap<>();
    Set<String> describedServices = new HashSet<>();
    List<Descriptors.ServiceDescriptor> protoServices = new ArrayList<>();
    for (ServiceDescriptor sd : serviceDescriptors) {
      if (!(sd.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier supplier)) {
        throw new IllegalArgumentException(
            "service " + sd.getName() + " has no protobuf schema descriptor to read options from");
      }
      Descriptors.ServiceDescriptor proto = supplier.getServiceDescriptor();
      if (!describedServices.add(proto.getFullName())) {
        continue;
      }
      protoServices.add(proto);
      for (Descriptors.MethodDescriptor m : proto.getMethods()) {
        known.put(proto.getFullName() + "/" + m.getName(), m);
        Action declared = Actions.declared(m.getOptions());
        if (declared != Action.ACTION_UNSPECIFIED) {
          declaredActions.put(proto.getFullName() + "/" + m.getName(), declared);
        }
      }
    }

    List<PolicyRule> rules = new ArrayList<>();
    Map<PolicyRule, List<String>> ruleMethods = new HashMap<>();
    Set<String> ruleIds = new HashSet<>();
    Map<String, Spec> specs = new LinkedHashMap<>();
    Set<String> bgRoles = new LinkedHashSet<>();
    Set<String> bgScopes = new LinkedHashSet<>();
    Set<String> bgReasons = new LinkedHashSet<>();

    // 1. Method options of the described services, in declaration order.
    for (Descriptors.ServiceDescriptor service : protoServices) {
      for (Descriptors.MethodDescriptor m : service.getMethods()) {
        String full = service.getFullName() + "/" + m.getName();
        String where = "the access option of " + full;
        Access access = accessOption(m);
        if (access != null) {
          Action action = Action.ACTION_UNSPECIFIED;
          if (!access.getFhirResource().isEmpty()) {
            action = declaredActions.getOrDefault(full, Action.ACTION_UNSPECIFIED);
            if (action == Action.ACTION_UNSPECIFIED) {
              throw new IllegalArgumentException(
                  where + ": fhir_resource needs the rpc's (hipaagrpc.core.action) option");
            }
          }
          mergeSpec(specs, known, full, access.getFhirResource(), action, "", "", where);
          mergeStepUp(specs, known, full, access.getStepUp(), where);
          if (!access.getDeclareOnly()) {
            String id = access.getRuleId().isEmpty() ? "option:" + full : access.getRuleId();
            Rule rule =
                Rule.newBuilder()
                    .setId(id)
                    .addMethods(full)
                    .addAllRoles(access.getRolesList())
                    .addAllScopes(access.getScopesList())
                    .setCallerKind(access.getCallerKind())
                    .addAllSpiffeIds(access.getSpiffeIdsList())
                    .addAllPurposes(access.getPurposesList())
                    .setAllowBreakGlass(access.getAllowBreakGlass())
                    .build();
            addRule(rule, version, where, rules, ruleMethods, ruleIds, known, describedServices);
          }
        }
        Map<String, String> params = searchParamFields(m.getInputType());
        if (!params.isEmpty()) {
          mergeSearchParams(
              specs,
              known,
              full,
              params,
              false,
              "the field options of " + m.getInputType().getFullName());
        }
        String patient = markedField(m.getInputType(), PolicyProto.patientId, full, "patient_id");
        String tenant = markedField(m.getInputType(), PolicyProto.tenantId, full, "tenant_id");
        if (!patient.isEmpty() || !tenant.isEmpty()) {
          mergeSpec(
              specs,
              known,
              full,
              "",
              Action.ACTION_UNSPECIFIED,
              patient,
              tenant,
              "the field options of " + m.getInputType().getFullName());
        }
      }
    }

    // 2. Code and file policies, in the order given.
    for (Source source : sources) {
      Policy policy = source.policy;
      if (policy.getVersion().isBlank()) {
        throw new IllegalArgumentException(source.label + ": version must not be blank");
      }
      for (Rule rule : policy.getRulesList()) {
        addRule(
            rule,
            version,
            source.label + " rule '" + rule.getId() + "'",
            rules,
            ruleMethods,
            ruleIds,
            known,
            describedServices);
      }
      for (MethodSpec spec : policy.getMethodsList()) {
        String where = source.label + " method spec '" + spec.getMethod() + "'";
        if (!MethodPatterns.matches(spec.getMethod()) || spec.getMethod().endsWith("/*")) {
          throw new IllegalArgumentException(where + ": method must be a full method name");
        }
        requireKnownIfDescribed(spec.getMethod(), known, describedServices, where);
        mergeSpec(
            specs,
            known,
            spec.getMethod(),
            spec.getFhirResource(),
            specAction(spec, declaredActions.get(spec.getMethod()), where),
            spec.getPatientField(),
            spec.getTenantField(),
            where);
        mergeStepUp(specs, known, spec.getMethod(), spec.getStepUp(), where);
        if (spec.getSearchParamsCount() > 0) {
          Map<String, String> params = new LinkedHashMap<>();
          for (SearchParamField f : spec.getSearchParamsList()) {
            if (params.put(f.getName(), f.getField()) != null) {
              throw new IllegalArgumentException(
                  where + ": search parameter '" + f.getName() + "' declared twice");
            }
          }
          mergeSearchParams(specs, known, spec.getMethod(), params, true, where);
        }
      }
      BreakGlass bg = policy.getBreakGlass();
      for (String role : bg.getRolesList()) {
        bgRoles.add(requireNonBlank(role, source.label + " break_glass role"));
      }
      for (String scope : bg.getScopesList()) {
        bgScopes.add(requireNonBlank(scope, source.label + " break_glass scope"));
      }
      for (String reason : bg.getReasonsList()) {
        if (!REASON_CODE.matcher(reason).matches()) {
          throw new IllegalArgumentException(
              source.label + " break_glass reason '" + reason + "' is not a code " + REASON_CODE);
        }
        bgReasons.add(reason);
      }
    }

    // 3. One plan per known method (exact rules + its service's wildcard rules), and one per
    // wildcard service for methods the policy never named.
    Map<String, List<PolicyRule>> exact = new HashMap<>();
    Map<String, List<PolicyRule>> wildcard = new HashMap<>();
    Set<String> methods = new LinkedHashSet<>(known.keySet());
    methods.addAll(specs.keySet());
    for (PolicyRule rule : rules) {
      for (String m : Objects.requireNonNull(ruleMethods.get(rule))) {
        if (m.endsWith("/*")) {
          wildcard
              .computeIfAbsent(m.substring(0, m.length() - 2), k -> new ArrayList<>())
              .add(rule);
        } else {
          methods.add(m);
          exact.computeIfAbsent(m, k -> new ArrayList<>()).add(rule);
        }
      }
    }
    Map<String, PolicyMethodPlan> byMethod = new HashMap<>();
    for (String m : methods) {
      String service = m.substring(0, m.indexOf('/'));
      List<PolicyRule> applicable = new ArrayList<>(exact.getOrDefault(m, List.of()));
      applicable.addAll(wildcard.getOrDefault(service, List.of()));
      byMethod.put(m, plan(applicable, specs.get(m)));
    }
    Map<String, PolicyMethodPlan> byService = new HashMap<>();
    for (Map.Entry<String, List<PolicyRule>> e : wildcard.entrySet()) {
      byService.put(e.getKey(), plan(e.getValue(), null));
    }
    return new PolicyPlan(
        version,
        byMethod,
        byService,
        bgRoles,
        bgScopes,
        bgReasons,
        ruleIds.size(),
        canonicalSha256(version, sources, protoServices));
  }

  /**
   * SHA-256 over what the plan was compiled from, in a canonical form: the version, each policy's
   * deterministic protobuf encoding, and each described service's file descriptor (which carries
   * the method options) with every file it imports (the field options of the request types), each
   * length-prefixed. Equal inputs give equal hashes on every JVM.
   */
  static String canonicalSha256(
      String version, List<Source> sources, List<Descriptors.ServiceDescriptor> services) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    update(sha, version.getBytes(StandardCharsets.UTF_8));
    for (Source s : sources) {
      update(sha, deterministic(s.policy));
    }
    for (Descriptors.ServiceDescriptor sd : services) {
      update(sha, sd.getFullName().getBytes(StandardCharsets.UTF_8));
      // The service's file and every file it imports, transitively: the request types' field
      // options (patient_id, tenant_id, search_param) decide too, and often live in an import.
      java.util.SortedMap<String, Descriptors.FileDescriptor> files = new java.util.TreeMap<>();
      collect(sd.getFile(), files);
      for (Descriptors.FileDescriptor f : files.values()) {
        update(sha, deterministic(f.toProto()));
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void collect(
      Descriptors.FileDescriptor f, java.util.Map<String, Descriptors.FileDescriptor> into) {
    if (into.putIfAbsent(f.getName(), f) == null) {
      for (Descriptors.FileDescriptor d : f.getDependencies()) {
        collect(d, into);
      }
    }
  }

  private static void update(MessageDigest sha, byte[] bytes) {
    sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    sha.update(bytes);
  }

  private static byte[] deterministic(MessageLite message) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      message.writeTo(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in memory: does not happen
    }
  }

  private static PolicyMethodPlan plan(List<PolicyRule> rules, @Nullable Spec spec) {
    List<PolicyRule> denies = new ArrayList<>();
    List<PolicyRule> allows = new ArrayList<>();
    PolicyRule breakGlass = null;
    for (PolicyRule rule : rules) {
      if (rule.deny) {
        denies.add(rule);
      } else {
        allows.add(rule);
        if (breakGlass == null && rule.allowBreakGlass) {
          breakGlass = rule;
        }
      }
    }
    String resource = null;
    Action action = null;
    PolicyFieldPath patient = null;
    PolicyFieldPath tenant = null;
    StepUpRequirement stepUp = null;
    Map<String, PolicyFieldPath> searchParams = new LinkedHashMap<>();
    if (spec != null) {
      stepUp = spec.stepUp;
      if (spec.resource != null) {
        for (Map.Entry<String, String> e : spec.searchParams.entrySet()) {
          PolicyFieldPath path = PolicyFieldPath.parseValues(e.getValue());
          if (spec.inputType != null) {
            path.validateAgainst(spec.inputType);
          }
          searchParams.put(e.getKey(), path);
        }
      } else if (spec.searchParamsDeclared) {
        throw new IllegalArgumentException(
            "search parameters need the method's fhir_resource and action: "
                + spec.searchParams.keySet());
      }
      if (spec.resource != null) {
        resource = spec.resource;
        action = spec.action;
      }
      if (spec.patientField != null) {
        patient = PolicyFieldPath.parse(spec.patientField);
      }
      if (spec.tenantField != null) {
        tenant = PolicyFieldPath.parse(spec.tenantField);
      }
      if (spec.inputType != null) {
        if (patient != null) {
          patient.validateAgainst(spec.inputType);
        }
        if (tenant != null) {
          tenant.validateAgainst(spec.inputType);
        }
      }
    }
    return new PolicyMethodPlan(
        denies.toArray(new PolicyRule[0]),
        allows.toArray(new PolicyRule[0]),
        breakGlass,
        resource,
        action,
        patient,
        tenant,
        stepUp,
        searchParams);
  }

  /** Records a method's search parameter fields; one field per parameter, everywhere. */
  private static void mergeSearchParams(
      Map<String, Spec> specs,
      Map<String, Descriptors.MethodDescriptor> known,
      String method,
      Map<String, String> params,
      boolean declared,
      String where) {
    Descriptors.MethodDescriptor md = known.get(method);
    Spec spec = specs.computeIfAbsent(method, k -> new Spec(md == null ? null : md.getInputType()));
    for (Map.Entry<String, String> e : params.entrySet()) {
      if (!SEARCH_PARAMETER.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException(
            where + ": '" + e.getKey() + "' is not a FHIR search parameter name");
      }
      PolicyFieldPath.parseValues(e.getValue());
      String before = spec.searchParams.putIfAbsent(e.getKey(), e.getValue());
      if (before != null && !before.equals(e.getValue())) {
        throw new IllegalArgumentException(
            where + ": conflicts with the field declared elsewhere for '" + e.getKey() + "'");
      }
    }
    spec.searchParamsDeclared |= declared;
  }

  /** The {@code search_param} field options of a request type: parameter name to field name. */
  private static Map<String, String> searchParamFields(Descriptors.Descriptor type) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Descriptors.FieldDescriptor f : type.getFields()) {
      FieldOptions options = f.getOptions();
      if (!options.hasExtension(PolicyProto.searchParam)) {
        try {
          options = FieldOptions.parseFrom(options.toByteString(), REGISTRY);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException("unreadable options on " + f.getFullName(), e);
        }
      }
      String name = options.getExtension(PolicyProto.searchParam);
      if (name.isEmpty()) {
        continue;
      }
      if (f.getJavaType() != Descriptors.FieldDescriptor.JavaType.STRING) {
        throw new IllegalArgumentException(
            f.getFullName() + ": (search_param) needs a string field (singular or repeated)");
      }
      if (out.put(name, f.getName()) != null) {
        throw new IllegalArgumentException(
            type.getFullName() + " marks two fields as search parameter '" + name + "'");
      }
    }
    return out;
  }

  /** Records a method's step-up requirement; declared twice differently is a conflict. */
  private static void mergeStepUp(
      Map<String, Spec> specs,
      Map<String, Descriptors.MethodDescriptor> known,
      String method,
      StepUp stepUp,
      String where) {
    StepUpRequirement requirement = StepUpRequirement.of(stepUp, where);
    if (requirement == null) {
      return;
    }
    Descriptors.MethodDescriptor md = known.get(method);
    Spec spec = specs.computeIfAbsent(method, k -> new Spec(md == null ? null : md.getInputType()));
    if (spec.stepUp != null && !spec.stepUp.equals(requirement)) {
      throw new IllegalArgumentException(
          where + ": conflicts with the step-up requirement declared elsewhere");
    }
    spec.stepUp = requirement;
  }

  /** The action of a policy's method spec, refused when the rpc's option says otherwise. */
  private static Action specAction(MethodSpec spec, @Nullable Action declared, String where) {
    Action own = spec.getAction();
    if (declared != null && own != Action.ACTION_UNSPECIFIED && own != declared) {
      throw new IllegalArgumentException(
          where
              + ": action "
              + own
              + " conflicts with the rpc's (hipaagrpc.core.action) option "
              + declared);
    }
    return own;
  }

  private static void addRule(
      Rule rule,
      String version,
      String where,
      List<PolicyRule> rules,
      Map<PolicyRule, List<String>> ruleMethods,
      Set<String> ruleIds,
      Map<String, Descriptors.MethodDescriptor> known,
      Set<String> describedServices) {
    if (!RULE_ID.matcher(rule.getId()).matches()) {
      throw new IllegalArgumentException(where + ": rule id must match " + RULE_ID);
    }
    if (!ruleIds.add(rule.getId())) {
      throw new IllegalArgumentException(where + ": duplicate rule id '" + rule.getId() + "'");
    }
    if (rule.getMethodsCount() == 0) {
      throw new IllegalArgumentException(where + ": names no methods");
    }
    if (rule.getEffectValue() != Effect.ALLOW_VALUE && rule.getEffectValue() != Effect.DENY_VALUE) {
      throw new IllegalArgumentException(where + ": unknown effect");
    }
    if (rule.getCallerKind() == CallerKind.UNRECOGNIZED) {
      throw new IllegalArgumentException(where + ": unknown caller_kind");
    }
    boolean deny = rule.getEffect() == Effect.DENY;
    if (deny && rule.getAllowBreakGlass()) {
      throw new IllegalArgumentException(where + ": allow_break_glass is for ALLOW rules only");
    }
    List<String> methods = new ArrayList<>();
    for (String m : rule.getMethodsList()) {
      if (!MethodPatterns.matches(m)) {
        throw new IllegalArgumentException(
            where + ": '" + m + "' is not 'pkg.Service/Method' or 'pkg.Service/*'");
      }
      if (!m.endsWith("/*")) {
        requireKnownIfDescribed(m, known, describedServices, where);
      }
      methods.add(m);
    }
    Set<String> roles = new LinkedHashSet<>();
    for (String r : rule.getRolesList()) {
      roles.add(requireNonBlank(r, where + " role"));
    }
    for (String s : rule.getScopesList()) {
      requireNonBlank(s, where + " scope");
    }
    Set<String> exactIds = new LinkedHashSet<>();
    List<String> prefixes = new ArrayList<>();
    for (String id : rule.getSpiffeIdsList()) {
      if (!SPIFFE_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            where + ": '" + id + "' is not a SPIFFE ID or a prefix ending in '/*'");
      }
      if (id.endsWith("/*")) {
        prefixes.add(id.substring(0, id.length() - 1));
      } else {
        exactIds.add(id);
      }
    }
    for (String p : rule.getPurposesList()) {
      if (!PurposeOfUseCodes.isKnown(p)) {
        throw new IllegalArgumentException(where + ": '" + p + "' is not an HL7 PurposeOfUse code");
      }
    }
    PolicyRule compiled =
        new PolicyRule(
            rule.getId(),
            version,
            deny,
            rule.getAllowBreakGlass(),
            roles,
            rule.getScopesList(),
            rule.getCallerKind(),
            exactIds,
            prefixes,
            new LinkedHashSet<>(rule.getPurposesList()));
    rules.add(compiled);
    ruleMethods.put(compiled, methods);
  }

  private static void requireKnownIfDescribed(
      String method,
      Map<String, Descriptors.MethodDescriptor> known,
      Set<String> describedServices,
      String where) {
    String service = method.substring(0, method.indexOf('/'));
    if (describedServices.contains(service) && !known.containsKey(method)) {
      throw new IllegalArgumentException(
          where + ": service " + service + " has no method '" + method + "'");
    }
  }

  private static void mergeSpec(
      Map<String, Spec> specs,
      Map<String, Descriptors.MethodDescriptor> known,
      String method,
      String resource,
      Action action,
      String patientField,
      String tenantField,
      String where) {
    if (action == Action.UNRECOGNIZED) {
      throw new IllegalArgumentException(where + ": unknown action");
    }
    boolean hasResource = !resource.isEmpty();
    boolean hasAction = action != Action.ACTION_UNSPECIFIED;
    if (hasResource != hasAction) {
      throw new IllegalArgumentException(where + ": fhir_resource and action must be set together");
    }
    if (hasResource && !resource.equals("*") && !RESOURCE_TYPE.matcher(resource).matches()) {
      throw new IllegalArgumentException(where + ": '" + resource + "' is not a FHIR type name");
    }
    if (hasResource && resource.equals("*")) {
      throw new IllegalArgumentException(where + ": fhir_resource must name one resource type");
    }
    Descriptors.MethodDescriptor md = known.get(method);
    Spec spec = specs.computeIfAbsent(method, k -> new Spec(md == null ? null : md.getInputType()));
    if (hasResource) {
      if (spec.resource != null && (!spec.resource.equals(resource) || spec.action != action)) {
        throw new IllegalArgumentException(
            where + ": conflicts with the FHIR resource/action declared elsewhere");
      }
      spec.resource = resource;
      spec.action = action;
    }
    if (!patientField.isEmpty()) {
      PolicyFieldPath.parse(patientField);
      if (spec.patientField != null && !spec.patientField.equals(patientField)) {
        throw new IllegalArgumentException(
            where + ": conflicts with the patient field declared elsewhere");
      }
      spec.patientField = patientField;
    }
    if (!tenantField.isEmpty()) {
      PolicyFieldPath.parse(tenantField);
      if (spec.tenantField != null && !spec.tenantField.equals(tenantField)) {
        throw new IllegalArgumentException(
            where + ": conflicts with the tenant field declared elsewhere");
      }
      spec.tenantField = tenantField;
    }
  }

  /** Reads the access option, re-parsing it when the options were built without our extension. */
  static @Nullable Access accessOption(Descriptors.MethodDescriptor method) {
    MethodOptions options = method.getOptions();
    if (!options.hasExtension(PolicyProto.access)) {
      try {
        options = MethodOptions.parseFrom(options.toByteString(), REGISTRY);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("unreadable options on " + method.getFullName(), e);
      }
      if (!options.hasExtension(PolicyProto.access)) {
        return null;
      }
    }
    return options.getExtension(PolicyProto.access);
  }

  private static String markedField(
      Descriptors.Descriptor type,
      com.google.protobuf.ExtensionLite<FieldOptions, Boolean> ext,
      String method,
      String optionName) {
    String found = "";
    for (Descriptors.FieldDescriptor f : type.getFields()) {
      FieldOptions options = f.getOptions();
      if (!options.hasExtension(ext)) {
        try {
          options = FieldOptions.parseFrom(options.toByteString(), REGISTRY);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException("unreadable options on " + f.getFullName(), e);
        }
      }
      if (options.hasExtension(ext) && options.getExtension(ext)) {
        if (f.isRepeated() || f.getJavaType() != Descriptors.FieldDescriptor.JavaType.STRING) {
          throw new IllegalArgumentException(
              f.getFullName() + ": (" + optionName + ") needs a singular string field");
        }
        if (!found.isEmpty()) {
          throw new IllegalArgumentException(
              type.getFullName() + " (request of " + method + ") marks two " + optionName);
        }
        found = f.getName();
      }
    }
    return found;
  }
}
