package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.hipaagrpc.masking.proto.Sensitivity;
import dev.hipaagrpc.masking.proto.Strategy;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How the masking module reads a field's {@code .proto} options: the same resolution the {@link
 * Redactor} compiles into its plans, for tools and test kits that must agree with it (the PHI
 * canary kit fills exactly the fields the redactor treats as sensitive).
 *
 * <p>Thread-safe (stateless).
 */
public final class SensitivityOptions {

  private SensitivityOptions() {}

  /**
   * The field's effective sensitivity: its own {@code (hipaagrpc.masking.sensitivity)} option, else
   * (for a field left unclassified whose value, or map value, is not a message) its message's
   * {@code default_sensitivity}, else an empty {@link Sensitivity} for a field marked {@code
   * debug_redact} (masked when printed); {@code null} for a field that is public or carries none of
   * these.
   *
   * @throws IllegalStateException if the options are malformed (the redactor refuses them too)
   */
  public static @Nullable Sensitivity effective(FieldDescriptor field) {
    requireNonNull(field, "field");
    PlanCompiler.Resolved r = PlanCompiler.resolve(field, Set.of());
    Sensitivity s =
        PlanCompiler.applicable(
            field,
            r,
            new PlanCompiler(true, null, Set.of()).messageDefault(field.getContainingType()));
    if (s != null) {
      return s;
    }
    return r.debugRedact() ? Sensitivity.getDefaultInstance() : null;
  }

  /**
   * The strategy the redactor applies for {@code sensitivity}: its own, else the default for its
   * identifier kind (for example ZIP3 generalization for geographic data), else redaction.
   */
  public static Strategy strategy(Sensitivity sensitivity) {
    return PlanCompiler.effectiveStrategy(requireNonNull(sensitivity, "sensitivity"));
  }
}
