package dev.hipaagrpc.audit;

import io.grpc.Metadata;
import org.jspecify.annotations.Nullable;

/** The W3C trace id of a request, from its {@code traceparent} header (version 00 only). */
final class TraceParent {

  static final Metadata.Key<String> HEADER =
      Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);

  private static final String ZERO_TRACE_ID = "0".repeat(32);

  private TraceParent() {}

  /** The trace id of the request, or "" when it has no well-formed traceparent. */
  static String traceId(Metadata headers) {
    String traceparent = headers.get(HEADER);
    if (traceparent == null) {
      return "";
    }
    String traceId = traceIdOf(traceparent);
    return traceId == null ? "" : traceId;
  }

  /** Returns the trace id of a well-formed traceparent, else null (upper-case hex is not). */
  static @Nullable String traceIdOf(String tp) {
    // 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
    if (tp.length() != 55
        || !tp.startsWith("00-")
        || tp.charAt(35) != '-'
        || tp.charAt(52) != '-') {
      return null;
    }
    String traceId = tp.substring(3, 35);
    if (!Crypto.isLowerHex(traceId)
        || !Crypto.isLowerHex(tp.substring(36, 52))
        || !Crypto.isLowerHex(tp.substring(53))
        || traceId.equals(ZERO_TRACE_ID)) {
      return null;
    }
    return traceId;
  }
}
