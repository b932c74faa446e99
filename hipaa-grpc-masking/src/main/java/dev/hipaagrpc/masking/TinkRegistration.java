package dev.hipaagrpc.masking;

import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.daead.DeterministicAeadConfig;
import com.google.crypto.tink.mac.MacConfig;
import java.security.GeneralSecurityException;

/** Registers the Tink key managers this module generates and parses keys with, once per JVM. */
final class TinkRegistration {

  private TinkRegistration() {}

  private static final class Holder {
    static {
      try {
        AeadConfig.register();
        DeterministicAeadConfig.register();
        MacConfig.register();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("Tink cannot register its key managers on this JVM", e);
      }
    }

    static void touch() {}
  }

  static void ensure() {
    Holder.touch();
  }
}
