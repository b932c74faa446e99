package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.core.CorrelationId;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Cost of accepting or generating a correlation id, against a baseline UUID. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CorrelationIdBenchmark {

  private final String incoming = "req-0123456789abcdef";

  /** Baseline: the JDK's random UUID as a string. */
  @Benchmark
  public String baselineRandomUuid() {
    return java.util.UUID.randomUUID().toString();
  }

  @Benchmark
  public String generate() {
    return CorrelationId.generate();
  }

  @Benchmark
  public boolean validateIncoming() {
    return CorrelationId.isAcceptable(incoming);
  }
}
