package dev.hipaagrpc.auth.authn;

/** Tells a {@link KeyFetchObserver}, ignoring anything it throws. */
final class FetchReports {
  private FetchReports() {}

  static void tell(
      KeyFetchObserver observer, KeyFetchObserver.Kind kind, KeyFetchObserver.Outcome outcome) {
    try {
      observer.onFetch(kind, outcome);
    } catch (RuntimeException e) {
      // An observer must not throw; a metric is not worth a failed fetch.
    }
  }
}
