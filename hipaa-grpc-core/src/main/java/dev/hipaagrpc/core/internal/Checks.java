package dev.hipaagrpc.core.internal;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/** Argument checks shared by the builders of every module. Thread-safe (stateless). */
public final class Checks {

  private Checks() {}

  /**
   * Returns {@code value} if it is neither null nor blank.
   *
   * @throws NullPointerException if it is null, naming {@code name}
   * @throws IllegalArgumentException if it is blank, naming {@code name}
   */
  public static String requireNonBlank(@Nullable String value, String name) {
    requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return value;
  }
}
