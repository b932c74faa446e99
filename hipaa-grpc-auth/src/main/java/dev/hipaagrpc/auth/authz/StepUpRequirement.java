package dev.hipaagrpc.auth.authz;

import dev.hipaagrpc.auth.authz.proto.StepUp;
import dev.hipaagrpc.core.Principal;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A method's step-up requirement, compiled from {@link StepUp}: the acr values one of which the
 * token must carry, the amr methods all of which it must carry, and the maximum age of its {@code
 * auth_time}. Immutable.
 */
final class StepUpRequirement {

  /** acr and amr values go into a quoted challenge parameter: no quotes, backslashes or spaces. */
  private static final Pattern TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}");

  private final List<String> acrValues;
  private final Set<String> amr;
  private final long maxAuthAgeSeconds;
  private final String challenge;

  private StepUpRequirement(List<String> acrValues, Set<String> amr, long maxAuthAgeSeconds) {
    this.acrValues = acrValues;
    this.amr = amr;
    this.maxAuthAgeSeconds = maxAuthAgeSeconds;
    // RFC 9470 section 3: the challenge names what would satisfy the requirement.
    StringBuilder c =
        new StringBuilder(
            "Bearer error=\"insufficient_user_authentication\","
                + " error_description=\"A different authentication level is required\"");
    if (!acrValues.isEmpty()) {
      c.append(", acr_values=\"").append(String.join(" ", acrValues)).append('"');
    }
    if (maxAuthAgeSeconds > 0) {
      c.append(", max_age=\"").append(maxAuthAgeSeconds).append('"');
    }
    this.challenge = c.toString();
  }

  /** The requirement, null when {@code stepUp} asks for nothing; refuses bad values. */
  static @Nullable StepUpRequirement of(StepUp stepUp, String where) {
    for (String v : stepUp.getAcrValuesList()) {
      check(v, where + ": step_up acr value");
    }
    for (String v : stepUp.getAmrList()) {
      check(v, where + ": step_up amr value");
    }
    if (stepUp.getMaxAuthAgeSeconds() < 0) {
      throw new IllegalArgumentException(where + ": step_up max_auth_age_seconds is negative");
    }
    if (stepUp.getAcrValuesCount() == 0
        && stepUp.getAmrCount() == 0
        && stepUp.getMaxAuthAgeSeconds() == 0) {
      return null;
    }
    return new StepUpRequirement(
        List.copyOf(stepUp.getAcrValuesList()),
        Set.copyOf(stepUp.getAmrList()),
        stepUp.getMaxAuthAgeSeconds());
  }

  private static void check(String value, String what) {
    if (!TOKEN.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + " must be 1-200 visible ASCII characters without quotes or backslashes");
    }
  }

  /** Whether {@code principal}'s authentication meets the requirement at {@code now}. */
  boolean satisfiedBy(Principal principal, Instant now) {
    if (!acrValues.isEmpty() && !acrValues.contains(principal.acr())) {
      return false;
    }
    if (!principal.amr().containsAll(amr)) {
      return false;
    }
    if (maxAuthAgeSeconds > 0) {
      Instant at = principal.authTime();
      return at != null && !at.plusSeconds(maxAuthAgeSeconds).isBefore(now);
    }
    return true;
  }

  /** The {@code www-authenticate} value for a refusal (configuration only, no caller data). */
  String challenge() {
    return challenge;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof StepUpRequirement r
        && acrValues.equals(r.acrValues)
        && amr.equals(r.amr)
        && maxAuthAgeSeconds == r.maxAuthAgeSeconds;
  }

  @Override
  public int hashCode() {
    return acrValues.hashCode() * 31 + amr.hashCode() + Long.hashCode(maxAuthAgeSeconds);
  }
}
