package dev.hipaagrpc.tls;

import io.grpc.ServerCredentials;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;
import java.net.SocketAddress;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * grpc-netty's server TLS negotiation, plus, per connection: an {@link AlpnGate} and a {@link
 * RenegotiationGuard} in front of the TLS engine, and a handler at the end of the pipeline that
 * turns a refused handshake into at most one short, rate-limited log line (the three share one
 * budget of one line per minute per server).
 *
 * <p>Why: when a peer completes its side of a TLS 1.3 handshake and closes at once (as scanners
 * do), grpc's buffering handler has already left the pipeline by the time the JDK's delegated task
 * reports the refusal (no or an untrusted client certificate), so the {@code SSLException} reaches
 * Netty's pipeline tail, which logs it with a full stack trace: an unauthenticated peer could fill
 * the disk. Only exceptions caused by an {@link SSLException} are absorbed; anything else still
 * reaches Netty's tail and is logged as before.
 */
final class QuietTlsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {

  private static final Logger logger = LoggerFactory.getLogger(QuietTlsNegotiator.class);
  private static final int MAX_REASON_CHARS = 120;

  private final InternalProtocolNegotiator.ProtocolNegotiator tls;
  private final LogLimiter limiter = LogLimiter.perMinute();
  private final HandshakeFailures failures;

  private QuietTlsNegotiator(SslContext context, TlsHandshakeObserver observer) {
    this.tls = InternalProtocolNegotiators.serverTls(context);
    this.failures = new HandshakeFailures(observer);
  }

  static ServerCredentials credentials(SslContext context, TlsHandshakeObserver observer) {
    return InternalNettyServerCredentials.create(new QuietTlsNegotiator(context, observer));
  }

  @Override
  public AsciiString scheme() {
    return tls.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    ChannelHandler negotiation = tls.newHandler(grpcHandler);
    return new ChannelHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        // In front of where grpc's negotiation handler will put the TLS engine: the ALPN gate
        // reads the ClientHello first, the renegotiation guard every later record header.
        ctx.pipeline().addBefore(ctx.name(), null, new AlpnGate(limiter, failures));
        ctx.pipeline().addBefore(ctx.name(), null, new RenegotiationGuard(limiter, failures));
        // Added last now, it stays last: grpc's handlers replace one another in front of it.
        ctx.pipeline().addLast(new RefusedHandshakeTail());
        ctx.pipeline().replace(this, null, negotiation);
      }
    };
  }

  @Override
  public void close() {
    tls.close();
  }

  /** The last handler of the pipeline: absorbs TLS failures nobody before it handled. */
  private final class RefusedHandshakeTail extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      SSLException tlsFailure = HandshakeFailures.sslCause(cause);
      if (tlsFailure == null) {
        ctx.fireExceptionCaught(cause);
        return;
      }
      var unused = ctx.close();
      failures.report(ctx.channel(), HandshakeFailures.classify(tlsFailure));
      if (limiter.tryAcquire()) {
        SocketAddress remote = ctx.channel().remoteAddress();
        logger.warn(
            "Refused a TLS connection from {}: {}; further refusals within a minute are logged"
                + " at DEBUG",
            remote,
            reason(tlsFailure));
      } else if (logger.isDebugEnabled()) {
        logger.debug(
            "Refused a TLS connection from {}: {}",
            ctx.channel().remoteAddress(),
            reason(tlsFailure));
      }
    }
  }

  /** The exception's type and message (peer-chosen text: cut short, control characters out). */
  private static String reason(SSLException e) {
    String m = String.valueOf(e.getMessage());
    StringBuilder b = new StringBuilder(e.getClass().getSimpleName()).append(' ');
    for (int i = 0; i < m.length() && i < MAX_REASON_CHARS; i++) {
      char ch = m.charAt(i);
      b.append(Character.isISOControl(ch) ? '?' : ch);
    }
    return b.toString();
  }
}
