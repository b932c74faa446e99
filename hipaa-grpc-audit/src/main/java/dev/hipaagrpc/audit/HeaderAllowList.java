package dev.hipaagrpc.audit;

import io.grpc.Metadata;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The request headers an event may record: named by the operator, checked at configuration time so
 * that no credential-carrying header can ever be added, values reduced to printable ASCII.
 * Immutable once built; builders fill a {@link Builder}.
 */
final class HeaderAllowList {

  static final HeaderAllowList NONE = new HeaderAllowList(Map.of());

  private static final int MAX_HEADER_VALUE = 128;

  /** Header names that carry credentials or session state and may never be recorded. */
  static final Set<String> FORBIDDEN_HEADERS =
      Set.of(
          "authorization",
          "proxy-authorization",
          "cookie",
          "set-cookie",
          "x-api-key",
          "x-auth-token",
          "x-amz-security-token",
          "dpop");

  private final Map<String, Metadata.Key<String>> keys;

  private HeaderAllowList(Map<String, Metadata.Key<String>> keys) {
    this.keys = Map.copyOf(keys);
  }

  /** Validates an allow-listed header name at configuration time; returns it in lower case. */
  static String checkHeaderName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
      throw new IllegalArgumentException("binary headers cannot be audited: " + n);
    }
    if (FORBIDDEN_HEADERS.contains(n)
        || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("session")) {
      throw new IllegalArgumentException(
          "header " + n + " carries credentials and may never be recorded in an audit event");
    }
    if (n.isEmpty() || n.startsWith(":")) {
      throw new IllegalArgumentException("not a request header name: " + n);
    }
    return n;
  }

  /** The allow-listed headers present (printable ASCII, truncated); empty when none are set. */
  Map<String, String> recorded(Metadata headers) {
    if (keys.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, Metadata.Key<String>> e : keys.entrySet()) {
      String v = headers.get(e.getValue());
      if (v != null) {
        out.put(e.getKey(), sanitize(v));
      }
    }
    return out;
  }

  static String sanitize(String v) {
    int n = Math.min(v.length(), MAX_HEADER_VALUE);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = v.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  /** Collects header names for an interceptor builder. Not thread-safe. */
  static final class Builder {
    private final Map<String, Metadata.Key<String>> keys = new LinkedHashMap<>();

    /**
     * Checks {@code name} (see {@link #checkHeaderName}) and adds it.
     *
     * @throws IllegalArgumentException for binary or credential-carrying headers
     */
    void add(String name) {
      String n = checkHeaderName(name);
      keys.put(n, Metadata.Key.of(n, Metadata.ASCII_STRING_MARSHALLER));
    }

    HeaderAllowList build() {
      return keys.isEmpty() ? NONE : new HeaderAllowList(keys);
    }
  }
}
