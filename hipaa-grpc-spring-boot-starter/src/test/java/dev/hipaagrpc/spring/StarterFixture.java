package dev.hipaagrpc.spring;

import dev.hipaagrpc.audit.AuditKeys;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.spring.testing.NoteReply;
import dev.hipaagrpc.spring.testing.NoteRequest;
import dev.hipaagrpc.spring.testing.NotesGrpc;
import dev.hipaagrpc.testing.DevPki;
import dev.hipaagrpc.tls.IdentityMaterial;
import dev.hipaagrpc.tls.MtlsChannelCredentials;
import dev.hipaagrpc.tls.TrustMaterial;
import io.grpc.BindableService;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Metadata;
import io.grpc.stub.StreamObserver;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Everything a starter test needs on disk: a development PKI (server and client certificates), an
 * identity provider's JWK Set and the tokens it signs, and the audit keys; and the properties that
 * point the starter at them.
 */
final class StarterFixture {
  static final String ISSUER = "https://idp.hipaa-grpc.test";
  static final String AUDIENCE = "notes-api";
  static final String FRONTEND = "spiffe://hipaa-grpc.test/ns/clinic/sa/frontend";

  final Path dir;
  final DevPki pki = DevPki.create();
  final DevPki.Credential client = pki.client(FRONTEND);
  private final KeyPair signer;

  StarterFixture(Path dir) throws IOException {
    this.dir = dir;
    pki.server().writePem(dir, "server");
    pki.writeTrustBundle(dir.resolve("ca.pem"));
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      signer = g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Files.writeString(
        dir.resolve("jwks.json"),
        "{\"keys\":[" + Jwks.json(Jwks.builder().key(signer.getPublic()).id("k1").build()) + "]}");
    AuditKeys.writeSecretKey(dir.resolve("genesis.key"), AuditKeys.newSecretKey());
    AuditKeys.writeSecretKey(dir.resolve("identifier.key"), AuditKeys.newSecretKey());
    KeyPair checkpoint = AuditKeys.newSigningKeyPair();
    AuditKeys.writePrivateKey(dir.resolve("checkpoint.key"), checkpoint.getPrivate());
    AuditKeys.writePublicKey(dir.resolve("checkpoint.pub"), checkpoint.getPublic());
  }

  /** The properties of a complete, safe configuration. */
  Map<String, String> properties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("spring.grpc.server.port", "0");
    p.put("spring.grpc.server.address", "127.0.0.1");
    p.put("hipaa.grpc.tls.certificate-chain", dir.resolve("server.pem").toString());
    p.put("hipaa.grpc.tls.private-key", dir.resolve("server.key").toString());
    p.put("hipaa.grpc.tls.trust-bundle", dir.resolve("ca.pem").toString());
    p.put("hipaa.grpc.authentication.issuers[0].issuer", ISSUER);
    p.put("hipaa.grpc.authentication.issuers[0].audience", AUDIENCE);
    p.put("hipaa.grpc.authentication.issuers[0].jwk-set-file", dir.resolve("jwks.json").toString());
    p.put("hipaa.grpc.audit.directory", dir.resolve("audit").toString());
    p.put("hipaa.grpc.audit.genesis-key-file", dir.resolve("genesis.key").toString());
    p.put("hipaa.grpc.audit.identifier-key-file", dir.resolve("identifier.key").toString());
    p.put("hipaa.grpc.audit.signing-private-key-file", dir.resolve("checkpoint.key").toString());
    p.put("hipaa.grpc.audit.signing-public-key-file", dir.resolve("checkpoint.pub").toString());
    return p;
  }

  /** The same, as {@code key=value} pairs for {@code ApplicationContextRunner}. */
  String[] propertyPairs(Map<String, String> properties) {
    return properties.entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .toArray(String[]::new);
  }

  /** Channel credentials presenting the frontend's client certificate. */
  ChannelCredentials clientCredentials() {
    return MtlsChannelCredentials.newBuilder()
        .identity(IdentityMaterial.of(client.privateKey(), client.chain()))
        .trust(TrustMaterial.of(List.of(pki.rootCertificate())))
        .build();
  }

  /** Channel credentials with the right trust and no client certificate. */
  ChannelCredentials credentialsWithoutCertificate() throws IOException {
    return io.grpc.TlsChannelCredentials.newBuilder()
        .trustManager(dir.resolve("ca.pem").toFile())
        .build();
  }

  /** A token for {@code subject} with {@code roles}, signed by the issuer's key. */
  @SuppressWarnings("JavaUtilDate") // jjwt's API
  String token(String subject, String... roles) {
    Instant now = Instant.now();
    return Jwts.builder()
        .header()
        .keyId("k1")
        .and()
        .issuer(ISSUER)
        .subject(subject)
        .audience()
        .add(AUDIENCE)
        .and()
        .issuedAt(Date.from(now))
        .expiration(Date.from(now.plusSeconds(600)))
        .claim("roles", List.of(roles))
        .signWith(signer.getPrivate(), Jwts.SIG.RS256)
        .compact();
  }

  /** Call credentials sending {@code token} as a bearer token. */
  static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        applier.apply(headers);
      }
    };
  }

  /** A Spring Boot application serving {@link Notes}. */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    /** The subjects Spring's global interceptor saw: it runs inside the stack, after auth. */
    static final List<String> SEEN_BY_SPRING_INTERCEPTOR =
        new java.util.concurrent.CopyOnWriteArrayList<>();

    @Bean
    BindableService notes() {
      return new Notes();
    }

    @Bean
    @org.springframework.grpc.server.GlobalServerInterceptor
    io.grpc.ServerInterceptor recordingInterceptor() {
      return new io.grpc.ServerInterceptor() {
        @Override
        public <ReqT, RespT> io.grpc.ServerCall.Listener<ReqT> interceptCall(
            io.grpc.ServerCall<ReqT, RespT> call,
            io.grpc.Metadata headers,
            io.grpc.ServerCallHandler<ReqT, RespT> next) {
          Principal p = Principal.current();
          SEEN_BY_SPRING_INTERCEPTOR.add(p == null ? "none" : p.subject());
          return next.startCall(call, headers);
        }
      };
    }
  }

  /** Answers with the caller's subject, and a note the masking layer reveals to nurses only. */
  static final class Notes extends NotesGrpc.NotesImplBase {
    @Override
    public void read(NoteRequest request, StreamObserver<NoteReply> out) {
      Principal p = Principal.current();
      out.onNext(
          NoteReply.newBuilder()
              .setText("note for " + request.getPatientId())
              .setCaller(p == null ? "" : p.subject())
              .build());
      out.onCompleted();
    }

    @Override
    public void purge(NoteRequest request, StreamObserver<NoteReply> out) {
      out.onNext(NoteReply.getDefaultInstance());
      out.onCompleted();
    }
  }
}
