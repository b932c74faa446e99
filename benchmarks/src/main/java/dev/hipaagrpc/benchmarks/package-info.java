/**
 * JMH benchmarks. Build with {@code mvn -B -ntp -q install -DskipTests}, then run {@code java -jar
 * benchmarks/target/benchmarks.jar} (add a regex to pick benchmarks). Every figure we publish is a
 * ratio to a baseline measured in the same run.
 */
@NullMarked
package dev.hipaagrpc.benchmarks;

import org.jspecify.annotations.NullMarked;
