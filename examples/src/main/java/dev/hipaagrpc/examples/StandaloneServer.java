package dev.hipaagrpc.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Starts the patient-records server alone, for any gRPC client in any language.
 *
 * <pre>
 * java -cp ... dev.hipaagrpc.examples.StandaloneServer [--port 8443] [--dir ./hipaa-grpc-data]
 *     [--print-posture]
 * </pre>
 *
 * <p>On first start it creates, under {@code --dir}: the development PKI ({@code pki/}: {@code
 * ca.pem}, the client certificate {@code portal.pem}/{@code portal.key} to call with), the identity
 * provider's key, the audit keys and log, and the {@code .proto} files a client needs ({@code
 * protos/}). It serves the identity provider's JWKS on an ephemeral loopback port and writes its
 * issuer to {@code idp/issuer}, which {@link MintToken} reads. Stop it with Ctrl-C: the audit log
 * is closed with a signed checkpoint. With {@code --print-posture} it prints its posture report
 * (JSON, the site's evidence page) once it is serving.
 */
public final class StandaloneServer {

  static final List<String> PROTOS =
      List.of(
          "hipaagrpc/examples/patient_records.proto",
          "hipaagrpc/auth/authz/policy.proto",
          "hipaagrpc/core/action.proto",
          "hipaagrpc/masking/sensitivity.proto");

  private StandaloneServer() {}

  /** Parses the flags and serves until interrupted. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int port = 8443;
    Path dir = Path.of("hipaa-grpc-data");
    boolean printPosture = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
        case "--dir" -> dir = Path.of(value(args, ++i, "--dir"));
        case "--print-posture" -> printPosture = true;
        default -> {
          out.println("usage: StandaloneServer [--port N] [--dir PATH] [--print-posture]");
          System.exit(2);
        }
      }
    }
    DemoEnvironment env = DemoEnvironment.createOrLoad(dir);
    writeProtos(env.dir.resolve("protos"));
    DemoIdentityProvider idp = DemoIdentityProvider.start(env.idpSigningKey(), env.idpServerTls());
    Files.writeString(env.dir.resolve("idp").resolve("issuer"), idp.issuer() + "\n");
    PatientRecordsServer server =
        PatientRecordsServer.start(env, port, idp.issuer(), idp.jwksUri(), env.trustingDevRoot());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (IOException e) {
                    System.err.println("audit log not closed cleanly: " + e.getClass().getName());
                  }
                  idp.close();
                }));
    if (printPosture) {
      // The 164.312 evidence of the running configuration (the site's evidence page shows one).
      out.println(server.posture().toJson());
    }
    out.println("patient-records listening on 127.0.0.1:" + server.port() + " (mTLS required)");
    out.println("data directory: " + env.dir);
    out.println("identity provider issuer: " + idp.issuer());
    out.println("mint a token: MintToken --dir " + env.dir + " --roles nurse --scopes 'user/*.rs'");
    server.awaitTermination();
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  /** Copies the API's .proto files (and the option files they import) out of the jars. */
  static void writeProtos(Path target) throws IOException {
    for (String proto : PROTOS) {
      try (InputStream in = StandaloneServer.class.getClassLoader().getResourceAsStream(proto)) {
        if (in == null) {
          throw new IOException("missing from the classpath: " + proto);
        }
        Path file = target.resolve(proto);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
