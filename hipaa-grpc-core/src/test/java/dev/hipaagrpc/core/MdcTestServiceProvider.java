package dev.hipaagrpc.core;

import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.MDCAdapter;

/**
 * slf4j-simple with a working MDC (slf4j-simple's own discards every value), selected for this
 * module's tests by the {@code slf4j.provider} system property in the pom, so that tests can read
 * what the code puts in the MDC.
 */
public final class MdcTestServiceProvider extends SimpleServiceProvider {
  private final MDCAdapter mdc = new BasicMDCAdapter();

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }
}
