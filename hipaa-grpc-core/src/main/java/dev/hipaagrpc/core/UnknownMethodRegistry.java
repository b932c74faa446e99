package dev.hipaagrpc.core;

import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.io.InputStream;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Answers every method no service registered: through the stack up to authentication, then {@code
 * UNIMPLEMENTED} with the correlation id, so probing for methods is authenticated and audited.
 */
final class UnknownMethodRegistry extends HandlerRegistry {

  static final String DESCRIPTION = "Method not found";

  /** Method names recorded as they are only when they look like one; else a fixed name. */
  private static final Pattern SANE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_.]{0,199}/[A-Za-z_][A-Za-z0-9_]{0,99}");

  private static final String INVALID_NAME = "hipaagrpc.unknown.Invalid/Invalid";

  /** Passes request bytes through unparsed; an unknown method's requests are never read. */
  static final class RawMarshaller implements MethodDescriptor.Marshaller<InputStream> {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  }

  private static final RawMarshaller RAW = new RawMarshaller();

  private final ServerCallHandler<InputStream, InputStream> handler;

  UnknownMethodRegistry(SecurityStack stack) {
    ServerInterceptor[] chain = stack.unknownMethodChain();
    this.handler =
        SecurityStack.chain(
            chain,
            (call, headers) ->
                Refusals.refuse(
                    call,
                    Status.Code.UNIMPLEMENTED,
                    DESCRIPTION,
                    CallFacts.of(io.grpc.Context.current())));
  }

  @Override
  public @Nullable ServerMethodDefinition<?, ?> lookupMethod(
      String methodName, @Nullable String authority) {
    String name = SANE_NAME.matcher(methodName).matches() ? methodName : INVALID_NAME;
    MethodDescriptor<InputStream, InputStream> md =
        MethodDescriptor.<InputStream, InputStream>newBuilder()
            .setType(MethodDescriptor.MethodType.UNKNOWN)
            .setFullMethodName(name)
            .setRequestMarshaller(RAW)
            .setResponseMarshaller(RAW)
            .build();
    return ServerMethodDefinition.create(md, handler);
  }
}
