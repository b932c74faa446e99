package dev.hipaagrpc.auth.authn;

import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.MtlsServerCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Real certificates from the tls module's development PKI, for servers, clients and HTTPS. */
final class MtlsTestSupport {

  static final DevPki PKI = DevPki.create();
  static final DevPki.Credential SERVER = PKI.server();

  private MtlsTestSupport() {}

  /** mTLS server credentials; client certificates optional when {@code optionalClientAuth}. */
  static ServerCredentials serverCredentials(boolean optionalClientAuth) {
    MtlsServerCredentials.Builder b =
        MtlsServerCredentials.newBuilder()
            .identity(IdentityMaterial.of(SERVER.privateKey(), SERVER.chain()))
            .trust(TrustMaterial.of(List.of(PKI.rootCertificate())));
    if (optionalClientAuth) {
      b.allowUnsafeOptionalClientAuth();
    }
    return b.build();
  }

  /** Channel credentials trusting the PKI, presenting {@code client} when not null. */
  static ChannelCredentials channelCredentials(DevPki.Credential client) {
    MtlsChannelCredentials.Builder b =
        MtlsChannelCredentials.newBuilder().trust(TrustMaterial.of(List.of(PKI.rootCertificate())));
    if (client != null) {
      b.identity(IdentityMaterial.of(client.privateKey(), client.chain()));
    }
    return b.build();
  }

  /** A JDK SSLContext serving the PKI's localhost certificate (for the HTTPS identity provider). */
  static SSLContext httpsServerContext() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "test".toCharArray();
    ks.setKeyEntry("server", SERVER.privateKey(), pw, SERVER.chain().toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pw);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  /** A JDK SSLContext trusting only the PKI's root (for clients of the HTTPS identity provider). */
  static SSLContext httpsClientContext() throws Exception {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("root", PKI.rootCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
