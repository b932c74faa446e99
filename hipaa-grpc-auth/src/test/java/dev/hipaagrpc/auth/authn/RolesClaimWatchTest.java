package dev.hipaagrpc.auth.authn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.Principal;
import java.util.List;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class RolesClaimWatchTest {

  private static final IssuerConfig ISSUER =
      IssuerConfig.newBuilder(
              "https://idp.test",
              KeySource.ofHmacSecret(new SecretKeySpec(new byte[32], "HmacSHA256")))
          .audience("api")
          .claimMapping(ClaimMapping.newBuilder().rolesFrom("realm_access.roles").build())
          .build();

  private static Principal user(String... roles) {
    return Principal.newBuilder(
            "u1", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-1")
        .issuer("https://idp.test")
        .addRoles(Set.of(roles))
        .build();
  }

  @Test
  void observe_manyTokensWithoutRoles_warnsOnceAtTheThreshold() {
    RolesClaimWatch watch = new RolesClaimWatch();
    for (int i = 1; i < RolesClaimWatch.THRESHOLD; i++) {
      assertThat(watch.observe(ISSUER, user())).as("token " + i).isFalse();
    }
    assertThat(watch.observe(ISSUER, user())).isTrue();
    for (int i = 0; i < 3 * RolesClaimWatch.THRESHOLD; i++) {
      assertThat(watch.observe(ISSUER, user())).isFalse();
    }
  }

  @Test
  void observe_aTokenWithRoles_resetsTheCount() {
    RolesClaimWatch watch = new RolesClaimWatch();
    for (int round = 0; round < 5; round++) {
      for (int i = 1; i < RolesClaimWatch.THRESHOLD; i++) {
        assertThat(watch.observe(ISSUER, user())).isFalse();
      }
      assertThat(watch.observe(ISSUER, user("nurse"))).isFalse();
    }
  }

  @Test
  void observe_serviceTokens_ignored() {
    RolesClaimWatch watch = new RolesClaimWatch();
    Principal service =
        Principal.newBuilder(
                "svc", Principal.Kind.SERVICE, Principal.AuthMethod.BEARER_TOKEN, "fp-2")
            .issuer("https://idp.test")
            .build();
    for (int i = 0; i < 2 * RolesClaimWatch.THRESHOLD; i++) {
      assertThat(watch.observe(ISSUER, service)).isFalse();
    }
    assertThat(ISSUER.claimMapping().rolePaths()).isEqualTo(List.of("realm_access.roles"));
  }
}
