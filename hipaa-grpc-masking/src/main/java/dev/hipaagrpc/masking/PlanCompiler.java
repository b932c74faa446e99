package dev.hipaagrpc.masking;

import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import dev.hipaagrpc.masking.proto.DataClass;
import dev.hipaagrpc.masking.proto.Identifier;
import dev.hipaagrpc.masking.proto.Sensitivity;
import dev.hipaagrpc.masking.proto.SensitivityProto;
import dev.hipaagrpc.masking.proto.Strategy;
import dev.hipaagrpc.masking.proto.WriteRule;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Compiles message descriptors into {@link MessagePlan}s and caches them ({@link PlanCache}:
 * lock-free reads, placeholder before recursion, whether a type has work settled by a fixpoint
 * afterwards).
 */
final class PlanCompiler {

  static final String ANY = "google.protobuf.Any";
  static final String TIMESTAMP = "google.protobuf.Timestamp";
  static final String DATE = "google.type.Date";
  private static final int OPTION_RANGE_START = 51000;
  private static final int OPTION_RANGE_END = 51099;

  private static final ExtensionRegistry REGISTRY = newRegistry();

  /** A sensitivity option the compiler refuses; its message names only schema elements. */
  static final class OptionException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    OptionException(String message) {
      super(message);
    }
  }

  /**
   * The resolved sensitivity of one field: null rule and classified = reviewed as not sensitive.
   */
  record Resolved(@Nullable Sensitivity sensitivity, boolean debugRedact, boolean classified) {}

  private final boolean printMode;
  private final @Nullable Tokenizer tokenizer;
  private final Set<String> allowUnrecognized;
  private final PlanCache<MessagePlan> cache = new PlanCache<>(this::compile, PlanCompiler::settle);

  PlanCompiler(boolean printMode, @Nullable Tokenizer tokenizer, Set<String> allowUnrecognized) {
    this.printMode = printMode;
    this.tokenizer = tokenizer;
    this.allowUnrecognized = Set.copyOf(allowUnrecognized);
  }

  private static ExtensionRegistry newRegistry() {
    ExtensionRegistry registry = ExtensionRegistry.newInstance();
    SensitivityProto.registerAllExtensions(registry);
    return registry.getUnmodifiable();
  }

  MessagePlan plan(Descriptor type) {
    return cache.get(type);
  }

  private MessagePlan compile(
      Descriptor type, Map<Descriptor, MessagePlan> working, List<MessagePlan> created) {
    MessagePlan existing = working.get(type);
    if (existing != null) {
      return existing;
    }
    MessagePlan plan = new MessagePlan(type);
    working.put(type, plan);
    created.add(plan);
    // A failure propagates before the working map is published, so nothing of it is cached.
    List<MessagePlan.FieldPlan> fields = new ArrayList<>();
    @Nullable Sensitivity messageDefault = messageDefault(type);
    for (FieldDescriptor field : type.getFields()) {
      if (isPatientId(field, allowUnrecognized)) {
        if (plan.patientField != null) {
          throw new OptionException(type.getFullName() + " marks more than one patient_id field");
        }
        plan.patientField = field;
      }
      MessagePlan.FieldPlan fp = compileField(field, messageDefault, working, created);
      if (fp != null) {
        fields.add(fp);
      }
    }
    plan.fields = fields.toArray(MessagePlan.NO_FIELDS);
    return plan;
  }

  private MessagePlan.@Nullable FieldPlan compileField(
      FieldDescriptor field,
      @Nullable Sensitivity messageDefault,
      Map<Descriptor, MessagePlan> working,
      List<MessagePlan> created) {
    FieldDescriptor valueField =
        field.isMapField() ? field.getMessageType().findFieldByNumber(2) : field;
    boolean messageValued = valueField.getJavaType() == JavaType.MESSAGE;
    Resolved resolved = resolve(field, allowUnrecognized);
    Sensitivity s = applicable(field, resolved, messageDefault);
    FieldRule rule = null;
    if (s != null) {
      rule = toRule(field, valueField, s, false);
    } else if (resolved.debugRedact() && printMode) {
      rule =
          toRule(
              field,
              valueField,
              Sensitivity.newBuilder()
                  .setDataClass(DataClass.DATA_CLASS_SECRET)
                  .setStrategy(Strategy.STRATEGY_REDACT)
                  .build(),
              true);
    }
    if (rule != null && rule.printOnly && !printMode) {
      rule = null;
    }
    MessagePlan nested = null;
    boolean any = false;
    if (messageValued) {
      Descriptor valueType = valueField.getMessageType();
      if (valueType.getFullName().equals(ANY)) {
        any = true;
      } else {
        nested = compile(valueType, working, created);
      }
    }
    if (rule == null && nested == null && !any) {
      return null;
    }
    return new MessagePlan.FieldPlan(
        field, rule, nested, any, field.isMapField() ? valueField : null);
  }

  /** Marks plans active by fixpoint (recursion), then drops field plans with nothing to do. */
  private static void settle(List<MessagePlan> created) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (MessagePlan plan : created) {
        if (plan.active) {
          continue;
        }
        for (MessagePlan.FieldPlan fp : plan.fields) {
          if (fp.rule != null || fp.any || (fp.nested != null && fp.nested.active)) {
            plan.active = true;
            changed = true;
            break;
          }
        }
      }
    }
    for (MessagePlan plan : created) {
      List<MessagePlan.FieldPlan> kept = new ArrayList<>();
      for (MessagePlan.FieldPlan fp : plan.fields) {
        if (fp.nested != null && !fp.nested.active) {
          fp.nested = null;
        }
        if (fp.rule != null || fp.any || fp.nested != null) {
          kept.add(fp);
        }
      }
      plan.fields = plan.active ? kept.toArray(MessagePlan.NO_FIELDS) : MessagePlan.NO_FIELDS;
    }
  }

  @Nullable Sensitivity messageDefault(Descriptor type) {
    MessageOptions options = type.getOptions();
    // Always re-parse: the options may carry the extension as unknown fields, or as another
    // generated copy of it (same number, other class) that hasExtension() matches but
    // getExtension() cannot read.
    MessageOptions parsed = reparseMessage(options.toByteString(), type.getFullName());
    boolean allow = allowUnrecognized.contains(type.getFullName());
    checkUnknownOptions(parsed.getUnknownFields(), type.getFullName(), allow);
    if (!parsed.hasExtension(SensitivityProto.defaultSensitivity)) {
      return null;
    }
    Sensitivity s = parsed.getExtension(SensitivityProto.defaultSensitivity);
    return validate(s, type.getFullName(), allow);
  }

  /**
   * The sensitivity a plan applies to {@code field}: its own option, else its message's default
   * when the field is left unclassified and its value (a map's value) is not a message. The one
   * rule, for the redactor and for {@link SensitivityOptions}.
   */
  static @Nullable Sensitivity applicable(
      FieldDescriptor field, Resolved resolved, @Nullable Sensitivity messageDefault) {
    if (resolved.sensitivity() != null || resolved.classified() || messageDefault == null) {
      return resolved.sensitivity();
    }
    FieldDescriptor valueField =
        field.isMapField() ? field.getMessageType().findFieldByNumber(2) : field;
    return valueField.getJavaType() == JavaType.MESSAGE ? null : messageDefault;
  }

  /** Reads a field's sensitivity, re-parsing options that arrived as unknown fields. */
  static Resolved resolve(FieldDescriptor field, Set<String> allowUnrecognized) {
    FieldOptions options = field.getOptions();
    FieldOptions parsed = parsedOptions(field, allowUnrecognized);
    boolean allow = allowUnrecognized.contains(field.getFullName());
    if (!parsed.hasExtension(SensitivityProto.sensitivity)) {
      return new Resolved(null, options.getDebugRedact(), false);
    }
    Sensitivity s =
        validate(parsed.getExtension(SensitivityProto.sensitivity), field.getFullName(), allow);
    if (s.getDataClass() == DataClass.DATA_CLASS_PUBLIC) {
      return new Resolved(null, options.getDebugRedact(), true);
    }
    return new Resolved(s, options.getDebugRedact(), true);
  }

  /**
   * The field's options re-parsed against our registry (generated into another java_package, or
   * built without our extension registry), after refusing unknown options of our range.
   */
  private static FieldOptions parsedOptions(FieldDescriptor field, Set<String> allowUnrecognized) {
    FieldOptions parsed = reparseField(field.getOptions().toByteString(), field.getFullName());
    checkUnknownOptions(
        parsed.getUnknownFields(),
        field.getFullName(),
        allowUnrecognized.contains(field.getFullName()));
    return parsed;
  }

  /** The field's write rule, or {@code null}; refuses what it does not understand, and blanks. */
  static @Nullable WriteRule writeRule(FieldDescriptor field, Set<String> allowUnrecognized) {
    FieldOptions parsed = parsedOptions(field, allowUnrecognized);
    if (!parsed.hasExtension(SensitivityProto.writeRule)) {
      return null;
    }
    WriteRule rule = parsed.getExtension(SensitivityProto.writeRule);
    String where = field.getFullName();
    if (!rule.getUnknownFields().asMap().isEmpty() && !allowUnrecognized.contains(where)) {
      throw new OptionException(
          where
              + " has a write_rule value this version does not understand; upgrade"
              + " hipaa-grpc-masking or opt out with"
              + " Redactor.Builder.allowUnrecognizedOptions(\""
              + where
              + "\")");
    }
    for (String role : rule.getReadOnlyForList()) {
      if (role.isBlank()) {
        throw new OptionException(where + " write_rule read_only_for has a blank role");
      }
    }
    if (!rule.getOutputOnly() && rule.getReadOnlyForCount() == 0) {
      throw new OptionException(
          where + " has an empty write_rule; set output_only or read_only_for");
    }
    return rule;
  }

  /**
   * Whether the field is marked {@code (hipaagrpc.masking.patient_id)}: the patient a record
   * belongs to, for reveal_to_self.
   *
   * @throws OptionException if the mark is on a field that is not a singular string
   */
  static boolean isPatientId(FieldDescriptor field, Set<String> allowUnrecognized) {
    FieldOptions parsed = parsedOptions(field, allowUnrecognized);
    if (!parsed.getExtension(SensitivityProto.patientId)) {
      return false;
    }
    if (field.isRepeated() || field.getJavaType() != JavaType.STRING) {
      throw new OptionException(field.getFullName() + " is marked patient_id but is not a string");
    }
    return true;
  }

  private static MessageOptions reparseMessage(com.google.protobuf.ByteString bytes, String where) {
    try {
      return MessageOptions.parseFrom(bytes, REGISTRY);
    } catch (InvalidProtocolBufferException e) {
      throw new OptionException("options of " + where + " cannot be parsed");
    }
  }

  private static FieldOptions reparseField(com.google.protobuf.ByteString bytes, String where) {
    try {
      return FieldOptions.parseFrom(bytes, REGISTRY);
    } catch (InvalidProtocolBufferException e) {
      throw new OptionException("options of " + where + " cannot be parsed");
    }
  }

  private static void checkUnknownOptions(UnknownFieldSet unknown, String where, boolean allow) {
    if (allow) {
      return;
    }
    for (Integer number : unknown.asMap().keySet()) {
      if (number >= OPTION_RANGE_START && number <= OPTION_RANGE_END) {
        throw new OptionException(
            where
                + " carries hipaagrpc.masking option "
                + number
                + " that this version does not understand; upgrade hipaa-grpc-masking or"
                + " opt out with Redactor.Builder.allowUnrecognizedOptions(\""
                + where
                + "\")");
      }
    }
  }

  /** Refuses what it does not understand (unless allowed), and contradictions (always). */
  private static Sensitivity validate(Sensitivity s, String where, boolean allow) {
    Sensitivity.Builder b = s.toBuilder();
    boolean unrecognized =
        !s.getUnknownFields().asMap().isEmpty()
            || s.getDataClass() == DataClass.UNRECOGNIZED
            || s.getIdentifier() == Identifier.UNRECOGNIZED
            || s.getStrategy() == Strategy.UNRECOGNIZED;
    if (unrecognized) {
      if (!allow) {
        throw new OptionException(
            where
                + " has a sensitivity value this version does not understand; upgrade"
                + " hipaa-grpc-masking or opt out with"
                + " Redactor.Builder.allowUnrecognizedOptions(\""
                + where
                + "\")");
      }
      // Opted out: unknown enum values fall back to the defaults, which still mask.
      b.setUnknownFields(UnknownFieldSet.getDefaultInstance());
      if (s.getDataClass() == DataClass.UNRECOGNIZED) {
        b.setDataClass(DataClass.DATA_CLASS_PHI);
      }
      if (s.getIdentifier() == Identifier.UNRECOGNIZED) {
        b.setIdentifier(Identifier.IDENTIFIER_OTHER);
      }
      if (s.getStrategy() == Strategy.UNRECOGNIZED) {
        b.setStrategy(Strategy.STRATEGY_UNSPECIFIED);
      }
    }
    Sensitivity v = b.build();
    if (v.getDataClass() == DataClass.DATA_CLASS_PUBLIC) {
      if (v.getIdentifier() != Identifier.IDENTIFIER_UNSPECIFIED
          || v.getStrategy() != Strategy.STRATEGY_UNSPECIFIED
          || v.getRevealToCount() > 0
          || v.getRevealToSelf()
          || v.getEncryptAtRest()
          || v.getKeepLast() != 0
          || !v.getMarker().isEmpty()) {
        throw new OptionException(
            where + " is DATA_CLASS_PUBLIC but also sets a masking setting; remove one of them");
      }
      return v;
    }
    if (v.getDataClass() == DataClass.DATA_CLASS_UNSPECIFIED
        && v.getIdentifier() == Identifier.IDENTIFIER_UNSPECIFIED
        && v.getStrategy() == Strategy.STRATEGY_UNSPECIFIED
        && v.getRevealToCount() == 0
        && !v.getRevealToSelf()
        && !v.getEncryptAtRest()) {
      throw new OptionException(where + " has an empty sensitivity; set data_class or identifier");
    }
    if (Integer.compareUnsigned(v.getKeepLast(), 16) > 0) {
      throw new OptionException(where + " keep_last must be 1 to 16");
    }
    if (v.getMarker().length() > 64
        || !v.getMarker().chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      throw new OptionException(where + " marker must be at most 64 printable ASCII characters");
    }
    for (String role : v.getRevealToList()) {
      if (role.isBlank()) {
        throw new OptionException(where + " reveal_to has a blank role");
      }
    }
    return v;
  }

  static Strategy effectiveStrategy(Sensitivity s) {
    if (s.getStrategy() != Strategy.STRATEGY_UNSPECIFIED) {
      return s.getStrategy();
    }
    return switch (s.getIdentifier()) {
      case IDENTIFIER_GEOGRAPHIC -> Strategy.STRATEGY_GENERALIZE_ZIP3;
      case IDENTIFIER_DATE -> Strategy.STRATEGY_GENERALIZE_DATE_TO_YEAR;
      case IDENTIFIER_SSN,
          IDENTIFIER_MEDICAL_RECORD_NUMBER,
          IDENTIFIER_HEALTH_PLAN_BENEFICIARY_NUMBER,
          IDENTIFIER_ACCOUNT_NUMBER ->
          Strategy.STRATEGY_KEEP_LAST;
      case IDENTIFIER_BIOMETRIC, IDENTIFIER_PHOTO -> Strategy.STRATEGY_REMOVE;
      case IDENTIFIER_AGE -> Strategy.STRATEGY_GENERALIZE_AGE;
      case IDENTIFIER_NAME,
          IDENTIFIER_PHONE,
          IDENTIFIER_FAX,
          IDENTIFIER_EMAIL,
          IDENTIFIER_CERTIFICATE_LICENSE_NUMBER,
          IDENTIFIER_VEHICLE,
          IDENTIFIER_DEVICE,
          IDENTIFIER_URL,
          IDENTIFIER_IP_ADDRESS,
          IDENTIFIER_OTHER ->
          Strategy.STRATEGY_REDACT;
      case IDENTIFIER_UNSPECIFIED, UNRECOGNIZED ->
          s.getDataClass() == DataClass.DATA_CLASS_SECRET
              ? Strategy.STRATEGY_REMOVE
              : Strategy.STRATEGY_REDACT;
    };
  }

  private FieldRule toRule(
      FieldDescriptor field, FieldDescriptor valueField, Sensitivity s, boolean printOnly) {
    Strategy strategy = effectiveStrategy(s);
    if (s.getKeepLast() != 0 && strategy != Strategy.STRATEGY_KEEP_LAST) {
      throw new OptionException(field.getFullName() + " sets keep_last without STRATEGY_KEEP_LAST");
    }
    if (!s.getMarker().isEmpty() && strategy != Strategy.STRATEGY_REDACT) {
      throw new OptionException(field.getFullName() + " sets marker without STRATEGY_REDACT");
    }
    if ((strategy == Strategy.STRATEGY_KEYED_HASH
            || strategy == Strategy.STRATEGY_TOKEN
            || strategy == Strategy.STRATEGY_DETERMINISTIC_TOKEN)
        && tokenizer == null) {
      throw new OptionException(
          field.getFullName()
              + " uses "
              + strategy
              + " but the Redactor has no Tokenizer; call Redactor.Builder.tokenizer(...)");
    }
    FieldRule.Kind kind = kindFor(strategy, valueField);
    String marker = s.getMarker().isEmpty() ? FieldRule.DEFAULT_MARKER : s.getMarker();
    int keepLast = s.getKeepLast() == 0 ? 4 : s.getKeepLast();
    Set<String> reveal = new LinkedHashSet<>(s.getRevealToList());
    return new FieldRule(kind, marker, keepLast, reveal, s.getRevealToSelf(), printOnly, tokenizer);
  }

  private static FieldRule.Kind kindFor(Strategy strategy, FieldDescriptor valueField) {
    JavaType type = valueField.getJavaType();
    if (strategy == Strategy.STRATEGY_REMOVE) {
      return FieldRule.Kind.CLEAR;
    }
    return switch (type) {
      case STRING ->
          switch (strategy) {
            case STRATEGY_REDACT -> FieldRule.Kind.MARKER;
            case STRATEGY_KEEP_LAST -> FieldRule.Kind.KEEP_LAST;
            case STRATEGY_KEYED_HASH -> FieldRule.Kind.KEYED_HASH;
            case STRATEGY_TOKEN -> FieldRule.Kind.TOKEN;
            case STRATEGY_DETERMINISTIC_TOKEN -> FieldRule.Kind.DETERMINISTIC_TOKEN;
            case STRATEGY_GENERALIZE_DATE_TO_YEAR -> FieldRule.Kind.DATE_TO_YEAR;
            case STRATEGY_GENERALIZE_ZIP3 -> FieldRule.Kind.ZIP3;
            case STRATEGY_GENERALIZE_AGE -> FieldRule.Kind.AGE;
            default -> FieldRule.Kind.CLEAR;
          };
      case BYTE_STRING ->
          switch (strategy) {
            case STRATEGY_KEYED_HASH -> FieldRule.Kind.KEYED_HASH;
            case STRATEGY_TOKEN -> FieldRule.Kind.TOKEN;
            case STRATEGY_DETERMINISTIC_TOKEN -> FieldRule.Kind.DETERMINISTIC_TOKEN;
            default -> FieldRule.Kind.CLEAR;
          };
      case INT, LONG ->
          strategy == Strategy.STRATEGY_GENERALIZE_AGE ? FieldRule.Kind.AGE : FieldRule.Kind.CLEAR;
      case MESSAGE -> messageKind(strategy, valueField);
      default -> FieldRule.Kind.CLEAR;
    };
  }

  private static FieldRule.Kind messageKind(Strategy strategy, FieldDescriptor valueField) {
    if (strategy == Strategy.STRATEGY_GENERALIZE_DATE_TO_YEAR) {
      String name = valueField.getMessageType().getFullName();
      if (name.equals(TIMESTAMP)) {
        return FieldRule.Kind.TIMESTAMP_TO_YEAR;
      }
      if (name.equals(DATE)) {
        return FieldRule.Kind.DATE_MESSAGE_TO_YEAR;
      }
    }
    return FieldRule.Kind.CLEAR;
  }
}
