package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@link AuditVerifier} ({@code java -cp <audit jar + bcpkix + bcprov + bcutil
 * + protobuf-java + protobuf-java-util + gson + guava> dev.hipaagrpc.audit.AuditVerifierCli ...}):
 *
 * <pre>
 * AuditVerifierCli --dir DIR --public-key checkpoint-signing.pub
 *                  [--chain-key chain-genesis.key] [--anchor checkpoints.jsonl]...
 *                  [--require-closed] [--allow-pruned-head]
 * </pre>
 *
 * Key files are read as {@link AuditKeys} reads them (PEM, or the legacy one-line formats). Prints
 * the number of records verified, or the first bad record and why; exits 0 when the log verifies, 1
 * when it does not, 2 on a usage or I/O error. Error output names the exception class only, never
 * file content.
 */
final class AuditVerifierCli {

  private AuditVerifierCli() {}

  /**
   * Runs the verifier; see the class documentation.
   *
   * @param args the options
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Path dir = null;
    Path pub = null;
    Path chain = null;
    List<Path> anchorFiles = new ArrayList<>();
    boolean requireClosed = false;
    boolean pruned = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--dir" -> dir = Path.of(args[++i]);
          case "--public-key" -> pub = Path.of(args[++i]);
          case "--chain-key" -> chain = Path.of(args[++i]);
          case "--anchor" -> anchorFiles.add(Path.of(args[++i]));
          case "--require-closed" -> requireClosed = true;
          case "--allow-pruned-head" -> pruned = true;
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (dir == null || pub == null) {
        throw new IllegalArgumentException("--dir and --public-key are required");
      }
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      err.println(
          "usage: AuditVerifierCli --dir DIR --public-key FILE [--chain-key FILE]"
              + " [--anchor FILE]... [--require-closed] [--allow-pruned-head]");
      return 2;
    }
    try {
      AuditVerifier.Builder b = AuditVerifier.newBuilder(AuditKeys.readPublicKey(pub));
      if (chain != null) {
        b.chainKey(AuditKeys.readSecretKey(chain));
      }
      for (Path a : anchorFiles) {
        for (String line : Files.readAllLines(a, UTF_8)) {
          if (!line.isBlank()) {
            b.anchor(line);
          }
        }
      }
      AuditVerifier.Result r =
          b.requireClosed(requireClosed).allowPrunedHead(pruned).build().verify(dir);
      if (r.ok()) {
        out.println(
            "OK: "
                + r.recordsVerified()
                + " records verified in "
                + r.files()
                + " files, "
                + r.checkpointsVerified()
                + " signed checkpoints, last seq "
                + r.lastSeq()
                + ", "
                + r.recordsAfterLastCheckpoint()
                + " records after the last checkpoint"
                + (chain == null ? " (not HMAC-checked: no --chain-key)" : "")
                + (r.closed() ? ", closed" : ", open"));
        return 0;
      }
      out.println(
          "FAILED after " + r.recordsVerified() + " good records: " + requireNonNull(r.failure()));
      return 1;
    } catch (IOException | RuntimeException e) {
      err.println("error: " + e.getClass().getSimpleName());
      return 2;
    }
  }
}
