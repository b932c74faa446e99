package dev.hipaagrpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hipaagrpc.testing.DevPki;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.lang.reflect.Method;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/**
 * What our contexts enable, independent of the JDK's own {@code jdk.tls.disabledAlgorithms} (which
 * on JDK 25 also removes TLS 1.1 and TLS_RSA_*, but not on every JDK 17 build).
 */
class SslContextsTest {

  private static final DevPki PKI = DevPki.create();

  private static SSLEngine serverEngine(TlsProfile profile) {
    return serverContext(profile).newEngine(ByteBufAllocator.DEFAULT);
  }

  private static SslContext serverContext(TlsProfile profile) {
    DevPki.Credential s = PKI.server();
    return SslContexts.server(
        IdentityMaterial.of(s.privateKey(), s.chain()),
        TrustMaterial.of(List.of(PKI.rootCertificate())),
        ClientAuth.REQUIRE,
        profile,
        TlsProfile.PROTOCOLS,
        profile.cipherSuites(),
        new DelegatingTrustManager.Revocation(false, false));
  }

  @Test
  void server_nistProfile_enablesExactlyTheProfile() throws Exception {
    SSLEngine engine = serverEngine(TlsProfile.NIST_SP_800_52R2);
    try {
      assertThat(engine.getEnabledProtocols()).containsExactlyInAnyOrder("TLSv1.3", "TLSv1.2");
      assertThat(engine.getEnabledCipherSuites())
          .containsExactlyElementsOf(TlsProfile.NIST_SP_800_52R2.cipherSuites());
      assertThat(engine.getNeedClientAuth()).isTrue();
      SSLParameters params = engine.getSSLParameters();
      assertThat(params.getUseCipherSuitesOrder()).isTrue();
      assertThat(
              serverContext(TlsProfile.NIST_SP_800_52R2)
                  .applicationProtocolNegotiator()
                  .protocols())
          .containsExactly("h2");
    } finally {
      ReferenceCountUtil.release(engine);
    }
  }

  @Test
  void server_mozillaProfile_addsChaChaAndX25519Only() throws Exception {
    SSLEngine engine = serverEngine(TlsProfile.MOZILLA_INTERMEDIATE);
    try {
      assertThat(engine.getEnabledCipherSuites())
          .allMatch(s -> s.contains("_GCM_") || s.contains("CHACHA20_POLY1305"))
          .noneMatch(s -> s.startsWith("TLS_RSA_") || s.startsWith("TLS_DHE_"));
    } finally {
      ReferenceCountUtil.release(engine);
    }
  }

  @Test
  void server_eachProfile_setsItsNamedGroups() throws Exception {
    assumeTrue(
        Runtime.version().feature() >= 20,
        "named groups per SSLParameters need JDK 20+ (older JDKs apply jdk.tls.namedGroups)");
    // Reflection: the API is compiled against --release 17, which has no getNamedGroups().
    Method groups = SSLParameters.class.getMethod("getNamedGroups");
    assertThat(namedGroups(groups, TlsProfile.NIST_SP_800_52R2))
        .containsExactly("secp384r1", "secp256r1");
    assertThat(namedGroups(groups, TlsProfile.MOZILLA_INTERMEDIATE))
        .containsExactly("x25519", "secp256r1", "secp384r1");
  }

  private static String[] namedGroups(Method getter, TlsProfile profile) throws Exception {
    SSLEngine engine = serverEngine(profile);
    try {
      return (String[]) getter.invoke(engine.getSSLParameters());
    } finally {
      ReferenceCountUtil.release(engine);
    }
  }

  @Test
  void isApprovedSuite_onlyAeadWithForwardSecrecy() {
    // What the transport guard accepts from sessions built by credentials other than ours.
    assertThat(TlsProfile.isApprovedSuite("TLS_AES_128_GCM_SHA256")).isTrue();
    assertThat(TlsProfile.isApprovedSuite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")).isTrue();
    assertThat(TlsProfile.isApprovedSuite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")).isFalse();
    assertThat(TlsProfile.isApprovedSuite("TLS_RSA_WITH_AES_128_GCM_SHA256")).isFalse();
    assertThat(TlsProfile.isApprovedSuite("SSL_NULL_WITH_NULL_NULL")).isFalse();
  }
}
