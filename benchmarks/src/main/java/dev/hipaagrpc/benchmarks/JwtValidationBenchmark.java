package dev.hipaagrpc.benchmarks;

import dev.hipaagrpc.auth.authn.AuthenticationServerInterceptor;
import dev.hipaagrpc.auth.authn.IssuerConfig;
import dev.hipaagrpc.auth.authn.KeySource;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.jsonwebtoken.Jwts;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-call cost of bearer-token authentication through {@link AuthenticationServerInterceptor}: a
 * token seen before (verified-token cache hit) and a token verified from scratch (cache disabled),
 * both against the baseline of one bare JCA signature verification with the same key and algorithm.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@SuppressWarnings("NullAway.Init") // JMH sets @Param fields; @Setup sets the rest
public class JwtValidationBenchmark {

  private static final String ISSUER = "https://idp.example";
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  @Param({"ES256", "RS256"})
  public String alg;

  private AuthenticationServerInterceptor cached;
  private AuthenticationServerInterceptor uncached;
  private Metadata headers;
  private Signature jcaVerifier;
  private byte[] signingInput;
  private byte[] signature;
  private final NoopCall call = new NoopCall();
  private final ServerCallHandler<String, String> next = (c, h) -> new ServerCall.Listener<>() {};

  @Setup
  @SuppressWarnings("JavaUtilDate")
  public void setUp() throws Exception {
    KeyPair keys;
    String jcaAlg;
    if (alg.equals("ES256")) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      keys = g.generateKeyPair();
      jcaAlg = "SHA256withECDSAinP1363Format";
    } else {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      keys = g.generateKeyPair();
      jcaAlg = "SHA256withRSA";
    }
    Instant now = Instant.now();
    String token =
        Jwts.builder()
            .header()
            .keyId("k1")
            .and()
            .issuer(ISSUER)
            .audience()
            .add("api")
            .and()
            .subject("user-1")
            .id("jti-1")
            .issuedAt(Date.from(now))
            .expiration(Date.from(now.plusSeconds(3600)))
            .claim("roles", List.of("clinician"))
            .claim("scope", "patient/Observation.read openid")
            .signWith(keys.getPrivate())
            .compact();
    headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token);
    KeySource source = KeySource.ofPublicKeys(Map.of("k1", keys.getPublic()));
    IssuerConfig issuer = IssuerConfig.newBuilder(ISSUER, source).audience("api").build();
    cached = AuthenticationServerInterceptor.newBuilder().addIssuer(issuer).build();
    uncached =
        AuthenticationServerInterceptor.newBuilder().addIssuer(issuer).tokenCacheSize(0).build();

    int lastDot = token.lastIndexOf('.');
    signingInput = token.substring(0, lastDot).getBytes(StandardCharsets.US_ASCII);
    signature = Base64.getUrlDecoder().decode(token.substring(lastDot + 1));
    jcaVerifier = Signature.getInstance(jcaAlg);
    jcaVerifier.initVerify(keys.getPublic());
    if (!baselineJcaVerify()) {
      throw new IllegalStateException("baseline signature does not verify");
    }
    cachedValidation();
    uncachedValidation();
    if (call.closed) {
      throw new IllegalStateException("token was refused");
    }
  }

  /** Baseline: one bare JCA signature verification of the same token, same key and algorithm. */
  @Benchmark
  public boolean baselineJcaVerify() throws Exception {
    jcaVerifier.update(signingInput);
    return jcaVerifier.verify(signature);
  }

  /** A repeated token: verified-token cache hit (hash, expiry, revocation, key still trusted). */
  @Benchmark
  public Object cachedValidation() {
    return cached.interceptCall(call, headers, next);
  }

  /** Every call verified from scratch: parse, checks, signature verification, claim mapping. */
  @Benchmark
  public Object uncachedValidation() {
    return uncached.interceptCall(call, headers, next);
  }

  /** The least a server call can be; records a refusal so setup can fail loudly. */
  private static final class NoopCall extends ServerCall<String, String> {
    volatile boolean closed;

    private static final MethodDescriptor.Marshaller<String> STRING =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
          }

          @Override
          public String parse(InputStream stream) {
            return "";
          }
        };

    private static final MethodDescriptor<String, String> METHOD =
        MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("bench.Auth/Call")
            .setRequestMarshaller(STRING)
            .setResponseMarshaller(STRING)
            .build();

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(Status status, Metadata trailers) {
      closed = true;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return Attributes.EMPTY;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return METHOD;
    }
  }
}
