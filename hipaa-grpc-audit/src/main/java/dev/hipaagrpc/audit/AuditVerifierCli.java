package dev.hipaagrpc.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@link AuditVerifier} ({@code java -cp <audit jar + bcpkix + bcprov + bcutil
 * + protobuf-java + protobuf-java-util + gson + guava> dev.hipaagrpc.audit.AuditVerifierCli ...}):
 *
 * <pre>
 * AuditVerifierCli --dir DIR --public-key checkpoint-signing.pub
 *                  [--chain-key chain-genesis.key] [--anchor checkpoints.jsonl]...
 *                  [--checkpoint-note NOTE]... [--witness-policy POLICY] [--origin ORIGIN]
 *                  [--require-closed] [--allow-pruned-head]
 * AuditVerifierCli receipt --dir DIR (--seq N | --event-id ID)      prints a receipt
 * AuditVerifierCli receipt --check RECEIPT --public-key FILE        verifies one
 * </pre>
 *
 * Key files are read as {@link AuditKeys} reads them (PEM, or the legacy one-line formats). Prints
 * the number of records verified, or the first bad record (file, line, sequence number) and why;
 * exits 0 when the log verifies, 1 when it does not, 2 on a usage or I/O error. Error output names
 * the file it could not use and why (a fixed sentence or the file system's error), never file
 * content.
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
    if (args.length > 0 && args[0].equals("receipt")) {
      return receipt(args, out, err);
    }
    Path dir = null;
    Path pub = null;
    Path chain = null;
    List<Path> anchorFiles = new ArrayList<>();
    List<Path> noteFiles = new ArrayList<>();
    Path policyFile = null;
    String origin = null;
    boolean requireClosed = false;
    boolean pruned = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--dir" -> dir = Path.of(args[++i]);
          case "--public-key" -> pub = Path.of(args[++i]);
          case "--chain-key" -> chain = Path.of(args[++i]);
          case "--anchor" -> anchorFiles.add(Path.of(args[++i]));
          case "--checkpoint-note" -> noteFiles.add(Path.of(args[++i]));
          case "--witness-policy" -> policyFile = Path.of(args[++i]);
          case "--origin" -> origin = args[++i];
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
              + " [--anchor FILE]... [--checkpoint-note FILE]... [--witness-policy FILE]"
              + " [--origin ORIGIN] [--require-closed] [--allow-pruned-head]");
      return 2;
    }
    AuditVerifier.Builder b;
    Path reading = pub;
    try {
      b = AuditVerifier.newBuilder(AuditKeys.readPublicKey(pub));
      if (chain != null) {
        reading = chain;
        b.chainKey(AuditKeys.readSecretKey(chain));
      }
      for (Path n : noteFiles) {
        reading = n;
        b.checkpointNote(Files.readString(n, UTF_8));
      }
      if (policyFile != null) {
        reading = policyFile;
        b.witnessPolicy(WitnessPolicy.parse(Files.readString(policyFile, UTF_8)));
      }
      if (origin != null) {
        b.origin(origin);
      }
      for (Path a : anchorFiles) {
        reading = a;
        long n = 0;
        for (String line : Files.readAllLines(a, UTF_8)) {
          n++;
          if (!line.isBlank()) {
            try {
              b.anchor(line);
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException("line " + n + ": " + e.getMessage(), e);
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // Our key and anchor readers' messages name labels and line numbers, never content.
      err.println("error: cannot use " + reading + ": " + describe(e));
      return 2;
    }
    try {
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
      err.println("error: " + describe(e));
      return 2;
    }
  }

  /**
   * {@code receipt --dir DIR --seq N} prints the receipt of record N; {@code receipt --dir DIR
   * --event-id ID} that of an event; {@code receipt --check FILE --public-key PUB} verifies one
   * (exit 0 verified, 1 not, 2 usage or I/O error).
   */
  private static int receipt(String[] args, PrintStream out, PrintStream err) {
    Path dir = null;
    Path check = null;
    Path pub = null;
    String seq = null;
    String eventId = null;
    try {
      for (int i = 1; i < args.length; i++) {
        switch (args[i]) {
          case "--dir" -> dir = Path.of(args[++i]);
          case "--check" -> check = Path.of(args[++i]);
          case "--public-key" -> pub = Path.of(args[++i]);
          case "--seq" -> seq = args[++i];
          case "--event-id" -> eventId = args[++i];
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if ((check == null) == (dir == null)
          || (check != null && pub == null)
          || (dir != null && (seq == null) == (eventId == null))) {
        throw new IllegalArgumentException("missing or contradictory options");
      }
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      err.println(
          "usage: AuditVerifierCli receipt --dir DIR (--seq N | --event-id ID)\n"
              + "       AuditVerifierCli receipt --check RECEIPT --public-key FILE");
      return 2;
    }
    Path reading = check != null ? check : requireNonNull(dir);
    try {
      if (check != null) {
        String text = Files.readString(check, UTF_8);
        reading = requireNonNull(pub);
        PublicKey key = AuditKeys.readPublicKey(pub);
        AuditReceipts.Verified v;
        try {
          v = AuditReceipts.verify(text, key);
        } catch (IllegalArgumentException e) {
          out.println("FAILED: " + e.getMessage());
          return 1;
        }
        out.println(
            "OK: record seq "
                + v.seq()
                + " is in the log "
                + v.origin()
                + " (checkpoint of tree size "
                + v.treeSize()
                + ")");
        out.println(v.record());
        return 0;
      }
      Path d = requireNonNull(dir);
      out.print(
          seq != null
              ? AuditReceipts.create(d, Long.parseLong(seq))
              : AuditReceipts.forEvent(d, requireNonNull(eventId)));
      return 0;
    } catch (IOException | RuntimeException e) {
      err.println("error: cannot use " + reading + ": " + describe(e));
      return 2;
    }
  }

  /**
   * The exception's class and, for the exceptions our readers raise and the JDK's file errors, its
   * message: fixed sentences, paths, labels and numbers, never file content.
   */
  private static String describe(Exception e) {
    String m = e.getMessage();
    boolean safe = e instanceof IllegalArgumentException || e instanceof IOException;
    return e.getClass().getSimpleName() + (safe && m != null ? " (" + m + ")" : "");
  }
}
