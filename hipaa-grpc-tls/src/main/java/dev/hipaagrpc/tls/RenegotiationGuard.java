package dev.hipaagrpc.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses client-initiated TLS 1.2 renegotiation by closing the connection.
 *
 * <p>Renegotiation lets a client make the server redo its most expensive work at will on one
 * connection, and the JDK allows it (secure renegotiation, RFC 5746) unless the JVM-wide property
 * {@code jdk.tls.rejectClientInitiatedRenegotiation} is set. This handler sits in front of the TLS
 * engine and reads only record headers (five bytes per record; bodies are skipped, never copied):
 * after the client's ChangeCipherSpec, the one handshake record that may follow is its Finished, so
 * a second one is a new ClientHello, and the connection is closed before the engine sees it. The
 * rule depends only on the byte stream, not on when the engine reports its handshake done.
 *
 * <p>TLS 1.3 has no renegotiation (its post-handshake messages are encrypted and typed as
 * application data); once a TLS 1.3 handshake completes this handler leaves the pipeline, so it
 * costs nothing for the rest of such a connection. One instance per connection.
 */
final class RenegotiationGuard extends ChannelInboundHandlerAdapter {

  private static final Logger logger = LoggerFactory.getLogger(RenegotiationGuard.class);

  private static final int CHANGE_CIPHER_SPEC = 20;
  private static final int HANDSHAKE = 22;
  private static final int HEADER = 5;

  private final LogLimiter limiter;
  private final byte[] header = new byte[HEADER];
  private int headerBytes;
  private int bodyLeft;
  private boolean changedCipherSpec;
  private int handshakeRecordsSinceChange;
  private boolean watchingHandshake;
  private boolean refused;

  private final HandshakeFailures failures;

  RenegotiationGuard(LogLimiter limiter, HandshakeFailures failures) {
    this.limiter = limiter;
    this.failures = failures;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!watchingHandshake) {
      watchHandshake(ctx);
    }
    if (msg instanceof ByteBuf buf && renegotiates(buf)) {
      refused = true;
      ReferenceCountUtil.release(msg);
      var unused = ctx.close();
      failures.report(ctx.channel(), TlsHandshakeFailure.RENEGOTIATION);
      if (limiter.tryAcquire()) {
        logger.warn(
            "Refused TLS renegotiation from {}; the connection is closed. Further refusals"
                + " within a minute are logged at DEBUG",
            ctx.channel().remoteAddress());
      } else {
        logger.debug("Refused TLS renegotiation from {}", ctx.channel().remoteAddress());
      }
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * Leaves the pipeline once the engine reports a TLS 1.3 handshake; reports a failed handshake to
   * the observer (grpc's negotiation handler consumes the failure before the pipeline's end).
   */
  private void watchHandshake(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return;
    }
    watchingHandshake = true;
    ssl.handshakeFuture()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                failures.reportFailure(ctx.channel(), f.cause());
              }
              if (f.isSuccess()
                  && "TLSv1.3".equals(ssl.engine().getSession().getProtocol())
                  && !ctx.isRemoved()) {
                ctx.pipeline().remove(this);
              }
            });
  }

  /** Walks the record headers in {@code buf}; true once a renegotiating record starts. */
  private boolean renegotiates(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (bodyLeft > 0) {
        int skip = Math.min(bodyLeft, end - i);
        bodyLeft -= skip;
        i += skip;
        continue;
      }
      header[headerBytes++] = buf.getByte(i++);
      if (headerBytes < HEADER) {
        continue;
      }
      headerBytes = 0;
      int type = header[0] & 0xff;
      bodyLeft = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
      if (type == CHANGE_CIPHER_SPEC) {
        changedCipherSpec = true;
      } else if (type == HANDSHAKE && changedCipherSpec && ++handshakeRecordsSinceChange > 1) {
        return true;
      }
    }
    return false;
  }
}
