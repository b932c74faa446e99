package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.AUDIENCE;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.EC_256;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.jwks;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.token;
import static dev.hipaagrpc.auth.authn.MtlsTestSupport.PKI;
import static dev.hipaagrpc.auth.authn.MtlsTestSupport.channelCredentials;
import static dev.hipaagrpc.auth.authn.MtlsTestSupport.serverCredentials;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.auth.authn.AuthenticationTestHarness.Result;
import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.testing.DevPki;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every principal source (JWT, mTLS, both, either, certificate-bound tokens) end to end over real
 * mutual TLS on Netty, with keys fetched over HTTPS from a loopback identity provider.
 */
class MtlsAuthenticationTest {

  private static final String FRONTEND = PKI.spiffeId("ns/clinic/sa/frontend");
  private static final DevPki.Credential FRONTEND_CERT = PKI.client(FRONTEND);
  private static final DevPki.Credential OTHER_CERT =
      PKI.client(PKI.spiffeId("ns/clinic/sa/other"));
  private static final DevPki.Credential BILLING_CERT = PKI.clientWithDnsName("billing.internal");
  private static final DevPki.Credential FOREIGN_DOMAIN_CERT =
      PKI.client("spiffe://elsewhere.test/ns/x/sa/y");
  private static final DevPki.Credential CN_ONLY_CERT =
      PKI.newLeaf().commonName("legacy-batch").dnsName("unmapped.internal").clientAuth().issue();

  private static JwksTestServer idp;
  private static KeySource keys;
  private static String issuer;
  private static Instant now;

  @BeforeAll
  static void startIdentityProvider() throws Exception {
    idp = new JwksTestServer(MtlsTestSupport.httpsServerContext());
    idp.jwks = jwks(Map.of("rsa-1", RSA_1.getPublic(), "ec-1", EC_256.getPublic()));
    issuer = idp.issuer();
    keys =
        KeySource.fromJwksUri(idp.jwksUri())
            .sslContext(MtlsTestSupport.httpsClientContext())
            .build();
    now = Instant.now();
  }

  @AfterAll
  static void stop() {
    keys.close();
    idp.close();
  }

  private static PeerPrincipalMapper mapper() {
    return PeerPrincipalMapper.newBuilder()
        .allowSpiffeTrustDomain(PKI.trustDomain())
        .mapDnsName("billing.internal", "svc-billing")
        .grantRoles(FRONTEND, List.of("frontend"))
        .build();
  }

  private static AuthenticationServerInterceptor.Builder auth(
      AuthenticationServerInterceptor.Mode mode) {
    AuthenticationServerInterceptor.Builder b =
        AuthenticationServerInterceptor.newBuilder().mode(mode);
    if (mode != AuthenticationServerInterceptor.Mode.CERTIFICATE_REQUIRED) {
      b.addIssuer(IssuerConfig.newBuilder(issuer, keys).audience(AUDIENCE).build());
    }
    if (mode != AuthenticationServerInterceptor.Mode.TOKEN_REQUIRED) {
      b.peerPrincipalMapper(mapper());
    }
    return b;
  }

  private static AuthenticationTestHarness start(
      AuthenticationServerInterceptor interceptor,
      boolean optionalClientAuth,
      DevPki.Credential client)
      throws Exception {
    return new AuthenticationTestHarness(
        interceptor, serverCredentials(optionalClientAuth), channelCredentials(client));
  }

  private static String userToken() {
    return token(issuer, "rsa-1", RSA_1.getPrivate(), now).compact();
  }

  private static String boundToken(DevPki.Credential cert) {
    return token(issuer, "ec-1", EC_256.getPrivate(), now)
        .claim("cnf", Map.of("x5t#S256", PeerIdentity.of(cert.certificate()).x5tS256()))
        .compact();
  }

  private static void shutdown(ManagedChannel ch) throws InterruptedException {
    ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void tokenRequired_overMtls_userPrincipalAndPeerRecorded() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_REQUIRED).build(),
            false,
            FRONTEND_CERT)) {
      Result r = h.callWithToken(userToken());

      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.principal().subject()).isEqualTo("user-1");
      assertThat(r.principal().authMethod()).isEqualTo(Principal.AuthMethod.BEARER_TOKEN);
      assertThat(r.principal().viaService()).isNull();

      Result none = h.callWithToken(null);
      assertThat(none.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(none.failure()).isEqualTo("missing_credentials");
    }
  }

  @Test
  void certificateRequired_spiffeInAllowedTrustDomain_servicePrincipal() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.CERTIFICATE_REQUIRED).build(),
            false,
            FRONTEND_CERT)) {
      Result r = h.callWithToken(null);

      assertThat(r.status()).isEqualTo(Status.OK);
      Principal p = r.principal();
      assertThat(p.subject()).isEqualTo(FRONTEND);
      assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
      assertThat(p.authMethod()).isEqualTo(Principal.AuthMethod.MUTUAL_TLS);
      assertThat(p.roles()).containsExactly("frontend");
      assertThat(p.credentialFingerprint())
          .isEqualTo(PeerIdentity.of(FRONTEND_CERT.certificate()).sha256Hex());
      assertThat(r.facts().peer()).isNotNull();
    }
  }

  @Test
  void certificateRequired_dnsSanMapped_serviceAccountName() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.CERTIFICATE_REQUIRED).build(),
            false,
            BILLING_CERT)) {
      Result r = h.callWithToken(null);
      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.principal().subject()).isEqualTo("svc-billing");
    }
  }

  @Test
  void certificateRequired_unmappedPeers_refused() throws Exception {
    AuthenticationServerInterceptor a =
        auth(AuthenticationServerInterceptor.Mode.CERTIFICATE_REQUIRED).build();
    try (AuthenticationTestHarness h = start(a, true, null)) {
      for (DevPki.Credential c : List.of(FOREIGN_DOMAIN_CERT, CN_ONLY_CERT)) {
        ManagedChannel ch = h.channel(channelCredentials(c));
        try {
          Result r = h.callOn(ch, (String) null);
          assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(r.failure()).isEqualTo("unknown_peer");
          assertThat(r.trailers().get(AuthenticationTestHarness.WWW_AUTHENTICATE)).isNull();
        } finally {
          shutdown(ch);
        }
      }
      Result noCert = h.callWithToken(userToken());
      assertThat(noCert.failure()).isEqualTo("certificate_required");
    }
  }

  @Test
  void certificateRequired_commonNameOnlyWhenEnabled() throws Exception {
    AuthenticationServerInterceptor a =
        AuthenticationServerInterceptor.newBuilder()
            .mode(AuthenticationServerInterceptor.Mode.CERTIFICATE_REQUIRED)
            .peerPrincipalMapper(
                PeerPrincipalMapper.newBuilder()
                    .allowSubjectCommonName()
                    .mapSubjectCommonName("legacy-batch", "svc-legacy")
                    .build())
            .build();
    try (AuthenticationTestHarness h = start(a, false, CN_ONLY_CERT)) {
      assertThat(h.callWithToken(null).principal().subject()).isEqualTo("svc-legacy");
    }
    assertThatThrownBy(
            () ->
                PeerPrincipalMapper.newBuilder()
                    .mapSubjectCommonName("legacy-batch", "svc-legacy")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("allowSubjectCommonName");
  }

  @Test
  void tokenAndCertificate_userViaService() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_AND_CERTIFICATE).build(),
            true,
            FRONTEND_CERT)) {
      Result r = h.callWithToken(userToken());

      assertThat(r.status()).isEqualTo(Status.OK);
      Principal p = r.principal();
      assertThat(p.subject()).isEqualTo("user-1");
      assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
      assertThat(p.viaService()).isEqualTo(FRONTEND);
      assertThat(p.authMethod()).isEqualTo(Principal.AuthMethod.BEARER_TOKEN_VIA_MUTUAL_TLS);
      assertThat(p.roles()).containsExactly("clinician");

      // The authentication context survives (step-up reads it from this principal).
      Principal stepped =
          h.callWithToken(
                  token(issuer, "rsa-1", RSA_1.getPrivate(), now)
                      .claim("acr", "phr")
                      .claim("amr", java.util.List.of("pwd", "mfa"))
                      .claim("auth_time", now.getEpochSecond())
                      .compact())
              .principal();
      assertThat(stepped.viaService()).isEqualTo(FRONTEND);
      assertThat(stepped.acr()).isEqualTo("phr");
      assertThat(stepped.amr()).containsExactly("pwd", "mfa");
      assertThat(stepped.authTime())
          .isEqualTo(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));

      assertThat(h.callWithToken(null).failure()).isEqualTo("missing_credentials");
      ManagedChannel noCert = h.channel(channelCredentials(null));
      try {
        assertThat(h.callOn(noCert, userToken()).failure()).isEqualTo("certificate_required");
      } finally {
        shutdown(noCert);
      }
    }
  }

  @Test
  void tokenOrCertificate_eitherSourceAccepted() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_OR_CERTIFICATE).build(), true, null)) {
      assertThat(h.callWithToken(userToken()).principal().authMethod())
          .isEqualTo(Principal.AuthMethod.BEARER_TOKEN);
      assertThat(h.callWithToken(null).failure()).isEqualTo("missing_credentials");
      ManagedChannel withCert = h.channel(channelCredentials(FRONTEND_CERT));
      try {
        Result service = h.callOn(withCert, (String) null);
        assertThat(service.principal().subject()).isEqualTo(FRONTEND);
        assertThat(service.principal().authMethod()).isEqualTo(Principal.AuthMethod.MUTUAL_TLS);
        Result both = h.callOn(withCert, userToken());
        assertThat(both.principal().subject()).isEqualTo("user-1");
        assertThat(both.principal().viaService()).isEqualTo(FRONTEND);
        Result badToken = h.callOn(withCert, userToken() + "x");
        assertThat(badToken.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      } finally {
        shutdown(withCert);
      }
    }
  }

  @Test
  void certificateBoundToken_onItsCertificate_accepted_onAnother_refused() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_REQUIRED).build(),
            true,
            FRONTEND_CERT)) {
      String bound = boundToken(FRONTEND_CERT);

      Result ok = h.callWithToken(bound);
      assertThat(ok.status()).isEqualTo(Status.OK);
      assertThat(ok.principal().authMethod())
          .isEqualTo(Principal.AuthMethod.CERTIFICATE_BOUND_TOKEN);

      ManagedChannel other = h.channel(channelCredentials(OTHER_CERT));
      ManagedChannel none = h.channel(channelCredentials(null));
      try {
        // Same token, now cached, replayed from another certificate and from no certificate.
        Result stolen = h.callOn(other, bound);
        assertThat(stolen.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(stolen.failure()).isEqualTo("token_binding_mismatch");
        assertThat(h.callOn(none, bound).failure()).isEqualTo("token_binding_mismatch");
      } finally {
        shutdown(other);
        shutdown(none);
      }
      assertThat(h.callWithToken(bound).status()).isEqualTo(Status.OK);
    }
  }

  @Test
  void requireCertificateBoundTokens_unboundTokenRefused() throws Exception {
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_REQUIRED)
                .requireCertificateBoundTokens()
                .build(),
            false,
            FRONTEND_CERT)) {
      assertThat(h.callWithToken(userToken()).failure()).isEqualTo("token_not_bound");
      assertThat(h.callWithToken(boundToken(FRONTEND_CERT)).status()).isEqualTo(Status.OK);
    }
  }

  @Test
  void bearerCallCredentials_clientCredentialsOverHttps_endToEnd() throws Exception {
    idp.tokenResponse =
        () ->
            "{\"access_token\":\""
                + token(issuer, "rsa-1", RSA_1.getPrivate(), Instant.now())
                    .subject("frontend-client")
                    .claim("client_id", "frontend-client")
                    .compact()
                + "\",\"token_type\":\"Bearer\",\"expires_in\":600}";
    ClientCredentialsTokenSource source =
        ClientCredentialsTokenSource.newBuilder(idp.tokenUri(), "frontend-client", "s3cret")
            .scopes("system/Observation.read")
            .sslContext(MtlsTestSupport.httpsClientContext())
            .clock(Clock.systemUTC())
            .build();
    try (AuthenticationTestHarness h =
        start(
            auth(AuthenticationServerInterceptor.Mode.TOKEN_REQUIRED).build(),
            false,
            FRONTEND_CERT)) {
      Result r = h.call(new io.grpc.Metadata(), BearerCallCredentials.create(source));

      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.principal().subject()).isEqualTo("frontend-client");
      assertThat(r.principal().kind()).isEqualTo(Principal.Kind.SERVICE);
      assertThat(idp.lastTokenForm)
          .isEqualTo("grant_type=client_credentials&scope=system%2FObservation.read");
    }
  }

  @Test
  void remoteKeySource_plainHttpWithoutOptIn_refusedAtBuild() {
    assertThatThrownBy(() -> KeySource.fromJwksUri(URI.create("http://127.0.0.1:1/jwks")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https");
    assertThatThrownBy(
            () ->
                KeySource.fromJwksUri(URI.create("http://idp.example/jwks"))
                    .INSECURE_allowPlainHttpForLoopbackTesting()
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
