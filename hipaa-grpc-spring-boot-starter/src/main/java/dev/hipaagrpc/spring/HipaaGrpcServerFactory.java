package dev.hipaagrpc.spring;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.tls.HardenedServerDefaults;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import java.util.List;
import org.springframework.grpc.server.NettyGrpcServerFactory;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * Spring's Netty gRPC server factory with the hipaa-grpc transport and stack: the server listens
 * with the tls module's credentials (hardened TLS, client certificates, key and trust re-read on
 * every handshake) instead of Spring's SSL bundle, gets {@link HardenedServerDefaults}, runs the
 * {@link SecurityStack} once for every call of every service (outermost: Spring's global
 * interceptors run inside it, after authentication and authorization), and wraps every service it
 * serves, Spring's health and reflection services included, for guarded request parsing.
 *
 * <p>Spring's own server builder customizers still apply, before the stack is applied. Thread-safe
 * as Spring's factory is: configured once at start-up.
 */
public class HipaaGrpcServerFactory extends NettyGrpcServerFactory {
  private final ServerCredentials credentials;
  private final SecurityStack stack;
  private final HardenedServerDefaults transportLimits;

  /**
   * Creates the factory.
   *
   * @param address {@code host:port} as Spring's factory takes it ({@code *:9090} for every
   *     address)
   * @param customizers Spring's server builder customizers
   * @param credentials the tls module's server credentials
   * @param stack the stack every call passes
   * @param transportLimits the transport limits
   */
  public HipaaGrpcServerFactory(
      String address,
      List<ServerBuilderCustomizer<NettyServerBuilder>> customizers,
      ServerCredentials credentials,
      SecurityStack stack,
      HardenedServerDefaults transportLimits) {
    super(address, customizers, null, null, null);
    this.credentials = requireNonNull(credentials, "credentials");
    this.stack = requireNonNull(stack, "stack");
    this.transportLimits = requireNonNull(transportLimits, "transportLimits");
  }

  /** The tls module's credentials, never Spring's (plaintext or SSL bundle) ones. */
  @Override
  protected ServerCredentials credentials() {
    return credentials;
  }

  @Override
  protected NettyServerBuilder newServerBuilder() {
    return transportLimits.applyTo(super.newServerBuilder());
  }

  /**
   * Spring's services and customizers first, the stack last: it is then outermost (interceptors a
   * customizer adds run inside it) and owns the fallback registry (unknown methods authenticated
   * and audited), whatever a customizer set.
   */
  @Override
  protected void configure(NettyServerBuilder builder, List<ServerServiceDefinition> services) {
    super.configure(builder, services);
    stack.applyTo(builder);
  }

  /** Every service, whoever registers it, passes the stack's guarded request parsing. */
  @Override
  public void addService(ServerServiceDefinition service) {
    super.addService(stack.wrap(service));
  }

  /** The stack every call passes. */
  public SecurityStack stack() {
    return stack;
  }
}
