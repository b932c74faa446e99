package dev.hipaagrpc.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a connection's ClientHello before the TLS engine does and refuses, with a fatal {@code
 * no_application_protocol} alert (RFC 7301 section 3.2), a client that does not offer ALPN {@code
 * h2}: gRPC runs only over HTTP/2 (RFC 9113 section 3.2 requires ALPN for it over TLS). Without
 * this the JDK would complete the handshake, costing a signature, and grpc would then drop the
 * connection with no reason the client can see.
 *
 * <p>Anything that is not a parseable ClientHello is passed on untouched for the TLS engine to
 * refuse. At most 64 KiB of ClientHello is buffered (Netty's limit). One instance per connection.
 */
final class AlpnGate extends SslClientHelloHandler<Boolean> {

  private static final Logger logger = LoggerFactory.getLogger(AlpnGate.class);

  private static final int EXTENSION_ALPN = 0x0010;
  private static final byte[] NO_APPLICATION_PROTOCOL = {
    0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x78 // alert record, TLS 1.2 framing, fatal, 120
  };

  private final LogLimiter limiter;
  private final HandshakeFailures failures;

  AlpnGate(LogLimiter limiter, HandshakeFailures failures) {
    this.limiter = limiter;
    this.failures = failures;
  }

  @Override
  protected Future<Boolean> lookup(ChannelHandlerContext ctx, @Nullable ByteBuf clientHello) {
    return ctx.executor().newSucceededFuture(clientHello == null || offersH2(clientHello));
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, Future<Boolean> future) {
    if (Boolean.TRUE.equals(future.getNow())) {
      // Removing a decoder hands what it buffered to the next handler: the TLS engine.
      ctx.pipeline().remove(this);
      return;
    }
    ctx.writeAndFlush(Unpooled.wrappedBuffer(NO_APPLICATION_PROTOCOL))
        .addListener(ChannelFutureListener.CLOSE);
    failures.report(ctx.channel(), TlsHandshakeFailure.NO_ALPN);
    if (limiter.tryAcquire()) {
      logger.warn(
          "Refused a TLS connection from {}: the client does not offer ALPN h2; further refusals"
              + " within a minute are logged at DEBUG",
          ctx.channel().remoteAddress());
    } else {
      logger.debug("Refused a TLS connection from {}: no ALPN h2", ctx.channel().remoteAddress());
    }
  }

  /**
   * Whether the ClientHello body (RFC 8446 section 4.1.2, without the handshake header) carries an
   * ALPN extension that lists {@code h2}. A malformed hello counts as offering it: the TLS engine
   * refuses it with the right alert.
   */
  static boolean offersH2(ByteBuf hello) {
    try {
      int i = hello.readerIndex();
      int end = hello.writerIndex();
      i += 2 + 32; // legacy_version, random
      i += 1 + hello.getUnsignedByte(i); // legacy_session_id
      i += 2 + hello.getUnsignedShort(i); // cipher_suites
      i += 1 + hello.getUnsignedByte(i); // legacy_compression_methods
      if (i + 2 > end) {
        return false; // no extensions at all: no ALPN
      }
      int extensionsEnd = i + 2 + hello.getUnsignedShort(i);
      i += 2;
      if (extensionsEnd > end) {
        return true;
      }
      while (i + 4 <= extensionsEnd) {
        int type = hello.getUnsignedShort(i);
        int length = hello.getUnsignedShort(i + 2);
        i += 4;
        if (i + length > extensionsEnd) {
          return true;
        }
        if (type == EXTENSION_ALPN) {
          return listsH2(hello, i, i + length);
        }
        i += length;
      }
      return false;
    } catch (IndexOutOfBoundsException e) {
      return true;
    }
  }

  private static boolean listsH2(ByteBuf hello, int from, int to) {
    int i = from + 2; // ProtocolNameList length
    while (i < to) {
      int length = hello.getUnsignedByte(i);
      if (length == 2
          && i + 3 <= to
          && hello.getByte(i + 1) == 'h'
          && hello.getByte(i + 2) == '2') {
        return true;
      }
      i += 1 + length;
    }
    return false;
  }
}
