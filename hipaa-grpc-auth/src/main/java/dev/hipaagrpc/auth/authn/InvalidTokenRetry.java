package dev.hipaagrpc.auth.authn;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * On a server's {@code invalid_token} refusal: tells the token source (so the next call gets a
 * fresh token) and, for a unary call the server refused before answering anything, sends it again
 * once with a fresh token. Never more than one retry per call, so a server that refuses every token
 * cannot make the client loop; streaming calls are not replayed (their messages are not kept), only
 * the source is told. A refused call never ran: the server's authentication layer closes it before
 * the service sees it, so the retry cannot repeat an effect.
 */
final class InvalidTokenRetry implements ClientInterceptor {

  private static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);

  private final AccessTokenSource source;
  private final Clock clock;

  InvalidTokenRetry(AccessTokenSource source, Clock clock) {
    this.source = source;
    this.clock = clock;
  }

  static boolean isInvalidToken(Status status, Metadata trailers) {
    if (status.getCode() != Status.Code.UNAUTHENTICATED) {
      return false;
    }
    Iterable<String> challenges = trailers.getAll(WWW_AUTHENTICATE);
    if (challenges == null) {
      return false;
    }
    for (String c : challenges) {
      if (c.contains("error=\"invalid_token\"")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    return new RetryingCall<>(method, options, next);
  }

  /** One logical call: the first attempt, and at most one more. */
  private final class RetryingCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;
    private final CallOptions options;
    private final Channel channel;
    private final boolean replayable;
    private final Object lock = new Object();
    private ClientCall<ReqT, RespT> attempt;
    private @Nullable Listener<RespT> listener;
    private @Nullable Metadata headers;
    private @Nullable ReqT message;
    private int messages;
    private int requested;
    private boolean halfClosed;
    private boolean cancelled;

    RetryingCall(MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel channel) {
      this.method = method;
      this.options = options;
      this.channel = channel;
      this.replayable = method.getType() == MethodDescriptor.MethodType.UNARY;
      this.attempt = channel.newCall(method, options);
    }

    @Override
    public void start(Listener<RespT> responseListener, Metadata requestHeaders) {
      Metadata copy = new Metadata();
      copy.merge(requestHeaders);
      synchronized (lock) {
        this.listener = responseListener;
        this.headers = copy;
      }
      attempt.start(new AttemptListener(responseListener, true), requestHeaders);
    }

    @Override
    public void request(int numMessages) {
      ClientCall<ReqT, RespT> a;
      synchronized (lock) {
        requested += numMessages;
        a = attempt;
      }
      a.request(numMessages);
    }

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {
      ClientCall<ReqT, RespT> a;
      synchronized (lock) {
        cancelled = true;
        a = attempt;
      }
      a.cancel(message, cause);
    }

    @Override
    public void halfClose() {
      ClientCall<ReqT, RespT> a;
      synchronized (lock) {
        halfClosed = true;
        a = attempt;
      }
      a.halfClose();
    }

    @Override
    public void sendMessage(ReqT m) {
      ClientCall<ReqT, RespT> a;
      synchronized (lock) {
        if (replayable && messages++ == 0) {
          message = m;
        }
        a = attempt;
      }
      a.sendMessage(m);
    }

    @Override
    public boolean isReady() {
      synchronized (lock) {
        return attempt.isReady();
      }
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      attempt.setMessageCompression(enabled);
    }

    /** Starts the second attempt; false when this call cannot be replayed. */
    private boolean retry(Listener<RespT> target) {
      ClientCall<ReqT, RespT> second;
      ReqT m;
      Metadata h;
      int n;
      synchronized (lock) {
        if (!replayable || cancelled || !halfClosed || messages != 1 || headers == null) {
          return false;
        }
        m = message;
        h = headers;
        n = requested;
        second = channel.newCall(method, options);
        attempt = second;
      }
      second.start(new AttemptListener(target, false), h);
      if (n > 0) {
        second.request(n);
      }
      second.sendMessage(m);
      second.halfClose();
      return true;
    }

    private final class AttemptListener
        extends ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT> {
      private final boolean first;
      private boolean answered;

      AttemptListener(Listener<RespT> delegate, boolean first) {
        super(delegate);
        this.first = first;
      }

      @Override
      public void onHeaders(Metadata h) {
        answered = true;
        super.onHeaders(h);
      }

      @Override
      public void onMessage(RespT m) {
        answered = true;
        super.onMessage(m);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        if (first && isInvalidToken(status, trailers)) {
          // Refused now, so the refused token was obtained before now; one fetched later stays.
          source.invalidateIssuedBefore(clock.instant());
          Listener<RespT> target;
          synchronized (lock) {
            target = listener;
          }
          if (!answered && target != null && retry(target)) {
            return;
          }
        }
        super.onClose(status, trailers);
      }
    }
  }
}
