package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.core.PeerIdentity;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.TransportGuardServerInterceptor;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-call cost of {@link TransportGuardServerInterceptor} on a call whose transport carries a real
 * mutual-TLS {@link SSLSession} (from an in-memory JDK handshake with DevPki certificates), against
 * calling the handler directly, and against deriving the peer identity afresh on every call (what
 * the guard avoids by caching it in the session).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@SuppressWarnings("NullAway.Init") // fields are set in @Setup
public class TlsGuardBenchmark {

  private static final MethodDescriptor<InputStream, InputStream> METHOD =
      MethodDescriptor.<InputStream, InputStream>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("bench.Guard/Call")
          .setRequestMarshaller(new NoopMarshaller())
          .setResponseMarshaller(new NoopMarshaller())
          .build();

  private static final ServerCall.Listener<InputStream> LISTENER = new ServerCall.Listener<>() {};
  private static final ServerCallHandler<InputStream, InputStream> HANDLER = (call, h) -> LISTENER;

  private final TransportGuardServerInterceptor guard = TransportGuardServerInterceptor.create();
  private final Metadata headers = new Metadata();
  private SSLSession session;
  private ServerCall<InputStream, InputStream> call;

  @Setup
  public void setUp() throws Exception {
    DevPki pki = DevPki.create();
    session = handshake(pki, pki.server(), pki.client(pki.spiffeId("bench")));
    Attributes attrs =
        Attributes.newBuilder().set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session).build();
    call = new TlsCall(attrs);
  }

  /** Baseline: the service handler alone. */
  @Benchmark
  public ServerCall.Listener<InputStream> baselineHandlerOnly() {
    return HANDLER.startCall(call, headers);
  }

  /** The guard: checks transport, records the cached PeerIdentity, runs the call in context. */
  @Benchmark
  public ServerCall.Listener<InputStream> transportGuard() {
    return guard.interceptCall(call, headers, HANDLER);
  }

  /** What the guard would cost without its per-session cache. */
  @Benchmark
  public PeerIdentity uncachedPeerIdentity() throws Exception {
    return PeerIdentity.of((java.security.cert.X509Certificate) session.getPeerCertificates()[0]);
  }

  private static SSLContext context(DevPki pki, DevPki.Credential credential) throws Exception {
    char[] pw = "bench".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry(
        "k", credential.privateKey(), pw, credential.chain().toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pw);
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("root", pki.rootCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Runs a TLS 1.3 handshake between two in-memory engines; returns the server's session. */
  static SSLSession handshake(
      DevPki pki, DevPki.Credential serverCred, DevPki.Credential clientCred) throws Exception {
    SSLEngine server = context(pki, serverCred).createSSLEngine();
    server.setUseClientMode(false);
    server.setNeedClientAuth(true);
    SSLEngine client = context(pki, clientCred).createSSLEngine("localhost", 443);
    client.setUseClientMode(true);
    int size = 1 << 17;
    ByteBuffer c2s = ByteBuffer.allocate(size);
    ByteBuffer s2c = ByteBuffer.allocate(size);
    ByteBuffer app = ByteBuffer.allocate(size);
    ByteBuffer empty = ByteBuffer.allocate(0);
    client.beginHandshake();
    server.beginHandshake();
    for (int i = 0; i < 1000 && !(done(client) && done(server)); i++) {
      step(client, empty, c2s, s2c, app);
      step(server, empty, s2c, c2s, app);
    }
    if (!done(server)) {
      throw new IllegalStateException("handshake did not finish");
    }
    return server.getSession();
  }

  private static boolean done(SSLEngine e) {
    return e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
  }

  private static void step(
      SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws Exception {
    SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
    if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
      Runnable task;
      while ((task = engine.getDelegatedTask()) != null) {
        task.run();
      }
    } else if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
      engine.wrap(empty, out);
    } else if (hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP) {
      in.flip();
      engine.unwrap(in, app);
      in.compact();
      app.clear();
    }
  }

  private static final class TlsCall extends ServerCall<InputStream, InputStream> {
    private final Attributes attrs;

    TlsCall(Attributes attrs) {
      this.attrs = attrs;
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(InputStream message) {}

    @Override
    public void close(Status status, Metadata trailers) {
      throw new IllegalStateException("benchmark call was refused: " + status.getCode());
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return attrs;
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return SecurityLevel.PRIVACY_AND_INTEGRITY;
    }

    @Override
    public MethodDescriptor<InputStream, InputStream> getMethodDescriptor() {
      return METHOD;
    }
  }

  private static final class NoopMarshaller implements MethodDescriptor.Marshaller<InputStream> {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  }
}
