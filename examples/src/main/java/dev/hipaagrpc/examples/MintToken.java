package dev.hipaagrpc.examples;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Mints a demo access token for a {@link StandaloneServer} (development only).
 *
 * <pre>
 * MintToken --dir ./hipaa-grpc-data --sub nurse.olsen --roles nurse \
 *     --scopes "user/Patient.rs user/Observation.rs" [--tenant st-marys] [--patient MRN-100234] \
 *     [--minutes 15]
 * </pre>
 *
 * <p>Prints the token alone on standard output, for {@code -H "authorization: Bearer $(...)"}.
 */
public final class MintToken {

  private MintToken() {}

  /** Parses the flags and prints one token. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Path dir = Path.of("hipaa-grpc-data");
    String subject = "demo.user";
    List<String> roles = new ArrayList<>();
    List<String> scopes = new ArrayList<>();
    String tenant = PatientRecordsService.TENANT;
    @Nullable String patient = null;
    long minutes = 15;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        usage();
        return;
      }
      String value = args[++i];
      switch (flag) {
        case "--dir" -> dir = Path.of(value);
        case "--sub" -> subject = value;
        case "--roles" -> roles.addAll(List.of(value.trim().split("[ ,]+")));
        case "--scopes" -> scopes.addAll(List.of(value.trim().split("[ ,]+")));
        case "--tenant" -> tenant = value;
        case "--patient" -> patient = value;
        case "--minutes" -> minutes = Long.parseLong(value);
        default -> {
          usage();
          return;
        }
      }
    }
    Path idpDir = dir.resolve("idp");
    String issuer = Files.readString(idpDir.resolve("issuer")).trim();
    DemoIdentityProvider minter =
        DemoIdentityProvider.minter(
            DemoIdentityProvider.readSigningKey(idpDir.resolve("signing-key.pem")), issuer);
    out.println(minter.mint(subject, roles, scopes, tenant, patient, Duration.ofMinutes(minutes)));
  }

  private static void usage() {
    System.err.println(
        "usage: MintToken --dir DIR --sub SUBJECT --roles R1,R2 --scopes 'S1 S2'"
            + " [--tenant T] [--patient ID] [--minutes N]");
    System.exit(2);
  }
}
