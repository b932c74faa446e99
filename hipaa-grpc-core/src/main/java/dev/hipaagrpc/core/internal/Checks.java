package dev.hipaagrpc.core.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
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

  /**
   * Returns {@code value} if it is positive.
   *
   * @throws NullPointerException if it is null, naming {@code name}
   * @throws IllegalArgumentException if it is zero or negative, naming {@code name}
   */
  public static Duration requirePositive(@Nullable Duration value, String name) {
    requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive");
    }
    return value;
  }

  /**
   * Returns {@code value} if it is positive.
   *
   * @throws IllegalArgumentException if it is zero or negative, naming {@code name}
   */
  public static int requirePositive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive");
    }
    return value;
  }

  /**
   * Returns {@code value} if it is not negative.
   *
   * @throws NullPointerException if it is null, naming {@code name}
   * @throws IllegalArgumentException if it is negative, naming {@code name}
   */
  public static Duration requireNonNegative(@Nullable Duration value, String name) {
    requireNonNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative");
    }
    return value;
  }
}
