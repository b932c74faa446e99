package dev.hipaagrpc.auth.authz;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.auth.authz.proto.Policy;
import dev.hipaagrpc.core.internal.PeriodicReload;
import io.grpc.ServiceDescriptor;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the compiled plan of a policy file combined with the code policy and method options, and
 * replaces it when the file changes. A file that cannot be read, does not parse or is invalid is
 * refused with a WARN log saying why, and the last good plan stays in force (the shape of
 * grpc-java's {@code FileWatcherAuthorizationServerInterceptor}).
 *
 * <p>Thread-safe: the plan is immutable behind a volatile reference; reloads are serialized.
 */
final class PolicyFileWatcher {

  private static final Logger logger = LoggerFactory.getLogger(PolicyFileWatcher.class);

  private final Path file;
  private final @Nullable Policy codePolicy;
  private final List<ServiceDescriptor> services;
  private final Set<String> knownRoles;
  private volatile PolicyPlan plan;
  private byte[] lastContent;
  private boolean readFailing;

  private PolicyFileWatcher(
      Path file,
      @Nullable Policy codePolicy,
      List<ServiceDescriptor> services,
      Set<String> knownRoles,
      PolicyPlan plan,
      byte[] content) {
    this.file = file;
    this.codePolicy = codePolicy;
    this.services = List.copyOf(services);
    this.knownRoles = Set.copyOf(knownRoles);
    this.plan = plan;
    this.lastContent = content;
  }

  /**
   * Reads and compiles the file now.
   *
   * @throws IllegalStateException if it cannot be read or the combined policy is invalid
   */
  static PolicyFileWatcher load(
      Path file,
      @Nullable Policy codePolicy,
      List<ServiceDescriptor> services,
      Set<String> knownRoles) {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read policy file " + file, e);
    }
    try {
      PolicyPlan plan = compile(file, content, codePolicy, services, knownRoles);
      return new PolicyFileWatcher(file, codePolicy, services, knownRoles, plan, content);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("invalid authorization policy: " + e.getMessage(), e);
    }
  }

  private static PolicyPlan compile(
      Path file,
      byte[] content,
      @Nullable Policy codePolicy,
      List<ServiceDescriptor> services,
      Set<String> knownRoles) {
    PolicyPlan plan =
        PolicyCompiler.compile(codePolicy, AuthorizationPolicy.parseFile(file, content), services);
    plan.requireKnownRoles(knownRoles);
    return plan;
  }

  PolicyPlan plan() {
    return plan;
  }

  /** Re-reads the file every {@code period} on {@code executor}; closing stops it. */
  Closeable watch(ScheduledExecutorService executor, Duration period) {
    requireNonNull(executor, "executor");
    requireNonNull(period, "period");
    return PeriodicReload.schedule(this::reload, period, executor, "policy file");
  }

  /** Reloads the file now; returns whether a new plan took effect. */
  synchronized boolean reload() {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      if (!readFailing) { // once per outage, not every period
        readFailing = true;
        logger.warn(
            "cannot read policy file {} ({}); keeping policy version {}",
            file,
            e.getClass().getSimpleName(),
            plan.version);
      }
      return false;
    }
    readFailing = false;
    if (Arrays.equals(content, lastContent)) {
      return false;
    }
    // Remember the content even when refused, so a bad file is reported once, not every period.
    lastContent = content;
    try {
      PolicyPlan next = compile(file, content, codePolicy, services, knownRoles);
      plan = next;
      logger.info(
          "policy file {} loaded: version {}, {} rules", file, next.version, next.ruleCount);
      return true;
    } catch (IllegalArgumentException e) {
      // Policy text is configuration, never PHI: its validation message says what to fix.
      logger.warn(
          "policy file {} refused: {}; keeping policy version {}",
          file,
          e.getMessage(),
          plan.version);
      return false;
    }
  }
}
