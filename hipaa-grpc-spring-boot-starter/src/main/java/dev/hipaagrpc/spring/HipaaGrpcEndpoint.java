package dev.hipaagrpc.spring;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.SecurityStack;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * The {@code hipaagrpc} actuator endpoint: the stack's {@linkplain SecurityStack#posture() posture
 * report} as JSON ({@code GET /actuator/hipaagrpc} once exposed). Registered only when actuator is
 * on the classpath and the endpoint is available under actuator's own exposure settings ({@code
 * management.endpoints.web.exposure.include=hipaagrpc}); actuator exposes nothing but {@code
 * health} over HTTP by default, so this endpoint is not reachable until you say so. The report
 * holds configuration facts only, no secret; still, it maps your defences: expose it on the
 * management port only.
 *
 * <p>Thread-safe.
 */
@Endpoint(id = "hipaagrpc")
public final class HipaaGrpcEndpoint {

  private final SecurityStack stack;

  /** An endpoint reporting {@code stack}. */
  public HipaaGrpcEndpoint(SecurityStack stack) {
    this.stack = requireNonNull(stack, "stack");
  }

  /** The posture report, made now from the running configuration. */
  @ReadOperation(produces = "application/json")
  public String posture() {
    return stack.posture().toJson();
  }
}
