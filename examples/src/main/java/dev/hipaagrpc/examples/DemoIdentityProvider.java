package dev.hipaagrpc.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.jsonwebtoken.Jwts;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
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
   * public key beside it, as {@code <file>.pub}.
   */
  static void writeSigningKey(KeyPair keyPair, Path file) throws IOException {
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(keyPair.getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
    try {
      Files.setPosixFilePermissions(
          file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's own permissions apply.
    }
    Files.writeString(
        file.resolveSibling(file.getFileName() + ".pub"),
        Base64.getEncoder().encodeToString(keyPair.getPublic().getEncoded()) + "\n",
        StandardCharsets.US_ASCII);
  }

  /** Reads a key written by {@link #writeSigningKey} and derives its public half. */
  static KeyPair readSigningKey(Path file) throws IOException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    String base64 =
        pem.replace("-----BEGIN PRIVATE KEY-----", "")
            .replace("-----END PRIVATE KEY-----", "")
            .replaceAll("\\s", "");
    try {
      KeyFactory factory = KeyFactory.getInstance("EC");
      PrivateKey privateKey =
          factory.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
      ECPrivateKey ec = (ECPrivateKey) privateKey;
      // The JDK cannot derive Q = d·G from a private key, so the public key is stored beside it.
      Path publicFile = file.resolveSibling(file.getFileName() + ".pub");
      byte[] publicDer =
          Base64.getDecoder()
              .decode(Files.readString(publicFile, StandardCharsets.US_ASCII).trim());
      PublicKey publicKey =
          factory.generatePublic(new java.security.spec.X509EncodedKeySpec(publicDer));
      if (!(publicKey instanceof ECPublicKey ecPublic)
          || !ecPublic.getParams().getCurve().equals(ec.getParams().getCurve())) {
        throw new IOException("signing key files do not match");
      }
      return new KeyPair(publicKey, privateKey);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException("cannot read the demo signing key", e);
    }
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
