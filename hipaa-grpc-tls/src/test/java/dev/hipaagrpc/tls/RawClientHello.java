package dev.hipaagrpc.tls;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/**
 * A hand-built TLS ClientHello sent over a raw loopback socket. The JDK's own client refuses to
 * offer TLS 1.1, CBC-only or static-RSA-only hellos under its default security properties, which
 * would make a refusal test prove nothing; this sends exactly the bytes we choose.
 */
final class RawClientHello {

  static final int TLS_1_1 = 0x0302;
  static final int TLS_1_2 = 0x0303;

  static final int[] CBC_SUITES = {
    0xC023, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    0xC024, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
    0xC009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xC00A, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0xC027, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    0xC013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
  };

  static final int[] STATIC_RSA_SUITES = {
    0x009C, // TLS_RSA_WITH_AES_128_GCM_SHA256
    0x009D, // TLS_RSA_WITH_AES_256_GCM_SHA384
    0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
  };

  static final int[] ECDHE_ECDSA_GCM = {
    0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  };

  static final int[] CHACHA_TLS12 = {
    0xCCA9, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  };

  /** What the server answered. */
  enum Answer {
    SERVER_HELLO,
    ALERT,
    CLOSED
  }

  record Result(Answer answer, int alertLevel, int alertDescription) {}

  private RawClientHello() {}

  /** Sends a ClientHello with {@code version} and {@code suites} and reads the first answer. */
  static Result send(int port, int version, int[] suites) throws IOException {
    return send(port, version, suites, new int[] {SECP256R1, SECP384R1});
  }

  static final int SECP256R1 = 0x0017;
  static final int SECP384R1 = 0x0018;
  static final int X25519 = 0x001d;

  /** As {@link #send(int, int, int[])}, offering only the given key-exchange groups. */
  static Result send(int port, int version, int[] suites, int[] groups) throws IOException {
    return send(port, new Hello(version, suites, groups, DEFAULT_SCHEMES, List.of("h2")));
  }

  /** ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256. */
  static final int[] DEFAULT_SCHEMES = {0x0403, 0x0804, 0x0401};

  /** ecdsa_sha1, rsa_pkcs1_sha1: what SP 800-52r2 refuses for handshake signatures. */
  static final int[] SHA1_SCHEMES = {0x0203, 0x0201};

  /**
   * What a ClientHello offers. An empty {@code signatureSchemes} omits the extension (which means
   * SHA-1 in TLS 1.2); an empty {@code alpn} omits ALPN.
   */
  @SuppressWarnings("ArrayRecordComponent") // wire lists for a test; never compared or hashed
  record Hello(int version, int[] suites, int[] groups, int[] signatureSchemes, List<String> alpn) {

    static Hello tls12(int[] suites) {
      return new Hello(
          TLS_1_2, suites, new int[] {SECP256R1, SECP384R1}, DEFAULT_SCHEMES, List.of("h2"));
    }

    Hello withSignatureSchemes(int... schemes) {
      return new Hello(version, suites, groups, schemes, alpn);
    }

    Hello withAlpn(String... protocols) {
      return new Hello(version, suites, groups, signatureSchemes, List.of(protocols));
    }
  }

  /** Sends {@code hello} and reads the first answer. */
  static Result send(int port, Hello hello) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      // A safety net against a hung test, not a timing assertion.
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      out.write(record(clientHello(hello)));
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      // Reads the server's whole first flight: a server can send its ServerHello and only then
      // find it cannot sign the ServerKeyExchange, so an answer is "accepted" only at
      // ServerHelloDone.
      ByteArrayOutputStream handshake = new ByteArrayOutputStream();
      try {
        while (true) {
          int type = in.read();
          if (type < 0) {
            return new Result(Answer.CLOSED, -1, -1);
          }
          in.readUnsignedShort(); // record version
          byte[] body = new byte[in.readUnsignedShort()];
          in.readFully(body);
          if (type == 0x15) {
            return new Result(Answer.ALERT, body[0] & 0xff, body[1] & 0xff);
          }
          if (type != 0x16) {
            throw new IOException("unexpected TLS record type " + type);
          }
          handshake.writeBytes(body);
          if (containsServerHelloDone(handshake.toByteArray())) {
            return new Result(Answer.SERVER_HELLO, -1, -1);
          }
        }
      } catch (EOFException | SocketException e) {
        return new Result(Answer.CLOSED, -1, -1);
      }
    }
  }

  private static boolean containsServerHelloDone(byte[] messages) {
    int i = 0;
    while (i + 4 <= messages.length) {
      int type = messages[i] & 0xff;
      int length =
          ((messages[i + 1] & 0xff) << 16)
              | ((messages[i + 2] & 0xff) << 8)
              | (messages[i + 3] & 0xff);
      if (type == 0x0e) {
        return true;
      }
      i += 4 + length;
    }
    return false;
  }

  private static byte[] record(byte[] handshake) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x16);
    u16(b, 0x0301);
    u16(b, handshake.length);
    b.writeBytes(handshake);
    return b.toByteArray();
  }

  private static byte[] clientHello(Hello hello) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    u16(body, hello.version());
    int[] suites = hello.suites();
    int[] groups = hello.groups();
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    body.writeBytes(random);
    body.write(0); // empty session id
    u16(body, suites.length * 2);
    for (int s : suites) {
      u16(body, s);
    }
    body.write(1); // one compression method
    body.write(0); // null
    ByteArrayOutputStream ext = new ByteArrayOutputStream();
    // server_name: localhost
    byte[] host = "localhost".getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream sni = new ByteArrayOutputStream();
    u16(sni, host.length + 3);
    sni.write(0);
    u16(sni, host.length);
    sni.writeBytes(host);
    extension(ext, 0x0000, sni.toByteArray());
    ByteArrayOutputStream g = new ByteArrayOutputStream();
    u16(g, groups.length * 2);
    for (int group : groups) {
      u16(g, group);
    }
    extension(ext, 0x000a, g.toByteArray());
    // ec_point_formats: uncompressed
    extension(ext, 0x000b, new byte[] {1, 0});
    if (hello.signatureSchemes().length > 0) {
      ByteArrayOutputStream sa = new ByteArrayOutputStream();
      u16(sa, hello.signatureSchemes().length * 2);
      for (int scheme : hello.signatureSchemes()) {
        u16(sa, scheme);
      }
      extension(ext, 0x000d, sa.toByteArray());
    }
    if (!hello.alpn().isEmpty()) {
      ByteArrayOutputStream names = new ByteArrayOutputStream();
      for (String protocol : hello.alpn()) {
        byte[] name = protocol.getBytes(StandardCharsets.US_ASCII);
        names.write(name.length);
        names.writeBytes(name);
      }
      ByteArrayOutputStream alpn = new ByteArrayOutputStream();
      u16(alpn, names.size());
      alpn.writeBytes(names.toByteArray());
      extension(ext, 0x0010, alpn.toByteArray());
    }
    byte[] extensions = ext.toByteArray();
    u16(body, extensions.length);
    body.writeBytes(extensions);
    byte[] b = body.toByteArray();
    ByteArrayOutputStream hs = new ByteArrayOutputStream();
    hs.write(0x01); // client_hello
    hs.write((b.length >> 16) & 0xff);
    u16(hs, b.length & 0xffff);
    hs.writeBytes(b);
    return hs.toByteArray();
  }

  private static void extension(ByteArrayOutputStream out, int type, byte[] data) {
    u16(out, type);
    u16(out, data.length);
    out.writeBytes(data);
  }

  private static void u16(ByteArrayOutputStream out, int v) {
    out.write((v >> 8) & 0xff);
    out.write(v & 0xff);
  }
}
