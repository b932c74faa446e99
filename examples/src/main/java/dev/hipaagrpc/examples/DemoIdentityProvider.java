package dev.hipaagrpc.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.jsonwebtoken.Jwts;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.jspecify.annotations.Nullable;

/**
 * A stand-in for the hospital's OAuth 2.0 / OIDC identity provider, for the demo only: one ES256
 * signing key, a JWKS and an OIDC discovery document served over HTTPS on loopback, and a minter of
 * RFC 9068 access tokens. A real deployment points {@code KeySource.fromOidcDiscovery} at its real
 * provider instead.
 */
final class DemoIdentityProvider implements Closeable {

  static final String AUDIENCE = "patient-records";
  static final String KEY_ID = "demo-es256-1";

  private final KeyPair keyPair;
  private final @Nullable HttpsServer server;
  private final String issuer;

  private DemoIdentityProvider(KeyPair keyPair, @Nullable HttpsServer server, String issuer) {
    this.keyPair = keyPair;
    this.server = server;
    this.issuer = issuer;
  }

  /** Starts the provider's HTTPS endpoints on an ephemeral loopback port. */
  static DemoIdentityProvider start(KeyPair keyPair, SSLContext serverTls) throws IOException {
    HttpsServer server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    String issuer = "https://127.0.0.1:" + server.getAddress().getPort();
    String jwks = jwks((ECPublicKey) keyPair.getPublic());
    String discovery = "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/jwks.json\"}";
    server.createContext("/jwks.json", exchange -> respond(exchange, jwks));
    server.createContext(
        "/.well-known/openid-configuration", exchange -> respond(exchange, discovery));
    server.start();
    return new DemoIdentityProvider(keyPair, server, issuer);
  }

  /** A minter only (no server), for the {@code MintToken} command. */
  static DemoIdentityProvider minter(KeyPair keyPair, String issuer) {
    return new DemoIdentityProvider(keyPair, null, issuer);
  }

  String issuer() {
    return issuer;
  }

  URI jwksUri() {
    return URI.create(issuer + "/jwks.json");
  }

  /** Mints an access token ({@code typ: at+jwt}) valid for {@code ttl}. */
  String mint(
      String subject,
      List<String> roles,
      List<String> scopes,
      String tenant,
      @Nullable String patient,
      Duration ttl) {
    Instant now = Instant.now();
    var builder =
        Jwts.builder()
            .header()
            .keyId(KEY_ID)
            .type("at+jwt")
            .and()
            .issuer(issuer)
            .audience()
            .add(AUDIENCE)
            .and()
            .subject(subject)
            .id(UUID.randomUUID().toString())
            .issuedAt(Date.from(now))
            .notBefore(Date.from(now))
            .expiration(Date.from(now.plus(ttl)))
            .claim("client_id", "demo-portal")
            .claim("roles", roles)
            .claim("scope", String.join(" ", scopes))
            .claim("tenant", tenant);
    if (patient != null) {
      builder.claim("patient", patient);
    }
    return builder.signWith(keyPair.getPrivate(), Jwts.SIG.ES256).compact();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static void respond(HttpExchange exchange, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.getResponseHeaders().set("Cache-Control", "max-age=300");
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  static KeyPair newSigningKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("P-256 is not available", e);
    }
  }

  /**
   * Writes the signing key as PKCS#8 PEM (readable only by its owner where POSIX allows) and its
   * public key beside it as SPKI PEM, {@code <file>.pub}: what {@code openssl} writes and reads.
   */
  static void writeSigningKey(KeyPair keyPair, Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, pem(keyPair.getPrivate()), StandardCharsets.US_ASCII);
    try {
      Files.setPosixFilePermissions(
          file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's own permissions apply.
    }
    Files.writeString(publicFile(file), pem(keyPair.getPublic()), StandardCharsets.US_ASCII);
  }

  /** Reads a key written by {@link #writeSigningKey} (or by {@code openssl}). */
  static KeyPair readSigningKey(Path file) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    Object priv = parsePem(file);
    Object pub = parsePem(publicFile(file));
    if (!(priv instanceof PrivateKeyInfo privateInfo)
        || !(pub instanceof SubjectPublicKeyInfo publicInfo)) {
      throw new IOException("signing key files must hold a PRIVATE KEY and a PUBLIC KEY");
    }
    PrivateKey privateKey = converter.getPrivateKey(privateInfo);
    PublicKey publicKey = converter.getPublicKey(publicInfo);
    if (!(privateKey instanceof ECPrivateKey ec)
        || !(publicKey instanceof ECPublicKey ecPublic)
        || !ecPublic.getParams().getCurve().equals(ec.getParams().getCurve())) {
      throw new IOException("signing key files do not match");
    }
    return new KeyPair(publicKey, privateKey);
  }

  private static Path publicFile(Path file) {
    return file.resolveSibling(file.getFileName() + ".pub");
  }

  private static @Nullable Object parsePem(Path file) throws IOException {
    try (PEMParser parser =
        new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
      return parser.readObject();
    }
  }

  private static String pem(Object key) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(key instanceof PrivateKey p ? new JcaPKCS8Generator(p, null) : key);
    }
    return out.toString();
  }

  private static String jwks(ECPublicKey key) {
    ECPoint w = key.getW();
    Map<String, String> jwk =
        Map.of(
            "kty", "EC",
            "crv", "P-256",
            "kid", KEY_ID,
            "alg", "ES256",
            "use", "sig",
            "x", coordinate(w.getAffineX()),
            "y", coordinate(w.getAffineY()));
    StringBuilder sb = new StringBuilder("{\"keys\":[{");
    boolean first = true;
    for (Map.Entry<String, String> e : jwk.entrySet()) {
      sb.append(first ? "" : ",").append('"').append(e.getKey()).append("\":\"");
      sb.append(e.getValue()).append('"');
      first = false;
    }
    return sb.append("}]}").toString();
  }

  private static String coordinate(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] fixed = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, fixed, 32 - copy, copy);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(fixed);
  }
}
