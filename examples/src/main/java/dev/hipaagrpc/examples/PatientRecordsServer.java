package dev.hipaagrpc.examples;

import dev.hipaagrpc.audit.AuditDispatcher;
import dev.hipaagrpc.audit.AuditKeys;
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
import dev.hipaagrpc.core.PostureReport;
import dev.hipaagrpc.core.SecurityStack;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.masking.MaskingServerInterceptor;
import dev.hipaagrpc.masking.Redactor;
import dev.hipaagrpc.masking.StatusSanitizerServerInterceptor;
import dev.hipaagrpc.tls.CertificateExpiryMonitor;
import dev.hipaagrpc.tls.HardenedServerDefaults;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsServerCredentials;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * The patient-records server with the full hipaa-grpc stack, in the canonical order:
 *
 * <pre>
 * correlation -> audit -> transport guard -> authentication -> authorization
 *             -> rate limit -> status sanitizer -> masking -> service
 * </pre>
 *
 * <p>Every piece of configuration below is what a production service would write, except where the
 * key material comes from (here, {@link DemoEnvironment}'s development PKI and keys).
 */
final class PatientRecordsServer implements Closeable {

  /** Who may do what beyond the rules declared on the rpcs themselves (see the .proto). */
  static AuthorizationPolicy codePolicy() {
    return AuthorizationPolicy.newBuilder("2026-11-demo-1")
        // Billing staff read demographics for payment, and must say so.
        .rule(
            AuthorizationPolicy.allow("billing-read-patient")
                .methods("hipaagrpc.examples.records.v1.PatientRecords/GetPatient")
                .anyRole("billing")
                .purposes("HPAYMT"))
        // Physicians may break the glass, with one of these reasons.
        .breakGlass(
            List.of("physician"), List.of(), List.of("PATIENT_EMERGENCY", "CLINICAL_URGENCY"))
        .build();
  }

  /**
   * How much of the example {@link #start(DemoEnvironment, int, String, URI, SSLContext, Options)}
   * applies. The example is {@link #EXAMPLE}; the others exist for the full-stack benchmark ({@link
   * BenchmarkServer}), which measures this wiring with layers taken away.
   */
  enum Wiring {
    /** The example's TLS and transport limits; the service is added without the stack. */
    TLS_ONLY,
    /** Every layer but audit ({@code allowUnsafeWithoutAudit}). */
    WITHOUT_AUDIT,
    /**
     * Every layer; audit as the example's except not durable before the response, and with
     * back-pressure ({@code BLOCK}) instead of fail-closed: without the durable wait nothing holds
     * a closed-loop load to the writer's speed, so under fail-closed the queue fills and calls are
     * refused {@code UNAVAILABLE}; {@code BLOCK} measures the writer's sustained rate instead.
     */
    BUFFERED_AUDIT,
    /** The example: every layer, audit durable before the response and fail-closed. */
    EXAMPLE
  }

  /**
   * What {@link #start(DemoEnvironment, int, String, URI, SSLContext, Options)} varies for the
   * full-stack benchmark; the example uses {@link #example}.
   *
   * @param unlimitedRates rate limits that never refuse (a benchmark's load would hit the
   *     example's), instead of the example's
   * @param auditDir where the audit log goes (one directory per server process)
   */
  record Options(
      Wiring wiring, boolean unlimitedRates, Path auditDir, PatientRecordsService service) {
    static Options example(DemoEnvironment env) {
      return new Options(Wiring.EXAMPLE, false, env.auditDir, new PatientRecordsService());
    }
  }

  private final Server server;
  private final KeySource keys;
  private final @Nullable AuditDispatcher auditDispatcher;
  private final ScheduledExecutorService scheduler;
  private final CertificateExpiryMonitor expiryMonitor;
  private final SecurityStack stack;

  private PatientRecordsServer(
      Server server,
      KeySource keys,
      @Nullable AuditDispatcher auditDispatcher,
      ScheduledExecutorService scheduler,
      CertificateExpiryMonitor expiryMonitor,
      SecurityStack stack) {
    this.stack = stack;
    this.server = server;
    this.keys = keys;
    this.auditDispatcher = auditDispatcher;
    this.scheduler = scheduler;
    this.expiryMonitor = expiryMonitor;
  }

  /**
   * Starts the server on loopback.
   *
   * @param port the port, or 0 for an ephemeral one
   * @param issuer the identity provider's issuer
   * @param jwksUri where its keys are published
   * @param idpTrust TLS trust for fetching them
   */
  static PatientRecordsServer start(
      DemoEnvironment env, int port, String issuer, URI jwksUri, SSLContext idpTrust)
      throws IOException {
    return start(env, port, issuer, jwksUri, idpTrust, Options.example(env));
  }

  /** Starts the server wired as {@code options} say (the example: {@link Options#example}). */
  static PatientRecordsServer start(
      DemoEnvironment env,
      int port,
      String issuer,
      URI jwksUri,
      SSLContext idpTrust,
      Options options)
      throws IOException {
    Wiring wiring = options.wiring();
    ScheduledExecutorService scheduler =
        Executors.newScheduledThreadPool(
            1,
            r -> {
              Thread t = new Thread(r, "hipaa-grpc-background");
              t.setDaemon(true);
              return t;
            });

    // Transmission security: TLS 1.3/1.2 (NIST SP 800-52r2 profile), client certificates required,
    // key, trust and CRLs re-read every minute so certificates rotate and revocations apply
    // without a restart.
    IdentityMaterial identity = IdentityMaterial.fromPemFiles(env.serverPem, env.serverKey);
    TrustMaterial trust = TrustMaterial.fromPemFiles(env.caPem, env.crlFiles());
    identity.reloadEvery(Duration.ofMinutes(1), scheduler);
    trust.reloadEvery(Duration.ofMinutes(1), scheduler);
    CertificateExpiryMonitor expiryMonitor =
        CertificateExpiryMonitor.newBuilder().watch(identity).watch(trust).build();
    expiryMonitor.checkEvery(Duration.ofHours(12), scheduler);

    // Authentication: the portal's certificate (the service) and the user's bearer token.
    KeySource keys =
        KeySource.fromJwksUri(jwksUri).sslContext(idpTrust).executor(scheduler).build();
    AuthenticationServerInterceptor authentication =
        AuthenticationServerInterceptor.newBuilder()
            .mode(AuthenticationServerInterceptor.Mode.TOKEN_AND_CERTIFICATE)
            .addIssuer(
                IssuerConfig.newBuilder(issuer, keys)
                    .audience(DemoIdentityProvider.AUDIENCE)
                    .requireType("at+jwt")
                    .claimMapping(ClaimMapping.newBuilder().tenantFrom("tenant").build())
                    .build())
            .peerPrincipalMapper(
                PeerPrincipalMapper.newBuilder()
                    .allowSpiffeTrustDomain(DemoEnvironment.TRUST_DOMAIN)
                    .mapSpiffeId(DemoEnvironment.PORTAL_SPIFFE_ID, "patient-portal")
                    .build())
            .build();

    // Authorization: rules on the rpcs (.proto options) pooled with the code policy above.
    PatientRecordsService service = options.service();
    ServerServiceDefinition definition = service.bindService();
    AuthorizationServerInterceptor authorization =
        AuthorizationServerInterceptor.newBuilder()
            .policy(codePolicy())
            .methodOptionsFrom(definition)
            .build();

    // Rate limits per caller, tighter for bulk-prone roles.
    RateLimitServerInterceptor rateLimit =
        options.unlimitedRates()
            ? RateLimitServerInterceptor.newBuilder().defaultLimit(1e9, 1_000_000_000L).build()
            : RateLimitServerInterceptor.newBuilder()
                .defaultLimit(20, 40)
                .roleLimit("nurse", 2, 5)
                .build();

    // Minimum necessary: masking by role from the .proto options; generic errors. Strict mode
    // refuses to start if any string field of the API carries no classification.
    Redactor redactor = Redactor.create();
    redactor.requireClassified(PatientRecordsGrpc.getServiceDescriptor());
    StatusSanitizerServerInterceptor sanitizer =
        StatusSanitizerServerInterceptor.newBuilder().redactor(redactor).build();
    MaskingServerInterceptor masking = MaskingServerInterceptor.create(redactor);

    // Audit: hash-chained, forward-secure, signed file. The response waits until its event is on
    // disk (group commit, no thread blocked per call), and calls fail closed (UNAVAILABLE) while
    // the log cannot be written. Checkpoints at the library's defaults (every 10 000 records or
    // 60 s): each costs one Ed25519 signature and three fsyncs, shared by all those records.
    AuditDispatcher dispatcher = null;
    SecurityStack.Builder stackBuilder = SecurityStack.newBuilder();
    if (wiring == Wiring.BUFFERED_AUDIT || wiring == Wiring.EXAMPLE) {
      ChainedFileSink sink =
          ChainedFileSink.newBuilder(options.auditDir())
              .genesisKey(AuditKeys.readSecretKey(env.genesisKey))
              .signingKey(
                  AuditKeys.readSigningKeyPair(env.checkpointPrivateKey, env.checkpointPublicKey))
              .build();
      dispatcher =
          AuditDispatcher.newBuilder(sink)
              .policy(wiring == Wiring.EXAMPLE ? DeliveryPolicy.FAIL_CLOSED : DeliveryPolicy.BLOCK)
              .durableBeforeResponse(wiring == Wiring.EXAMPLE)
              .build();
      stackBuilder.audit(
          AuditServerInterceptor.newBuilder(dispatcher, AuditKeys.readSecretKey(env.identifierKey))
              .build());
    } else {
      stackBuilder.allowUnsafeWithoutAudit(); // benchmark wirings only
    }

    // Transmission security: the same credentials serve and report their live TLS settings.
    ServerCredentials credentials =
        MtlsServerCredentials.newBuilder().identity(identity).trust(trust).build();
    SecurityStack stack =
        stackBuilder
            // The posture report (164.312 evidence): the layers report themselves; the TLS
            // credentials and the certificate monitor are added here.
            .postureFrom(MtlsServerCredentials.posture(credentials))
            .postureFrom(expiryMonitor)
            .transportGuard(TransportGuardServerInterceptor.create())
            .authentication(authentication)
            .authorization(authorization)
            .rateLimit(rateLimit)
            .statusSanitizer(sanitizer)
            .masking(masking)
            // Kubernetes-style probes carry no token; they still need mTLS and are audited.
            .exemptFromAuthentication(SecurityStack.HEALTH)
            .build();

    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port), credentials);
    HardenedServerDefaults.create().applyTo(builder); // transport limits only
    if (wiring == Wiring.TLS_ONLY) {
      Server server = builder.addService(definition).build().start();
      return new PatientRecordsServer(server, keys, null, scheduler, expiryMonitor, stack);
    }
    // The stack runs for every call of every service, once; unknown methods are answered after
    // authentication and audited. Every service is wrapped for guarded request parsing.
    stack.applyTo(builder);
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        builder
            .addService(stack.wrap(definition))
            .addService(stack.wrap(health.getHealthService()))
            // Reflection is refused by the default-deny policy: no rule allows it here.
            .addService(stack.wrap(ProtoReflectionServiceV1.newInstance()))
            .build()
            .start();
    return new PatientRecordsServer(server, keys, dispatcher, scheduler, expiryMonitor, stack);
  }

  int port() {
    return server.getPort();
  }

  CertificateExpiryMonitor.Report certificateReport() {
    return expiryMonitor.check();
  }

  /** The server's posture report, made now from its running configuration. */
  PostureReport posture() {
    return stack.posture();
  }

  AuditDispatcher auditDispatcher() {
    return Objects.requireNonNull(auditDispatcher, "this wiring has no audit");
  }

  void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    keys.close();
    if (auditDispatcher != null) {
      auditDispatcher.close();
    }
    scheduler.shutdownNow();
  }
}
