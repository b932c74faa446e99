package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.internal.Checks;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Masks the sensitive fields of protobuf messages as their {@code .proto} options say ({@code
 * hipaagrpc/masking/sensitivity.proto}, and protobuf's {@code debug_redact} for printing).
 *
 * <p>Each message type is compiled once into an immutable plan and cached; reads of the cache take
 * no lock. A type with nothing sensitive, directly or nested, comes back as the same instance at
 * the cost of one map lookup. Works on generated messages and {@code DynamicMessage}, whatever Java
 * package the options were generated into, and on options that arrived as unknown fields. Covers
 * nested, repeated, map (values; keys are never masked) and oneof fields, every scalar kind, and
 * {@code google.protobuf.Any}: unpacked and masked when its type is in the {@link
 * Builder#typeRegistry type registry}, removed when it is not (fail closed). A masked message loses
 * its unknown fields, which could be sensitive fields of a newer schema.
 *
 * <p>Fail closed: an option it does not understand, a contradictory option, or a strategy that
 * needs a {@link Tokenizer} when none was given makes the compilation of that type throw {@link
 * IllegalStateException} (naming the field, never a value) unless the field or message is listed in
 * {@link Builder#allowUnrecognizedOptions}. Call {@link #precompile} at start-up to fail there
 * rather than on the first call.
 *
 * <p><b>Generated {@code toString()} prints PHI.</b> Never log a message directly; log {@link
 * #loggable(Message)} or {@link #print(Message)}.
 *
 * <p>Thread-safe; build one and share it.
 */
public final class Redactor {

  private final Masker responses;
  private final Masker printing;
  private final SafePrinter printer;
  private final Set<String> allowUnrecognized;
  private final WriteRules writeRules;
  private final boolean hasTokenizer;
  // Services that passed requireClassified (strict mode), for the posture report.
  private final Set<String> strictServices = new java.util.concurrent.CopyOnWriteArraySet<>();

  private Redactor(Builder b) {
    this.hasTokenizer = b.tokenizer != null;
    this.allowUnrecognized = Set.copyOf(b.allowUnrecognized);
    this.responses =
        new Masker(new PlanCompiler(false, b.tokenizer, allowUnrecognized), b.typeRegistry);
    this.printing =
        new Masker(new PlanCompiler(true, b.tokenizer, allowUnrecognized), b.typeRegistry);
    this.printer = new SafePrinter(printing);
    this.writeRules = new WriteRules(allowUnrecognized);
  }

  /**
   * Returns a redactor with no tokenizer and an empty type registry (every {@code Any} removed).
   */
  public static Redactor create() {
    return newBuilder().build();
  }

  /** Starts a redactor. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Returns {@code message} with every field the principal may not see masked by its strategy. A
   * field is revealed only to a principal holding one of its {@code reveal_to} roles, or, for a
   * {@code reveal_to_self} field, to the principal whose {@link Principal#patient()} equals the
   * record's {@code (hipaagrpc.masking.patient_id)} field (in the same message or the nearest
   * enclosing one that has such a field); with no principal, everything sensitive is masked. Fields
   * marked only {@code debug_redact} are not masked here (they are in {@link #print}).
   *
   * @return the same instance when nothing needed masking
   * @throws IllegalStateException if the message's type (or a type it contains) has an option this
   *     redactor refuses
   */
  public <M extends Message> M redact(M message, @Nullable Principal principal) {
    requireNonNull(message, "message");
    if (responses.inert(message)) {
      return message;
    }
    return redact(message, principal, new Masker.Counter());
  }

  /**
   * The path from the request root of the first field that {@code principal} may not set in {@code
   * request} by its {@code (hipaagrpc.masking.write_rule)} options ({@code contact.phone}: field
   * names only, never a value), or {@code null} when the request breaks no write rule. With no
   * principal, only {@code output_only} fields are refused.
   *
   * @throws IllegalStateException if a write rule of the type is refused (blank role, empty rule,
   *     unknown option)
   */
  public @Nullable String forbiddenField(Message request, @Nullable Principal principal) {
    requireNonNull(request, "request");
    if (writeRules.inert(request.getDescriptorForType())) {
      return null;
    }
    Set<String> roles = principal == null ? Collections.emptySet() : principal.roles();
    return writeRules.firstForbidden(request, roles);
  }

  /** Whether {@link #redact} returns every message of this one's type unchanged. */
  boolean inert(Message message) {
    return responses.inert(message);
  }

  @SuppressWarnings("unchecked")
  <M extends Message> M redact(M message, @Nullable Principal principal, Masker.Counter counter) {
    Masker.Viewer viewer =
        principal == null
            ? Masker.Viewer.NOBODY
            : new Masker.Viewer(principal.roles(), principal.patient());
    return (M) responses.mask(message, viewer, counter);
  }

  /**
   * Returns {@code message} with every sensitive field masked regardless of role, including fields
   * marked {@code debug_redact}: what may be written to a log.
   *
   * @throws IllegalStateException as {@link #redact}
   */
  @SuppressWarnings("unchecked")
  public <M extends Message> M redactForLog(M message) {
    requireNonNull(message, "message");
    return (M) printing.mask(message, Masker.Viewer.NOBODY, new Masker.Counter());
  }

  /**
   * Prints {@code message} for a log: every sensitive field masked regardless of role (and {@code
   * debug_redact} fields redacted), bytes as their length, unknown fields withheld, control
   * characters escaped, at most 16 KiB. Never uses the generated {@code toString()} or {@code
   * TextFormat}.
   *
   * @throws IllegalStateException as {@link #redact}
   */
  public String print(Message message) {
    requireNonNull(message, "message");
    return printer.print(redactForLog(message));
  }

  /**
   * Returns an object whose {@code toString()} is {@link #print(Message)}, computed when a logger
   * formats it: {@code log.info("sent {}", redactor.loggable(patient))}. If printing fails, it
   * prints only the type name.
   */
  public Object loggable(Message message) {
    requireNonNull(message, "message");
    return new Loggable(this, message);
  }

  /**
   * Compiles the plans of {@code types} (and every type they contain) now.
   *
   * @throws IllegalStateException naming the first field whose option is refused
   */
  public void precompile(Descriptor... types) {
    for (Descriptor type : types) {
      responses.compiler().plan(requireNonNull(type, "type"));
      printing.compiler().plan(type);
      writeRules.inert(type);
    }
  }

  /**
   * Strict mode: lists, by full name, every field that can carry PHI and carries no classification,
   * in the services' request and response types, nested types included: every scalar field
   * (strings, bytes, numbers, bools, enums) with no sensitivity option of its own, no message
   * default and no {@code debug_redact}, and every field of a {@code google.protobuf} or {@code
   * google.type} value type ({@code Timestamp}, {@code Duration}, wrappers, {@code Struct}, {@code
   * google.type.Date}, ...; not {@code Any}, which is masked by its content or removed, nor {@code
   * Empty}) with no option of its own (a message default does not reach message fields). Fields of
   * your own message types are checked inside those types. Mark reviewed non-sensitive fields
   * {@code DATA_CLASS_PUBLIC}.
   *
   * @param services gRPC service descriptors generated by protoc-gen-grpc-java
   * @throws IllegalArgumentException if a service does not carry its protobuf descriptor
   * @throws IllegalStateException if an option is refused
   */
  public List<String> unclassifiedFields(io.grpc.ServiceDescriptor... services) {
    List<Descriptors.ServiceDescriptor> protos = new ArrayList<>();
    for (io.grpc.ServiceDescriptor service : services) {
      Object schema = requireNonNull(service, "service").getSchemaDescriptor();
      if (!(schema instanceof ProtoServiceDescriptorSupplier supplier)) {
        throw new IllegalArgumentException(
            "service " + service.getName() + " has no protobuf descriptor");
      }
      protos.add(supplier.getServiceDescriptor());
    }
    return unclassifiedFields(protos.toArray(new Descriptors.ServiceDescriptor[0]));
  }

  /** As {@link #unclassifiedFields(io.grpc.ServiceDescriptor...)}, from protobuf descriptors. */
  public List<String> unclassifiedFields(Descriptors.ServiceDescriptor... services) {
    Set<String> out = new LinkedHashSet<>();
    Set<Descriptor> seen = new HashSet<>();
    for (Descriptors.ServiceDescriptor service : services) {
      for (Descriptors.MethodDescriptor method : service.getMethods()) {
        collectUnclassified(method.getInputType(), seen, out);
        collectUnclassified(method.getOutputType(), seen, out);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Strict mode at start-up: throws unless {@link
   * #unclassifiedFields(io.grpc.ServiceDescriptor...)} is empty, then compiles the masking plan of
   * every request and response type of the services, so that every option the redactor would refuse
   * at call time is refused here.
   *
   * @throws IllegalStateException listing the unclassified fields, or naming the option that cannot
   *     be applied
   */
  public void requireClassified(io.grpc.ServiceDescriptor... services) {
    List<String> fields = unclassifiedFields(services);
    if (!fields.isEmpty()) {
      throw new IllegalStateException(
          "fields without a sensitivity classification (mark each, DATA_CLASS_PUBLIC if not"
              + " sensitive): "
              + fields);
    }
    // Compile every plan now, so that an option the redactor cannot apply (keep_last without
    // STRATEGY_KEEP_LAST, a strategy that does not fit the field's type) stops the start-up
    // instead of failing each call INTERNAL.
    for (io.grpc.ServiceDescriptor service : services) {
      if (!(service.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier supplier)) {
        continue; // unclassifiedFields already refused it
      }
      strictServices.add(service.getName());
      for (Descriptors.MethodDescriptor method : supplier.getServiceDescriptor().getMethods()) {
        responses.compiler().plan(method.getInputType());
        responses.compiler().plan(method.getOutputType());
        writeRules.inert(method.getInputType());
        printing.compiler().plan(method.getInputType());
        printing.compiler().plan(method.getOutputType());
      }
    }
  }

  /**
   * The posture of masking with this redactor: {@code masking.strict} (the services that passed
   * {@link #requireClassified}; WARN when none did, since then an unclassified field would pass
   * unmasked unnoticed), {@code masking.tokenizer} and {@code masking.allow_unrecognized_options}
   * (WARN when any option is let through).
   */
  List<PostureItem> posture() {
    List<PostureItem> items = new ArrayList<>();
    List<String> strict = new ArrayList<>(new java.util.TreeSet<>(strictServices));
    items.add(
        strict.isEmpty()
            ? PostureItem.warn(
                "masking.strict",
                Safeguard.MINIMUM_NECESSARY,
                Map.of("classifiedServices", strict),
                "requireClassified(...) was not called: fields without a classification are not"
                    + " reported at start-up")
            : PostureItem.ok(
                "masking.strict",
                Safeguard.MINIMUM_NECESSARY,
                Map.of("classifiedServices", strict)));
    items.add(
        PostureItem.ok("masking.tokenizer", Safeguard.ENCRYPTION_AND_DECRYPTION, hasTokenizer));
    List<String> allowed = new ArrayList<>(new java.util.TreeSet<>(allowUnrecognized));
    items.add(
        allowed.isEmpty()
            ? PostureItem.ok(
                "masking.allow_unrecognized_options", Safeguard.MINIMUM_NECESSARY, allowed)
            : PostureItem.warn(
                "masking.allow_unrecognized_options",
                Safeguard.MINIMUM_NECESSARY,
                allowed,
                "options the redactor does not understand are ignored on these fields"));
    return items;
  }

  private void collectUnclassified(Descriptor type, Set<Descriptor> seen, Set<String> out) {
    if (!seen.add(type) || isLibraryType(type)) {
      return;
    }
    boolean messageDefault = hasMessageDefault(type);
    for (FieldDescriptor field : type.getFields()) {
      FieldDescriptor value =
          field.isMapField() ? field.getMessageType().findFieldByNumber(2) : field;
      PlanCompiler.Resolved r = PlanCompiler.resolve(field, allowUnrecognized);
      boolean classified = r.classified() || r.debugRedact();
      if (value.getJavaType() == JavaType.MESSAGE) {
        Descriptor valueType = value.getMessageType();
        if (isLibraryType(valueType)) {
          // A value type (Timestamp, Duration, wrappers, Struct, google.type.Date, ...): a leaf
          // that a message default does not reach, so it needs its own classification. Any is
          // masked by its content's type or removed; Empty holds nothing.
          String name = valueType.getFullName();
          if (!classified && !name.equals(PlanCompiler.ANY) && !name.equals(EMPTY)) {
            out.add(field.getFullName());
          }
          continue;
        }
        collectUnclassified(valueType, seen, out);
        continue;
      }
      // Every scalar kind can carry PHI: strings, bytes, numbers (a lab value), bools, enums.
      if (!classified && !messageDefault) {
        out.add(field.getFullName());
      }
    }
  }

  private static final String EMPTY = "google.protobuf.Empty";

  private static boolean isLibraryType(Descriptor type) {
    String pkg = type.getFile().getPackage();
    return pkg.equals("google.protobuf") || pkg.equals("google.type");
  }

  private boolean hasMessageDefault(Descriptor type) {
    return responses.compiler().messageDefault(type) != null;
  }

  private static final class Loggable {
    private final Redactor redactor;
    private final Message message;

    Loggable(Redactor redactor, Message message) {
      this.redactor = redactor;
      this.message = message;
    }

    @Override
    public String toString() {
      try {
        return redactor.print(message);
      } catch (RuntimeException e) {
        return message.getDescriptorForType().getName() + " {<unprintable>}";
      }
    }
  }

  /** Builds a {@link Redactor}. Not thread-safe. */
  public static final class Builder {
    private TypeRegistry typeRegistry = TypeRegistry.getEmptyTypeRegistry();
    private @Nullable Tokenizer tokenizer;
    private final Set<String> allowUnrecognized = new LinkedHashSet<>();

    private Builder() {}

    /**
     * Sets the types an {@code Any} may be unpacked to and masked. Default: empty, so every
     * non-empty {@code Any} is removed.
     */
    public Builder typeRegistry(TypeRegistry typeRegistry) {
      this.typeRegistry = requireNonNull(typeRegistry, "typeRegistry");
      return this;
    }

    /**
     * Sets the tokenizer for {@code STRATEGY_KEYED_HASH}, {@code STRATEGY_TOKEN} and {@code
     * STRATEGY_DETERMINISTIC_TOKEN}. Default: none; a type using one of them then fails to compile.
     */
    public Builder tokenizer(Tokenizer tokenizer) {
      this.tokenizer = requireNonNull(tokenizer, "tokenizer");
      return this;
    }

    /**
     * Opts the named fields or messages (full protobuf names, e.g. {@code acme.Patient.ssn}) out of
     * failing closed on sensitivity options this version does not understand: unknown option
     * numbers and fields are ignored and unknown enum values fall back to defaults that still mask.
     * Default: none.
     */
    public Builder allowUnrecognizedOptions(String... fullNames) {
      for (String name : fullNames) {
        allowUnrecognized.add(Checks.requireNonBlank(name, "fullName"));
      }
      return this;
    }

    /** Returns the redactor. */
    public Redactor build() {
      return new Redactor(this);
    }
  }
}
