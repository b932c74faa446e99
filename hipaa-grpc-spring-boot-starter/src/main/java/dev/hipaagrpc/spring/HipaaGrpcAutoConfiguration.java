package dev.hipaagrpc.spring;

import dev.hipaagrpc.audit.AuditDispatcher;
import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.audit.AuditMetrics;
import dev.hipaagrpc.audit.AuditServerInterceptor;
import dev.hipaagrpc.audit.ChainedFileSink;
import dev.hipaagrpc.audit.DeliveryPolicy;
import dev.hipaagrpc.auth.authn.AuthenticationServerInterceptor;
import dev.hipaagrpc.auth.authn.ClaimMapping;
import dev.hipaagrpc.auth.authn.IssuerConfig;
import dev.hipaagrpc.auth.authn.KeySource;
import dev.hipaagrpc.auth.authn.PeerPrincipalMapper;
import dev.hipaagrpc.auth.authz.AuthorizationPolicy;
import dev.hipaagrpc.auth.authz.AuthorizationServerInterceptor;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor;
import dev.hipaagrpc.core.CallObserver;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.masking.MaskingServerInterceptor;
import dev.hipaagrpc.masking.Redactor;
import dev.hipaagrpc.masking.StatusSanitizerServerInterceptor;
import dev.hipaagrpc.tls.CertificateExpiryMonitor;
import dev.hipaagrpc.tls.HardenedServerDefaults;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsServerCredentials;
import dev.hipaagrpc.tls.TlsHandshakeObserver;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.BindableService;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import java.io.Closeable;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.grpc.server.GrpcServerFactory;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import org.springframework.grpc.server.service.GrpcServiceConfigurer;
import org.springframework.grpc.server.service.GrpcServiceDiscoverer;
import org.springframework.grpc.server.service.GrpcServiceSpec;

/**
 * Auto-configures the hipaa-grpc stack on Spring Boot's gRPC server from {@code hipaa.grpc.*}
 * properties ({@link HipaaGrpcProperties}): mutual TLS from PEM files that rotate without a
 * restart, authentication by the configured identity providers (and client certificates),
 * default-deny authorization from the rpcs' {@code .proto} options pooled with an {@link
 * AuthorizationPolicy} bean and a watched policy file, rate limits, the status sanitizer, masking,
 * and the chained audit log, assembled by {@link SecurityStack} and served by {@link
 * HipaaGrpcServerFactory}, which replaces Spring's own Netty server factory.
 *
 * <p>Every part is a bean a user can replace by declaring one of the same type (the stack, each
 * layer, the key and trust material, the server credentials, the transport limits). Start-up fails
 * with the library's own message whenever the library would refuse the configuration: no key
 * material, no issuer, no audit log without the explicit unsafe opt-out, a policy file that does
 * not compile.
 */
@AutoConfiguration(before = GrpcServerAutoConfiguration.class)
@ConditionalOnClass({GrpcServerFactory.class, NettyServerBuilder.class})
@ConditionalOnBooleanProperty(name = "hipaa.grpc.enabled", matchIfMissing = true)
@EnableConfigurationProperties({HipaaGrpcProperties.class, GrpcServerProperties.class})
@Import({
  HipaaGrpcObservabilityConfiguration.Metrics.class,
  HipaaGrpcObservabilityConfiguration.Actuator.class
})
public final class HipaaGrpcAutoConfiguration {

  /** The thread behind material reloads, policy watching and key refresh. */
  @Bean(destroyMethod = "shutdownNow")
  @ConditionalOnMissingBean(name = "hipaaGrpcScheduler")
  ScheduledExecutorService hipaaGrpcScheduler() {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "hipaa-grpc-background");
          t.setDaemon(true);
          return t;
        });
  }

  /** Closes what the auto-configuration opened (reloads, key sources) when the context stops. */
  static final class Resources implements AutoCloseable {
    private final List<Closeable> closeables = new ArrayList<>();

    synchronized <T extends Closeable> T add(T c) {
      closeables.add(c);
      return c;
    }

    @Override
    public synchronized void close() throws IOException {
      for (Closeable c : closeables) {
        c.close();
      }
      closeables.clear();
    }
  }

  @Bean
  Resources hipaaGrpcResources() {
    return new Resources();
  }

  @Bean
  @ConditionalOnMissingBean
  IdentityMaterial hipaaGrpcIdentity(
      HipaaGrpcProperties properties, ScheduledExecutorService hipaaGrpcScheduler, Resources r) {
    HipaaGrpcProperties.Tls tls = properties.tls();
    IdentityMaterial identity =
        IdentityMaterial.fromPemFiles(
            required(tls.certificateChain(), "hipaa.grpc.tls.certificate-chain"),
            required(tls.privateKey(), "hipaa.grpc.tls.private-key"));
    r.add(identity.reloadEvery(tls.reloadPeriod(), hipaaGrpcScheduler));
    return identity;
  }

  @Bean
  @ConditionalOnMissingBean
  TrustMaterial hipaaGrpcTrust(
      HipaaGrpcProperties properties, ScheduledExecutorService hipaaGrpcScheduler, Resources r) {
    HipaaGrpcProperties.Tls tls = properties.tls();
    if (tls.trustBundle() == null) {
      // With client certificates off nothing is trusted at the transport: an empty trust.
      if (tls.clientCertificate() == HipaaGrpcProperties.ClientCertificate.NONE) {
        return TrustMaterial.of(List.of());
      }
      throw new IllegalStateException(
          "hipaa.grpc.tls.trust-bundle is required: clients must present a certificate"
              + " (hipaa.grpc.tls.client-certificate=required)");
    }
    TrustMaterial trust = TrustMaterial.fromPemFiles(tls.trustBundle(), tls.crls());
    r.add(trust.reloadEvery(tls.reloadPeriod(), hipaaGrpcScheduler));
    return trust;
  }

  /** Logs (and exposes) how long the server's and the trusted certificates remain valid. */
  @Bean
  @ConditionalOnMissingBean
  CertificateExpiryMonitor hipaaGrpcCertificateExpiry(
      IdentityMaterial identity,
      TrustMaterial trust,
      ScheduledExecutorService hipaaGrpcScheduler,
      Resources r) {
    CertificateExpiryMonitor monitor =
        CertificateExpiryMonitor.newBuilder().watch(identity).watch(trust).build();
    r.add(monitor.checkEvery(Duration.ofHours(12), hipaaGrpcScheduler));
    return monitor;
  }

  @Bean
  @ConditionalOnMissingBean(name = "hipaaGrpcServerCredentials")
  ServerCredentials hipaaGrpcServerCredentials(
      HipaaGrpcProperties properties,
      IdentityMaterial identity,
      TrustMaterial trust,
      ObjectProvider<TlsHandshakeObserver> handshakeObserver) {
    MtlsServerCredentials.Builder b = MtlsServerCredentials.newBuilder().identity(identity);
    handshakeObserver.ifAvailable(b::handshakeObserver);
    if (properties.tls().clientCertificate() == HipaaGrpcProperties.ClientCertificate.NONE) {
      b.allowUnsafeNoClientAuth();
    } else {
      b.trust(trust);
    }
    return b.build();
  }

  @Bean
  @ConditionalOnMissingBean
  HardenedServerDefaults hipaaGrpcTransportLimits() {
    return HardenedServerDefaults.create();
  }

  @Bean
  @ConditionalOnMissingBean
  AuthenticationServerInterceptor hipaaGrpcAuthentication(
      HipaaGrpcProperties properties,
      ScheduledExecutorService hipaaGrpcScheduler,
      Resources r,
      ObjectProvider<HipaaGrpcObservabilityConfiguration.IssuerMetrics> issuerMetrics)
      throws IOException {
    HipaaGrpcObservabilityConfiguration.IssuerMetrics metrics =
        issuerMetrics.getIfAvailable(() -> HipaaGrpcObservabilityConfiguration.IssuerMetrics.NONE);
    HipaaGrpcProperties.Authentication a = properties.authentication();
    AuthenticationServerInterceptor.Builder b =
        AuthenticationServerInterceptor.newBuilder()
            .mode(AuthenticationServerInterceptor.Mode.valueOf(a.mode().name()));
    int i = 0;
    for (HipaaGrpcProperties.Issuer issuer : a.issuers()) {
      String prefix = "hipaa.grpc.authentication.issuers[" + i++ + "]";
      b.addIssuer(
          issuerConfig(issuer, prefix, "issuer-" + (i - 1), hipaaGrpcScheduler, r, metrics));
    }
    if (!a.spiffeTrustDomains().isEmpty()) {
      PeerPrincipalMapper.Builder peers = PeerPrincipalMapper.newBuilder();
      a.spiffeTrustDomains().forEach(peers::allowSpiffeTrustDomain);
      b.peerPrincipalMapper(peers.build());
    }
    return b.build();
  }

  private static IssuerConfig issuerConfig(
      HipaaGrpcProperties.Issuer p,
      String prefix,
      String source,
      ScheduledExecutorService scheduler,
      Resources r,
      HipaaGrpcObservabilityConfiguration.IssuerMetrics metrics)
      throws IOException {
    String issuer = required(p.issuer(), prefix + ".issuer");
    int sources =
        (p.jwksUri() != null ? 1 : 0) + (p.discovery() ? 1 : 0) + (p.jwkSetFile() != null ? 1 : 0);
    if (sources != 1) {
      throw new IllegalStateException(
          prefix + ": set exactly one of jwks-uri, discovery=true and jwk-set-file");
    }
    KeySource keys;
    Path jwkSetFile = p.jwkSetFile();
    if (jwkSetFile != null) {
      keys = KeySource.ofJwkSetFile(jwkSetFile);
    } else {
      KeySource.RemoteBuilder remote =
          p.discovery()
              ? KeySource.fromOidcDiscovery(issuer)
              : KeySource.fromJwksUri(URI.create(required(p.jwksUri(), prefix + ".jwks-uri")));
      remote.executor(scheduler).observer(metrics.observer(source));
      Path trustBundle = p.trustBundle();
      if (trustBundle != null) {
        remote.sslContext(TrustMaterial.fromPemFiles(trustBundle).clientSslContext());
      }
      keys = r.add(remote.build());
      metrics.bindKeyAge(keys, source);
    }
    IssuerConfig.Builder b =
        IssuerConfig.newBuilder(issuer, keys)
            .audience(required(p.audience(), prefix + ".audience"))
            .claimMapping(claimMapping(p, prefix));
    if (p.audienceClaim() != null) {
      b.audienceClaim(p.audienceClaim());
    }
    if (p.maxTokenLifetime() != null) {
      b.maxTokenLifetime(p.maxTokenLifetime());
    }
    if (p.requireTokenId()) {
      b.requireTokenId();
    }
    return b.build();
  }

  private static ClaimMapping claimMapping(HipaaGrpcProperties.Issuer p, String prefix) {
    ClaimMapping.Builder b =
        switch (p.preset()) {
          case DEFAULT -> ClaimMapping.newBuilder();
          case KEYCLOAK -> ClaimMapping.keycloak(required(p.clientId(), prefix + ".client-id"));
          case AUTH0 -> ClaimMapping.auth0(required(p.rolesClaim(), prefix + ".roles-claim"));
          case OKTA -> ClaimMapping.okta();
          case ENTRA_ID -> ClaimMapping.entraId();
          case COGNITO -> ClaimMapping.cognito();
          case SMART_ON_FHIR -> ClaimMapping.smartOnFhir();
        };
    String tenant = p.tenantClaim();
    if (tenant != null) {
      b.tenantFrom(tenant);
    }
    return b.build();
  }

  /**
   * Default-deny authorization over every service Spring serves: their {@code .proto} options, the
   * {@link AuthorizationPolicy} bean when there is one, and the policy file when configured
   * (watched, a broken version keeping the last good one).
   */
  @Bean
  @ConditionalOnMissingBean
  AuthorizationServerInterceptor hipaaGrpcAuthorization(
      HipaaGrpcProperties properties,
      ObjectProvider<GrpcServiceDiscoverer> discoverer,
      ObjectProvider<AuthorizationPolicy> policy,
      ScheduledExecutorService hipaaGrpcScheduler,
      Resources r) {
    AuthorizationServerInterceptor.Builder b = AuthorizationServerInterceptor.newBuilder();
    GrpcServiceDiscoverer d = discoverer.getIfAvailable();
    if (d != null) {
      List<ServerServiceDefinition> definitions = new ArrayList<>();
      for (GrpcServiceSpec spec : d.findServices()) {
        definitions.add(spec.service().bindService());
      }
      b.methodOptionsFrom(definitions.toArray(new ServerServiceDefinition[0]));
    }
    AuthorizationPolicy code = policy.getIfAvailable();
    if (code != null) {
      b.policy(code);
    }
    Path file = properties.authorization().policyFile();
    if (file != null) {
      b.policyFile(file);
    }
    AuthorizationServerInterceptor authorization = b.build();
    if (file != null) {
      r.add(
          authorization.watchPolicyFile(
              hipaaGrpcScheduler, properties.authorization().watchPeriod()));
    }
    return authorization;
  }

  @Bean
  @ConditionalOnMissingBean
  RateLimitServerInterceptor hipaaGrpcRateLimit(HipaaGrpcProperties properties) {
    return RateLimitServerInterceptor.newBuilder()
        .defaultLimit(properties.rateLimit().permitsPerSecond(), properties.rateLimit().burst())
        .build();
  }

  @Bean
  @ConditionalOnMissingBean
  Redactor hipaaGrpcRedactor() {
    return Redactor.create();
  }

  @Bean
  @ConditionalOnMissingBean
  StatusSanitizerServerInterceptor hipaaGrpcStatusSanitizer(Redactor redactor) {
    return StatusSanitizerServerInterceptor.newBuilder().redactor(redactor).build();
  }

  @Bean
  @ConditionalOnMissingBean
  MaskingServerInterceptor hipaaGrpcMasking(Redactor redactor) {
    return MaskingServerInterceptor.create(redactor);
  }

  /** The audit log, unless {@code hipaa.grpc.audit.enabled=false}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnBooleanProperty(name = "hipaa.grpc.audit.enabled", matchIfMissing = true)
  static final class AuditConfiguration {
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    AuditDispatcher hipaaGrpcAuditDispatcher(
        HipaaGrpcProperties properties, ObjectProvider<AuditMetrics> metrics) throws IOException {
      HipaaGrpcProperties.Audit a = properties.audit();
      ChainedFileSink sink =
          ChainedFileSink.newBuilder(required(a.directory(), "hipaa.grpc.audit.directory"))
              .genesisKey(
                  AuditKeys.readSecretKey(
                      required(a.genesisKeyFile(), "hipaa.grpc.audit.genesis-key-file")))
              .signingKey(
                  AuditKeys.readSigningKeyPair(
                      required(
                          a.signingPrivateKeyFile(), "hipaa.grpc.audit.signing-private-key-file"),
                      required(
                          a.signingPublicKeyFile(), "hipaa.grpc.audit.signing-public-key-file")))
              .build();
      AuditDispatcher.Builder b = AuditDispatcher.newBuilder(sink);
      AuditMetrics m = metrics.getIfAvailable();
      if (m != null) {
        b.metrics(m);
      }
      return b.policy(
              a.delivery() == HipaaGrpcProperties.Delivery.BLOCK
                  ? DeliveryPolicy.BLOCK
                  : DeliveryPolicy.FAIL_CLOSED)
          .durableBeforeResponse(a.durableBeforeResponse())
          .build();
    }

    @Bean
    @ConditionalOnMissingBean
    AuditServerInterceptor hipaaGrpcAudit(HipaaGrpcProperties properties, AuditDispatcher d)
        throws IOException {
      Path key =
          required(properties.audit().identifierKeyFile(), "hipaa.grpc.audit.identifier-key-file");
      return AuditServerInterceptor.newBuilder(d, AuditKeys.readSecretKey(key)).build();
    }
  }

  /**
   * The stack, in the library's order. Audit is required: without an audit bean start-up fails with
   * the library's 164.312(b) message, unless {@code hipaa.grpc.audit.enabled=false} together with
   * {@code hipaa.grpc.audit.allow-unsafe-without-audit=true}.
   */
  @Bean
  @ConditionalOnMissingBean
  SecurityStack hipaaGrpcSecurityStack(
      HipaaGrpcProperties properties,
      ObjectProvider<AuditServerInterceptor> audit,
      AuthenticationServerInterceptor authentication,
      AuthorizationServerInterceptor authorization,
      RateLimitServerInterceptor rateLimit,
      StatusSanitizerServerInterceptor statusSanitizer,
      MaskingServerInterceptor masking,
      ObjectProvider<CallObserver> observers,
      ObjectProvider<ServerCredentials> serverCredentials,
      ObjectProvider<CertificateExpiryMonitor> certificateExpiry) {
    SecurityStack.Builder b =
        SecurityStack.newBuilder()
            .transportGuard(TransportGuardServerInterceptor.create())
            .authentication(authentication)
            .authorization(authorization)
            .rateLimit(rateLimit)
            .statusSanitizer(statusSanitizer)
            .masking(masking)
            .maxCallDuration(properties.maxCallDuration());
    observers.orderedStream().forEach(b::observe);
    // The posture report: the TLS credentials as built here, and the certificate monitor.
    ServerCredentials credentials = serverCredentials.getIfUnique();
    if (credentials != null) {
      try {
        b.postureFrom(MtlsServerCredentials.posture(credentials));
      } catch (IllegalArgumentException e) {
        // A user's own ServerCredentials bean: it reports nothing; the stack still does.
      }
    }
    certificateExpiry.ifUnique(b::postureFrom);
    AuditServerInterceptor a = audit.getIfAvailable();
    if (a != null) {
      b.audit(a);
    } else if (properties.audit().allowUnsafeWithoutAudit()) {
      b.allowUnsafeWithoutAudit();
    }
    if (!properties.exemptFromAuthentication().isEmpty()) {
      b.exemptFromAuthentication(properties.exemptFromAuthentication().toArray(new String[0]));
    }
    if (!properties.exemptFromAudit().isEmpty()) {
      b.exemptFromAudit(properties.exemptFromAudit().toArray(new String[0]));
    }
    return b.build();
  }

  /**
   * Fails start-up when another {@link GrpcServerFactory} would serve the application's services
   * without the stack (a user's own factory, which makes ours back off, or Spring's in-process
   * server), unless {@code hipaa.grpc.allow-unsafe-other-server-factories=true}.
   */
  @Bean
  static SmartInitializingSingleton hipaaGrpcServerFactoryGuard(
      ObjectProvider<GrpcServerFactory> factories, ObjectProvider<HipaaGrpcProperties> properties) {
    return () -> {
      HipaaGrpcProperties p = properties.getIfAvailable();
      if (p != null && p.allowUnsafeOtherServerFactories()) {
        return;
      }
      factories
          .orderedStream()
          .filter(f -> !(f instanceof HipaaGrpcServerFactory))
          .findFirst()
          .ifPresent(
              f -> {
                throw new IllegalStateException(
                    "a gRPC server factory other than HipaaGrpcServerFactory ("
                        + f.getClass().getName()
                        + ") would serve the services without the hipaa-grpc stack; remove it,"
                        + " or set hipaa.grpc.allow-unsafe-other-server-factories=true");
              });
    };
  }

  /**
   * The server: replaces Spring's Netty factory (which backs off when a {@link GrpcServerFactory}
   * bean exists) and serves what Spring would, through the stack.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnBean(BindableService.class)
  @ConditionalOnBooleanProperty(name = "spring.grpc.server.enabled", matchIfMissing = true)
  static final class ServerConfiguration {
    @Bean
    @ConditionalOnMissingBean(GrpcServerFactory.class)
    HipaaGrpcServerFactory hipaaGrpcServerFactory(
        GrpcServerProperties grpc,
        ServerCredentials hipaaGrpcServerCredentials,
        SecurityStack stack,
        HardenedServerDefaults transportLimits,
        GrpcServiceDiscoverer discoverer,
        GrpcServiceConfigurer configurer,
        ObjectProvider<ServerBuilderCustomizer<NettyServerBuilder>> customizers) {
      HipaaGrpcServerFactory factory =
          new HipaaGrpcServerFactory(
              address(grpc),
              customizers.orderedStream().toList(),
              hipaaGrpcServerCredentials,
              stack,
              transportLimits);
      for (GrpcServiceSpec spec : discoverer.findServices()) {
        factory.addService(configurer.configure(spec, factory));
      }
      return factory;
    }

    @Bean
    @ConditionalOnBean(HipaaGrpcServerFactory.class)
    @ConditionalOnMissingBean(name = "hipaaGrpcServerLifecycle")
    GrpcServerLifecycle hipaaGrpcServerLifecycle(
        HipaaGrpcServerFactory factory,
        GrpcServerProperties grpc,
        ApplicationEventPublisher events) {
      return new GrpcServerLifecycle(factory, grpc.getShutdown().getGracePeriod(), events);
    }

    /** Spring's {@code host:port} form: {@code *} for every address, 9090 by default. */
    private static String address(GrpcServerProperties grpc) {
      InetAddress address = grpc.getAddress();
      Integer port = grpc.getPort();
      String host =
          address == null
              ? "*"
              : address instanceof Inet6Address
                  ? "[" + address.getHostAddress() + "]"
                  : address.getHostAddress();
      return host + ":" + (port == null ? 9090 : port);
    }
  }

  private static <T> T required(@Nullable T value, String property) {
    if (value == null) {
      throw new IllegalStateException(property + " is required");
    }
    return value;
  }
}
