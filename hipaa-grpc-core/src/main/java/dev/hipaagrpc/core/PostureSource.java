package dev.hipaagrpc.core;

import java.util.List;

/**
 * Something whose live configuration is evidence: a layer, TLS credentials, a key source, a
 * certificate monitor. {@link SecurityStack#posture()} asks every layer (each {@link SecurityLayer}
 * is a source) and every source given to {@link SecurityStack.Builder#postureFrom} for its items
 * each time a report is made, so the report shows the configuration as it is now (after a policy
 * reload or a certificate rotation), not as it was at start-up.
 *
 * <p>Items are configuration facts only: never a key, token, secret, password or PHI (key ids,
 * certificate fingerprints and hashes are fine). Implementations must be thread-safe and quick (a
 * report may be asked for by an actuator endpoint at any time); a source that throws is reported as
 * one {@code posture.source_failed} item instead of failing the report.
 */
@FunctionalInterface
public interface PostureSource {

  /** The items this source contributes, in a stable order. */
  List<PostureItem> posture();
}
