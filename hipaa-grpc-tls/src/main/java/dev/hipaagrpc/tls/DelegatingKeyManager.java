package dev.hipaagrpc.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * Serves the current {@link IdentityMaterial} to each handshake. The alias names the snapshot, so a
 * handshake that chose an alias just before a rotation still gets a matching key and chain.
 */
final class DelegatingKeyManager extends X509ExtendedKeyManager {

  private final IdentityMaterial material;

  DelegatingKeyManager(IdentityMaterial material) {
    this.material = material;
  }

  private @Nullable String aliasFor(@Nullable String keyType) {
    IdentityMaterial.Snapshot s = material.current();
    return keyType != null && s.key().getAlgorithm().equalsIgnoreCase(keyType) ? s.alias() : null;
  }

  private @Nullable String aliasFor(String @Nullable [] keyTypes) {
    if (keyTypes == null) {
      return null;
    }
    for (String t : keyTypes) {
      String alias = aliasFor(t);
      if (alias != null) {
        return alias;
      }
    }
    return null;
  }

  @Override
  public String @Nullable [] getClientAliases(String keyType, Principal @Nullable [] issuers) {
    String a = aliasFor(keyType);
    return a == null ? null : new String[] {a};
  }

  @Override
  public @Nullable String chooseClientAlias(
      String[] keyTypes, Principal @Nullable [] issuers, @Nullable Socket socket) {
    return aliasFor(keyTypes);
  }

  @Override
  public @Nullable String chooseEngineClientAlias(
      String[] keyTypes, Principal @Nullable [] issuers, @Nullable SSLEngine engine) {
    return aliasFor(keyTypes);
  }

  @Override
  public String @Nullable [] getServerAliases(String keyType, Principal @Nullable [] issuers) {
    String a = aliasFor(keyType);
    return a == null ? null : new String[] {a};
  }

  @Override
  public @Nullable String chooseServerAlias(
      String keyType, Principal @Nullable [] issuers, @Nullable Socket socket) {
    return aliasFor(keyType);
  }

  @Override
  public @Nullable String chooseEngineServerAlias(
      String keyType, Principal @Nullable [] issuers, @Nullable SSLEngine engine) {
    return aliasFor(keyType);
  }

  @Override
  public X509Certificate @Nullable [] getCertificateChain(String alias) {
    IdentityMaterial.Snapshot s = material.byAlias(alias);
    return s == null ? null : s.chain();
  }

  @Override
  public @Nullable PrivateKey getPrivateKey(String alias) {
    IdentityMaterial.Snapshot s = material.byAlias(alias);
    return s == null ? null : s.key();
  }
}
