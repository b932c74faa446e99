package dev.hipaagrpc.examples;

import dev.hipaagrpc.examples.PatientRecordsServer.Options;
import dev.hipaagrpc.examples.PatientRecordsServer.Wiring;
import dev.hipaagrpc.examples.records.Address;
import dev.hipaagrpc.examples.records.Patient;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A seam for the full-stack benchmark ({@code dev.hipaagrpc.benchmarks.FullStackBenchmark} in the
 * benchmarks module), not part of the example: the patient-records server in one of the
 * configurations the benchmark compares, in a process of its own, so that the benchmark measures
 * {@link PatientRecordsServer}'s own wiring rather than a copy of it.
 *
 * <pre>
 * java -cp ... dev.hipaagrpc.examples.BenchmarkServer CONFIGURATION DIR
 * </pre>
 *
 * <p>It loads (or, the first time, creates) the example's environment under {@code DIR}, adds a
 * benchmark patient of about 1 KB to the service, starts the demo identity provider and the server
 * on ephemeral loopback ports, and prints {@code key=value} lines on standard output: {@code ca},
 * {@code cert}, {@code key} (the client's PEM files), {@code token} (a physician's access token,
 * valid two hours), {@code tenant}, {@code patient}, {@code recordBytes}, {@code port}, then {@code
 * ready}. It serves until its standard input reaches end of file, then stops. Every configuration
 * except {@link Configuration#FULL_STACK_DURABLE}'s audit has rate limits that never refuse;
 * several processes may share {@code DIR} if started one after another (each writes its own audit
 * directory).
 */
public final class BenchmarkServer {

  /** What the server wires, from plain grpc-java to the full example. */
  public enum Configuration {
    /** grpc-java's {@code TlsServerCredentials} with the same key and trust; no hipaa-grpc. */
    PLAIN_GRPC,
    /** The example's TLS ({@code MtlsServerCredentials} + {@code HardenedServerDefaults}). */
    OUR_TLS,
    /** Every layer the example wires except audit. */
    STACK_WITHOUT_AUDIT,
    /**
     * Every layer; the example's audit sink (signed chained file), not durable before the response,
     * delivery policy {@code BLOCK} (see {@code PatientRecordsServer.Wiring#BUFFERED_AUDIT}).
     */
    FULL_STACK_BUFFERED,
    /** The example exactly (audit durable before the response, fail-closed). */
    FULL_STACK_DURABLE
  }

  static final String BENCHMARK_PATIENT = "MRN-900001";

  private BenchmarkServer() {}

  /** Serves one configuration until standard input closes. */
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: BenchmarkServer CONFIGURATION DIR");
      System.exit(2);
    }
    Configuration configuration = Configuration.valueOf(args[0].toUpperCase(Locale.ROOT));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    DemoEnvironment env = DemoEnvironment.createOrLoad(Path.of(args[1]));
    PatientRecordsService service = new PatientRecordsService();
    Patient record = benchmarkPatient();
    service.put(record);
    DemoIdentityProvider idp = DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
    Closeable server = start(configuration, env, idp, service, out);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, idp)));
    out.println("ca=" + env.caPem);
    out.println("cert=" + env.portalPem);
    out.println("key=" + env.portalKey);
    out.println(
        "token="
            + idp.mint(
                "dr.bench",
                List.of("physician"),
                List.of("user/*.rs"),
                PatientRecordsService.TENANT,
                null,
                Duration.ofHours(2)));
    out.println("tenant=" + PatientRecordsService.TENANT);
    out.println("patient=" + BENCHMARK_PATIENT);
    out.println("recordBytes=" + record.getSerializedSize());
    out.println("ready");
    while (System.in.read() >= 0) {
      // The benchmark closes our standard input to stop us (or kills us).
    }
    System.exit(0); // runs the shutdown hook
  }

  private static Closeable start(
      Configuration configuration,
      DemoEnvironment env,
      DemoIdentityProvider idp,
      PatientRecordsService service,
      PrintStream out)
      throws IOException {
    if (configuration == Configuration.PLAIN_GRPC) {
      Server plain =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                  TlsServerCredentials.newBuilder()
                      .keyManager(env.serverPem.toFile(), env.serverKey.toFile())
                      .trustManager(env.caPem.toFile())
                      .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                      .build())
              .addService(service)
              .build()
              .start();
      out.println("port=" + plain.getPort());
      return () -> {
        plain.shutdownNow();
        try {
          plain.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };
    }
    Wiring wiring =
        switch (configuration) {
          case OUR_TLS -> Wiring.TLS_ONLY;
          case STACK_WITHOUT_AUDIT -> Wiring.WITHOUT_AUDIT;
          case FULL_STACK_BUFFERED -> Wiring.BUFFERED_AUDIT;
          default -> Wiring.EXAMPLE;
        };
    PatientRecordsServer server =
        PatientRecordsServer.start(
            env,
            0,
            idp.issuer(),
            idp.jwksUri(),
            env.trustingDevRoot(),
            new Options(
                wiring,
                true,
                env.dir.resolve("audit-" + configuration.name().toLowerCase(Locale.ROOT)),
                service));
    out.println("port=" + server.port());
    return server;
  }

  private static void stop(Closeable server, DemoIdentityProvider idp) {
    try {
      server.close();
    } catch (IOException e) {
      System.err.println("server not closed cleanly: " + e.getClass().getName());
    }
    idp.close();
  }

  /**
   * A synthetic record of about 1 KB serialized, nested (an address), with every kind of field the
   * masking rules touch, so that masking and the audit of patients touched have real work to do.
   */
  static Patient benchmarkPatient() {
    return Patient.newBuilder()
        .setTenantId(PatientRecordsService.TENANT)
        .setPatientId(BENCHMARK_PATIENT)
        .setFullName("Eleanor Whitfield-Nakamura")
        .setBirthDate("1947-07-21")
        .setSsn("321-54-9876")
        .setPhone("+1-617-555-0199")
        .setEmail("eleanor.whitfield-nakamura@example.org")
        .setAddress(
            Address.newBuilder()
                .setStreet("1650 Commonwealth Avenue, Apartment 12B")
                .setCity("Springfield")
                .setState("MA")
                .setZip("01109"))
        .setHealthPlanId("HP-55443322-01")
        .addDiagnoses("E11.65 Type 2 diabetes mellitus with hyperglycemia")
        .addDiagnoses("I10 Essential (primary) hypertension")
        .addDiagnoses("N18.3 Chronic kidney disease, stage 3 (moderate)")
        .addDiagnoses("E78.5 Hyperlipidemia, unspecified")
        .addDiagnoses("I48.91 Unspecified atrial fibrillation")
        .addDiagnoses("M17.11 Unilateral primary osteoarthritis, right knee")
        .addDiagnoses("H35.30 Unspecified macular degeneration")
        .addDiagnoses("Z79.01 Long term (current) use of anticoagulants")
        .setClinicalNotes(
            "Seen for quarterly review. A1c 8.2 % (up from 7.6 %); fasting glucose logs show"
                + " morning hyperglycemia. Metformin dose limited by eGFR 48; started low-dose"
                + " basal insulin with titration plan and hypoglycemia teaching. Blood pressure"
                + " 138/84 on lisinopril and amlodipine. Rate-controlled atrial fibrillation on"
                + " apixaban, no bleeding reported. Right knee pain limits walking; referred to"
                + " physical therapy. Dilated eye exam due next month. Follow up in 6 weeks with"
                + " renal panel, lipid panel and repeat A1c.")
        .build();
  }
}
