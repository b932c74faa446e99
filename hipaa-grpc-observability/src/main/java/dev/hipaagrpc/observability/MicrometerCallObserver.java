package dev.hipaagrpc.observability;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CallObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Micrometer meters for every call the stack ran ({@link
 * dev.hipaagrpc.core.SecurityStack.Builder#observe}):
 *
 * <ul>
 *   <li>{@code hipaa.grpc.server.calls} (timer), tags {@code method} (the full method name, {@code
 *       unknown} for methods the server does not have), {@code status} (the gRPC code the caller
 *       got), {@code decision} ({@code ALLOW}, {@code DENY}, {@code BREAK_GLASS} or {@code none}
 *       when no decision was reached);
 *   <li>{@code hipaa.grpc.authentication.failures} (counter), tag {@code code} (the fixed failure
 *       code, e.g. {@code expired_token}, {@code missing_credentials});
 *   <li>{@code hipaa.grpc.authorization.decisions} (counter), tags {@code rule} (the policy rule
 *       id) and {@code outcome};
 *   <li>{@code hipaa.grpc.break_glass} (counter), tags {@code rule} and {@code reason} (one of the
 *       policy's reason codes).
 * </ul>
 *
 * <p>Every tag value comes from the server's own configuration (method names, failure codes, rule
 * ids, reason codes): never a subject, tenant, patient, token or header. Rate-limit refusals are
 * the calls with status {@code RESOURCE_EXHAUSTED}. Meters are looked up once per tag combination
 * and cached. Thread-safe.
 */
public final class MicrometerCallObserver implements CallObserver {
  private final MeterRegistry registry;
  private final ConcurrentMap<String, Timer> calls = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  private MicrometerCallObserver(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Records into {@code registry}. */
  public static MicrometerCallObserver create(MeterRegistry registry) {
    return new MicrometerCallObserver(requireNonNull(registry, "registry"));
  }

  @Override
  public void onCallEnd(CallEnd call) {
    CallFacts facts = call.facts();
    AccessDecision decision = facts.decision();
    String outcome = decision == null ? "none" : decision.outcome().name();
    String status = call.status().name();
    calls
        .computeIfAbsent(
            call.method() + '\n' + status + '\n' + outcome,
            k ->
                Timer.builder("hipaa.grpc.server.calls")
                    .description("Calls through the hipaa-grpc stack")
                    .tag("method", call.method())
                    .tag("status", status)
                    .tag("decision", outcome)
                    .register(registry))
        .record(call.duration());
    String failure = facts.authenticationFailure();
    if (failure != null) {
      counter("hipaa.grpc.authentication.failures", "code", failure).increment();
    }
    if (decision != null) {
      counter("hipaa.grpc.authorization.decisions", "rule", decision.ruleId(), "outcome", outcome)
          .increment();
      String reason = decision.breakGlassReason();
      if (decision.outcome() == AccessDecision.Outcome.BREAK_GLASS && reason != null) {
        counter("hipaa.grpc.break_glass", "rule", decision.ruleId(), "reason", reason).increment();
      }
    }
  }

  private Counter counter(String name, String... tags) {
    return counters.computeIfAbsent(
        name + '\n' + String.join("\n", tags),
        k -> Counter.builder(name).tags(tags).register(registry));
  }
}
