package dev.hipaagrpc.tls;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Protocol and cipher-suite validation shared by both credentials builders. */
final class TlsSettings {

  private TlsSettings() {}

  static List<String> protocols(@Nullable List<String> requested) {
    if (requested == null) {
      return TlsProfile.PROTOCOLS;
    }
    if (requested.isEmpty()) {
      throw new IllegalStateException("protocols: choose TLSv1.3 and/or TLSv1.2");
    }
    for (String p : requested) {
      if (!TlsProfile.PROTOCOLS.contains(p)) {
        throw new IllegalStateException(
            "protocol " + p + " is refused: only TLSv1.3 and TLSv1.2 are allowed");
      }
    }
    List<String> out = new ArrayList<>();
    for (String p : TlsProfile.PROTOCOLS) {
      if (requested.contains(p)) {
        out.add(p);
      }
    }
    return List.copyOf(out);
  }

  static List<String> cipherSuites(TlsProfile profile, @Nullable List<String> requested) {
    if (requested == null) {
      return profile.cipherSuites();
    }
    if (requested.isEmpty()) {
      throw new IllegalStateException("cipherSuites: choose at least one suite of " + profile);
    }
    for (String s : requested) {
      if (!profile.cipherSuites().contains(s)) {
        throw new IllegalStateException(
            "cipher suite "
                + s
                + " is refused: only AEAD, forward-secret suites of profile "
                + profile
                + " are allowed: "
                + profile.cipherSuites());
      }
    }
    return List.copyOf(requested);
  }

  static void checkProtocolsHaveSuites(List<String> protocols, List<String> suites) {
    for (String p : protocols) {
      boolean tls13 = p.equals("TLSv1.3");
      boolean any = false;
      for (String s : suites) {
        // TLS 1.3 suites have no key-exchange part in their names.
        if (tls13 == !s.startsWith("TLS_ECDHE_")) {
          any = true;
        }
      }
      if (!any) {
        throw new IllegalStateException(
            "protocol " + p + " is enabled but none of the chosen cipher suites works with it");
      }
    }
  }
}
