package dev.hipaagrpc.core.internal;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * The syntax of the method names that configuration names: a full method name ({@code
 * pkg.Service/Method}) or a whole service ({@code pkg.Service/*}). Shared by the authorization
 * policy and the rate limiter so both accept exactly the same names.
 *
 * <p>Thread-safe (stateless).
 */
public final class MethodPatterns {

  private static final Pattern METHOD_OR_SERVICE =
      Pattern.compile(
          "[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*/(\\*|[A-Za-z_][A-Za-z0-9_]*)");

  private MethodPatterns() {}

  /** Whether {@code name} is {@code pkg.Service/Method} or {@code pkg.Service/*}. */
  public static boolean matches(String name) {
    return METHOD_OR_SERVICE.matcher(requireNonNull(name, "name")).matches();
  }
}
