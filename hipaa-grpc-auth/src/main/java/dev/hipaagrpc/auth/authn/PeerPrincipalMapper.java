package dev.hipaagrpc.auth.authn;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.PeerIdentity;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Maps the client certificate of a mutual-TLS connection to a service account.
 *
 * <p>Rules, in order: an exact SPIFFE ID mapped to an account; a SPIFFE ID in an allowed trust
 * domain (the account is the SPIFFE ID itself); a DNS SAN mapped to an account; and, only after
 * {@link Builder#allowSubjectCommonName()}, a subject common name mapped to an account. A
 * certificate matching no rule is not a principal. Certificate validation itself (chain, expiry,
 * revocation) is the TLS layer's job; this class only names an already-authenticated peer.
 *
 * <p>Immutable and thread-safe.
 */
public final class PeerPrincipalMapper {

  /** A mapped service account and its roles. */
  static final class ServiceAccount {
    final String name;
    final Set<String> roles;

    ServiceAccount(String name, Set<String> roles) {
      this.name = name;
      this.roles = roles;
    }
  }

  private final Map<String, String> spiffeIds;
  private final Set<String> trustDomains;
  private final Map<String, String> dnsNames;
  private final Map<String, String> commonNames;
  private final Map<String, Set<String>> roles;

  private PeerPrincipalMapper(Builder b) {
    this.spiffeIds = Map.copyOf(b.spiffeIds);
    this.trustDomains = Set.copyOf(b.trustDomains);
    this.dnsNames = Map.copyOf(b.dnsNames);
    this.commonNames = Map.copyOf(b.commonNames);
    Map<String, Set<String>> r = new HashMap<>();
    b.roles.forEach((k, v) -> r.put(k, Set.copyOf(v)));
    this.roles = Map.copyOf(r);
  }

  /** Starts an empty mapper. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Nullable ServiceAccount map(PeerIdentity peer) {
    String account = null;
    String spiffe = peer.spiffeId();
    if (spiffe != null) {
      account = spiffeIds.get(spiffe);
      if (account == null && trustDomains.contains(peer.spiffeTrustDomain())) {
        account = spiffe;
      }
    }
    if (account == null) {
      for (String dns : peer.dnsNames()) {
        account = dnsNames.get(dns);
        if (account != null) {
          break;
        }
      }
    }
    if (account == null && !commonNames.isEmpty()) {
      String cn = peer.subjectCommonName();
      account = cn == null ? null : commonNames.get(cn);
    }
    if (account == null) {
      return null;
    }
    return new ServiceAccount(account, roles.getOrDefault(account, Set.of()));
  }

  /** Builds a {@link PeerPrincipalMapper}. Not thread-safe. */
  public static final class Builder {
    private final Map<String, String> spiffeIds = new HashMap<>();
    private final Set<String> trustDomains = new LinkedHashSet<>();
    private final Map<String, String> dnsNames = new HashMap<>();
    private final Map<String, String> commonNames = new HashMap<>();
    private final Map<String, Set<String>> roles = new HashMap<>();
    private boolean allowCommonName;

    private Builder() {}

    /**
     * Accepts every SPIFFE ID of {@code trustDomain} (e.g. {@code prod.example.org}); the service
     * account is the SPIFFE ID.
     */
    public Builder allowSpiffeTrustDomain(String trustDomain) {
      trustDomains.add(nonBlank(trustDomain, "trustDomain").toLowerCase(Locale.ROOT));
      return this;
    }

    /** Maps one SPIFFE ID to a service account name. */
    public Builder mapSpiffeId(String spiffeId, String account) {
      if (!nonBlank(spiffeId, "spiffeId").startsWith("spiffe://")) {
        throw new IllegalArgumentException("spiffeId must start with spiffe://");
      }
      spiffeIds.put(spiffeId, nonBlank(account, "account"));
      return this;
    }

    /** Maps a DNS subject alternative name (exact, case-insensitive) to a service account. */
    public Builder mapDnsName(String dnsName, String account) {
      dnsNames.put(
          nonBlank(dnsName, "dnsName").toLowerCase(Locale.ROOT), nonBlank(account, "account"));
      return this;
    }

    /** Maps a subject common name to a service account; needs {@link #allowSubjectCommonName()}. */
    public Builder mapSubjectCommonName(String commonName, String account) {
      commonNames.put(nonBlank(commonName, "commonName"), nonBlank(account, "account"));
      return this;
    }

    /**
     * Enables {@link #mapSubjectCommonName}. Off by default: a CN is free text any CA may issue for
     * other purposes; SANs are what TLS itself verifies.
     */
    public Builder allowSubjectCommonName() {
      this.allowCommonName = true;
      return this;
    }

    /** Grants roles to a service account (the principal's roles). Default: none. */
    public Builder grantRoles(String account, Collection<String> roles) {
      Set<String> set =
          this.roles.computeIfAbsent(nonBlank(account, "account"), k -> new LinkedHashSet<>());
      for (String r : List.copyOf(roles)) {
        set.add(nonBlank(r, "role"));
      }
      return this;
    }

    /**
     * Returns the mapper.
     *
     * @throws IllegalStateException if no rule is configured, or common names are mapped without
     *     {@link #allowSubjectCommonName()}
     */
    public PeerPrincipalMapper build() {
      if (!commonNames.isEmpty() && !allowCommonName) {
        throw new IllegalStateException(
            "common-name mappings need allowSubjectCommonName(); prefer SPIFFE IDs or DNS SANs");
      }
      if (spiffeIds.isEmpty()
          && trustDomains.isEmpty()
          && dnsNames.isEmpty()
          && commonNames.isEmpty()) {
        throw new IllegalStateException(
            "add at least one rule: allowSpiffeTrustDomain, mapSpiffeId or mapDnsName");
      }
      return new PeerPrincipalMapper(this);
    }

    private static String nonBlank(String s, String name) {
      requireNonNull(s, name);
      if (s.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank");
      }
      return s;
    }
  }
}
