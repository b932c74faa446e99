package dev.hipaagrpc.auth.authn;

import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.testing.Echo;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/** A real gRPC service behind the authentication interceptor, and a client to call it. */
final class AuthenticationTestHarness implements AutoCloseable {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);

  /** The outcome of one call. */
  record Result(
      Status status,
      @Nullable String response,
      Metadata trailers,
      @Nullable CallFacts facts,
      @Nullable Principal principal) {
    String failure() {
      return facts == null ? null : facts.authenticationFailure();
    }
  }

  private final AtomicReference<CallFacts> lastFacts = new AtomicReference<>();
  private final AtomicReference<Principal> lastPrincipal = new AtomicReference<>();
  private final Server server;
  private final ManagedChannel channel;

  /** Starts an in-process server. */
  AuthenticationTestHarness(ServerInterceptor auth) throws IOException {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name).addService(service(auth)).directExecutor().build();
    server.start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  /**
   * Starts a Netty server on port 0 with {@code serverCredentials}; the default channel uses {@code
   * channelCredentials}.
   */
  AuthenticationTestHarness(
      ServerInterceptor auth,
      ServerCredentials serverCredentials,
      ChannelCredentials channelCredentials)
      throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, serverCredentials)
            .addService(service(auth))
            .directExecutor()
            .build();
    server.start();
    channel = channel(channelCredentials);
  }

  /** A new channel to the TLS server; the caller shuts it down. */
  ManagedChannel channel(ChannelCredentials credentials) {
    return Grpc.newChannelBuilderForAddress("localhost", server.getPort(), credentials).build();
  }

  /** The service, with {@code auth} inside an outer layer that records the call's facts. */
  ServerServiceDefinition service(ServerInterceptor auth) {
    // The reply is the caller's subject, as the service saw it.
    ServerServiceDefinition def =
        Echo.service(
            request -> {
              Principal p = Principal.current();
              lastPrincipal.set(p);
              return p == null ? "none" : p.subject();
            });
    ServerInterceptor recorder =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            Context ctx = CallFacts.inContext(Context.current());
            lastFacts.set(CallFacts.of(ctx));
            return Contexts.interceptCall(ctx, call, headers, next);
          }
        };
    // Last is outermost: recorder runs first, like audit would.
    return ServerInterceptors.intercept(def, auth, recorder);
  }

  Result callWithToken(@Nullable String token) {
    Metadata headers = new Metadata();
    if (token != null) {
      headers.put(AUTHORIZATION, "Bearer " + token);
    }
    return call(headers, null);
  }

  Result call(Metadata headers, @Nullable CallCredentials credentials) {
    return callOn(channel, headers, credentials);
  }

  Result callOn(Channel target, @Nullable String token) {
    Metadata headers = new Metadata();
    if (token != null) {
      headers.put(AUTHORIZATION, "Bearer " + token);
    }
    return callOn(target, headers, null);
  }

  Result callOn(Channel target, Metadata headers, @Nullable CallCredentials credentials) {
    lastFacts.set(null);
    lastPrincipal.set(null);
    AtomicReference<Metadata> trailers = new AtomicReference<>(new Metadata());
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    Channel ch =
        ClientInterceptors.intercept(
            target,
            MetadataUtils.newAttachHeadersInterceptor(headers),
            MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers));
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    if (credentials != null) {
      options = options.withCallCredentials(credentials);
    }
    try {
      String response = ClientCalls.blockingUnaryCall(ch, Echo.ECHO, options, "hello");
      return new Result(Status.OK, response, trailers.get(), lastFacts.get(), lastPrincipal.get());
    } catch (StatusRuntimeException e) {
      Metadata t = e.getTrailers() != null ? e.getTrailers() : trailers.get();
      return new Result(e.getStatus(), null, t, lastFacts.get(), lastPrincipal.get());
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
