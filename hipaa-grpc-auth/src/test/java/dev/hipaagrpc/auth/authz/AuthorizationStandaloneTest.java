package dev.hipaagrpc.auth.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.auth.authz.testing.AdminServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.auth.authz.testing.RecordReply;
import dev.hipaagrpc.auth.ratelimit.RateLimitServerInterceptor;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interceptors used alone: they create the call's facts and the service sees them. */
class AuthorizationStandaloneTest {

  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";

  /** Records a principal through the one write path (a minimal authenticator). */
  static final ServerInterceptor PRINCIPAL_ONLY =
      new ServerInterceptor() {
        @Override
        public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
          Principal p = AuthorizationTestServer.user("u1", "nurse").addScopes(List.of("x")).build();
          Context ctx = CallFacts.inContext(Context.current());
          CallFacts.of(ctx).principal(p);
          return Contexts.interceptCall(ctx, call, headers, next);
        }
      };

  static final class Admin extends AdminServiceGrpc.AdminServiceImplBase {
    @Override
    public void ping(PlainRequest req, StreamObserver<RecordReply> out) {
      CallFacts facts = CallFacts.current();
      String text =
          facts == null || facts.decision() == null
              ? "no facts"
              : facts.decision().ruleId() + "/" + Principal.current().roles();
      out.onNext(RecordReply.newBuilder().setText(text).build());
      out.onCompleted();
    }
  }

  @Test
  void interceptCall_aloneWithoutOuterFacts_createsFactsVisibleToTheService() throws Exception {
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.create(
            AuthorizationPolicy.newBuilder("v1")
                .rule(AuthorizationPolicy.allow("ping").methods(ADMIN + "/Ping").anyRole("nurse"))
                .build());
    RateLimitServerInterceptor limiter = RateLimitServerInterceptor.newBuilder().build();
    String name = InProcessServerBuilder.generateName();
    // Inner to outer: limiter, authz, principal.
    Server server =
        InProcessServerBuilder.forName(name)
            .addService(ServerInterceptors.intercept(new Admin(), limiter, authz, PRINCIPAL_ONLY))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      RecordReply reply =
          AdminServiceGrpc.newBlockingStub(channel).ping(PlainRequest.getDefaultInstance());
      assertThat(reply.getText()).isEqualTo("ping/[nurse]");
    } finally {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination();
    }
  }
}
