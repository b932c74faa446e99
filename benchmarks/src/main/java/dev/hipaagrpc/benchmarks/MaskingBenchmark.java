package dev.hipaagrpc.benchmarks;

import com.google.protobuf.Timestamp;
import dev.hipaagrpc.benchmarks.proto.masking.BenchAddress;
import dev.hipaagrpc.benchmarks.proto.masking.BenchEncounter;
import dev.hipaagrpc.benchmarks.proto.masking.BenchPatientRecord;
import dev.hipaagrpc.benchmarks.proto.masking.BenchReferenceRange;
import dev.hipaagrpc.benchmarks.proto.masking.BenchReferenceTable;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.masking.Redactor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of masking a realistic ~1 KB patient record, against serializing the same message (which
 * every gRPC response pays anyway), and the zero-cost path for a type with nothing sensitive.
 *
 * <p>Report {@code maskNoPrincipal / baselineSerializeRecord} and {@code maskClinician /
 * baselineSerializeRecord}; {@code maskNothingSensitive} returns the same instance.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MaskingBenchmark {

  private final Redactor redactor = Redactor.create();
  private final BenchPatientRecord record = record();
  private final BenchReferenceTable table = table();
  private final Principal clinician = principal("clinician");
  private final Principal billing = principal("billing");

  @Setup
  public void setUp() {
    if (record.getSerializedSize() < 950 || record.getSerializedSize() > 1150) {
      throw new IllegalStateException("record is " + record.getSerializedSize() + " bytes");
    }
    if (!isSameInstance(redactor.redact(table, null), table)) {
      throw new IllegalStateException("nothing-sensitive type was copied");
    }
    redactor.precompile(BenchPatientRecord.getDescriptor());
  }

  /** Baseline: serializing the record, as gRPC does for every response. */
  @Benchmark
  public byte[] baselineSerializeRecord() {
    return record.toByteArray();
  }

  /** Masking for a caller with no principal: everything sensitive masked. */
  @Benchmark
  public BenchPatientRecord maskNoPrincipal() {
    return redactor.redact(record, null);
  }

  /** Masking for a role that sees nothing revealed. */
  @Benchmark
  public BenchPatientRecord maskBillingRole() {
    return redactor.redact(record, billing);
  }

  /** Masking for a clinician, who sees names, notes, MRN and allergies. */
  @Benchmark
  public BenchPatientRecord maskClinician() {
    return redactor.redact(record, clinician);
  }

  /** What the interceptor adds per response and then serializes. */
  @Benchmark
  public byte[] maskThenSerialize() {
    return redactor.redact(record, billing).toByteArray();
  }

  /** Baseline for the zero-cost path: serializing the nothing-sensitive table. */
  @Benchmark
  public byte[] baselineSerializeNothingSensitive() {
    return table.toByteArray();
  }

  /** A type with nothing sensitive: one cache lookup, the same instance back. */
  @Benchmark
  public BenchReferenceTable maskNothingSensitive() {
    return redactor.redact(table, billing);
  }

  /** The safe printer, for logs (masks, then prints without TextFormat). */
  @Benchmark
  public String safePrintRecord() {
    return redactor.print(record);
  }

  /**
   * A cross-check for shared, overloaded machines, where JMH's wall-clock times swing with the
   * scheduler: the same operations timed by the thread's CPU time, as ratios to serialization. Run:
   * {@code java -cp benchmarks/target/benchmarks.jar
   * 'dev.hipaagrpc.benchmarks.MaskingBenchmark$CpuTime'}.
   */
  public static final class CpuTime {
    private CpuTime() {}

    public static void main(String[] args) {
      MaskingBenchmark b = new MaskingBenchmark();
      b.setUp();
      java.lang.management.ThreadMXBean mx =
          java.lang.management.ManagementFactory.getThreadMXBean();
      java.util.Map<String, java.util.function.Supplier<Object>> ops =
          new java.util.LinkedHashMap<>();
      ops.put("baselineSerializeRecord", b::baselineSerializeRecord);
      ops.put("maskNoPrincipal", b::maskNoPrincipal);
      ops.put("maskBillingRole", b::maskBillingRole);
      ops.put("maskClinician", b::maskClinician);
      ops.put("maskThenSerialize", b::maskThenSerialize);
      ops.put("baselineSerializeNothingSensitive", b::baselineSerializeNothingSensitive);
      ops.put("maskNothingSensitive", b::maskNothingSensitive);
      ops.put("safePrintRecord", b::safePrintRecord);
      int iterations = 50_000;
      java.util.Map<String, Double> result = new java.util.LinkedHashMap<>();
      for (int round = 0; round < 4; round++) {
        for (java.util.Map.Entry<String, java.util.function.Supplier<Object>> op : ops.entrySet()) {
          int sink = 0;
          long start = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < iterations; i++) {
            sink += System.identityHashCode(op.getValue().get()) & 1;
          }
          double ns = (mx.getCurrentThreadCpuTime() - start) / (double) iterations;
          result.merge(op.getKey(), ns, Math::min);
          if (sink < 0) {
            throw new AssertionError();
          }
        }
      }
      double serialize = result.getOrDefault("baselineSerializeRecord", 1.0);
      double serializeTable = result.getOrDefault("baselineSerializeNothingSensitive", 1.0);
      for (java.util.Map.Entry<String, Double> e : result.entrySet()) {
        double base = e.getKey().contains("NothingSensitive") ? serializeTable : serialize;
        System.out.printf(
            java.util.Locale.ROOT,
            "%-34s %10.1f ns/op cpu  %6.2fx its serialization%n",
            e.getKey(),
            e.getValue(),
            e.getValue() / base);
      }
    }
  }

  @SuppressWarnings("ReferenceEquality") // the zero-cost path promises the same instance
  private static boolean isSameInstance(Object a, Object b) {
    return a == b;
  }

  private static Principal principal(String role) {
    return Principal.newBuilder("u-1", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "f")
        .addRoles(List.of(role))
        .build();
  }

  static BenchPatientRecord record() {
    BenchPatientRecord.Builder b =
        BenchPatientRecord.newBuilder()
            .setId("Patient/8f3a2c1e-77b0-4c1d-9a55-0d6f2a9e31b4")
            .setGivenName("Margaret")
            .setFamilyName("Oyelaran-Whitfield")
            .setSsn("123-45-6789")
            .setBirthDate("1931-07-14")
            .setAge(94)
            .setMrn("MRN-0048812736")
            .setMemberId("XKH884422190")
            .setAddress(
                BenchAddress.newBuilder()
                    .setLine1("4411 Sycamore Ridge Road, Apt 12B")
                    .setCity("Cambridge")
                    .setState("MA")
                    .setZip("02139-4307"))
            .addPhones("+1 617 555 0142")
            .addPhones("+1 617 555 0199")
            .setEmail("m.oyelaran.whitfield@example.org")
            .addAllergies("penicillin")
            .addAllergies("latex")
            .addAllergies("sulfonamides")
            .putExtensions("preferred-pharmacy", "Central Square Pharmacy #221")
            .putExtensions("emergency-contact", "Daniel Whitfield, son, +1 617 555 0177")
            .putExtensions("advance-directive", "DNR/DNI on file, reviewed 2025-01-10")
            .setGender("female")
            .setLanguage("en-US");
    for (int i = 0; i < 3; i++) {
      b.addEncounters(
          BenchEncounter.newBuilder()
              .setEncounterId("Encounter/2025-" + (1000 + i))
              .setStart(Timestamp.newBuilder().setSeconds(1_740_000_000L + i * 86_400L * 30))
              .addDiagnosisCodes("I10")
              .addDiagnosisCodes("E11.9")
              .setAttending("Dr. Priya Raman")
              .setNote(
                  "Follow-up for hypertension and type 2 diabetes; BP 142/88; A1c 7.4%."
                      + " Continue metformin 500 mg BID."));
    }
    return b.build();
  }

  static BenchReferenceTable table() {
    BenchReferenceTable.Builder b = BenchReferenceTable.newBuilder().setVersion("2025.1");
    String[] analytes = {"glucose", "sodium", "potassium", "creatinine", "hemoglobin", "wbc"};
    for (int i = 0; i < analytes.length; i++) {
      b.addRanges(
          BenchReferenceRange.newBuilder()
              .setAnalyte(analytes[i])
              .setLow(i)
              .setHigh(i + 10.5)
              .setUnit("mmol/L"));
    }
    return b.build();
  }
}
