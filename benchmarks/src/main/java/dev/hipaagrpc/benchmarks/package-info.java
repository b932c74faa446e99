/**
 * JMH benchmarks. Build with {@code mvn -B -ntp -q install -DskipTests}, then run {@code java -jar
 * benchmarks/target/benchmarks.jar} (add a regex to pick benchmarks). The full-stack benchmark is a
 * main class, not JMH: {@code java -cp benchmarks/target/benchmarks.jar
 * dev.hipaagrpc.benchmarks.FullStackBenchmark} ({@link
 * dev.hipaagrpc.benchmarks.FullStackBenchmark}). Every figure we publish is a ratio to a baseline
 * measured in the same run.
 */
@NullMarked
package dev.hipaagrpc.benchmarks;

import org.jspecify.annotations.NullMarked;
