package dev.hipaagrpc.auth.authn;

import static dev.hipaagrpc.auth.authn.JwtTestSupport.AUDIENCE;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.RSA_1;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.T0;
import static dev.hipaagrpc.auth.authn.JwtTestSupport.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.auth.authn.AuthenticationTestHarness.Result;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client side: bearer call credentials over real Netty channels. */
class BearerCallCredentialsTest {

  private static final String ISSUER = "https://idp.example";
  private AuthenticationTestHarness plaintext;

  @BeforeEach
  void setUp() throws Exception {
    AuthenticationServerInterceptor auth =
        AuthenticationServerInterceptor.newBuilder()
            .addIssuer(
                IssuerConfig.newBuilder(
                        ISSUER, KeySource.ofPublicKeys(Map.of("rsa-1", RSA_1.getPublic())))
                    .audience(AUDIENCE)
                    .build())
            .clock(new JwtTestSupport.MutableClock(T0))
            .build();
    plaintext =
        new AuthenticationTestHarness(
            auth, InsecureServerCredentials.create(), InsecureChannelCredentials.create());
  }

  @AfterEach
  void tearDown() throws Exception {
    plaintext.close();
  }

  private static String validToken() {
    return token(ISSUER, "rsa-1", RSA_1.getPrivate(), T0).compact();
  }

  @Test
  void applyRequestMetadata_plaintextChannel_refusedBeforeSending() {
    Result r =
        plaintext.call(
            new Metadata(), BearerCallCredentials.create(AccessTokenSource.ofStatic(validToken())));

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(r.status().getDescription()).contains("Refusing to send a bearer token");
    assertThat(r.facts()).as("the server never saw the call").isNull();
  }

  @Test
  void applyRequestMetadata_insecureOptIn_sendsToken() {
    Result r =
        plaintext.call(
            new Metadata(),
            BearerCallCredentials.INSECURE_allowPlaintextForLoopbackTesting(
                AccessTokenSource.ofStatic(validToken())));

    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.principal().subject()).isEqualTo("user-1");
  }

  @Test
  void applyRequestMetadata_sourceFails_unavailableWithoutDetail() {
    AccessTokenSource failing =
        () -> {
          throw new IOException("secret-detail");
        };
    Result r =
        plaintext.call(
            new Metadata(),
            BearerCallCredentials.INSECURE_allowPlaintextForLoopbackTesting(failing));

    assertThat(r.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(r.status().getDescription()).isEqualTo("Could not obtain an access token");
    assertThat(r.facts()).isNull();
  }

  @Test
  void ofStatic_blankOrHeaderBreakingToken_refused() {
    assertThatThrownBy(() -> AccessTokenSource.ofStatic(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AccessTokenSource.ofStatic("a\r\nx: y"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
