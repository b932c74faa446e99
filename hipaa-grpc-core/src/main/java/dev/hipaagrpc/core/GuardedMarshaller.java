package dev.hipaagrpc.core;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Wraps a method's request marshaller so that a request that cannot be parsed, or is over the
 * stack's size limit, reaches the {@link CallGuard} as a marker instead of an exception that
 * grpc-java would answer past every interceptor (UNKNOWN, no audit event, a stack trace).
 *
 * <p>The markers are private objects handed through the listener chain under the erased request
 * type; only {@link CallGuard}, which sits directly inside audit, ever sees them, and it never
 * passes them on.
 */
final class GuardedMarshaller<T> implements MethodDescriptor.Marshaller<T> {

  /** What a request that could not be handed on became. */
  enum Marker {
    /** A request whose bytes did not parse. */
    MALFORMED,
    /** A request over the stack's size limit. */
    TOO_LARGE
  }

  private final MethodDescriptor.Marshaller<T> delegate;
  private final int maxBytes;

  GuardedMarshaller(MethodDescriptor.Marshaller<T> delegate, int maxBytes) {
    this.delegate = delegate;
    this.maxBytes = maxBytes;
  }

  @Override
  public InputStream stream(T value) {
    return delegate.stream(value);
  }

  @Override
  @SuppressWarnings("unchecked") // the marker travels under the erased type; see class javadoc
  public T parse(InputStream stream) {
    InputStream in = stream;
    try {
      if (stream instanceof KnownLength) {
        // Netty's and the in-process transport's buffers know their length: no copy.
        if (stream.available() > maxBytes) {
          return (T) Marker.TOO_LARGE;
        }
      } else {
        byte[] bytes = stream.readNBytes(maxBytes == Integer.MAX_VALUE ? maxBytes : maxBytes + 1);
        if (bytes.length > maxBytes) {
          return (T) Marker.TOO_LARGE;
        }
        in = new ByteArrayInputStream(bytes);
      }
    } catch (IOException e) {
      return (T) Marker.MALFORMED;
    } catch (RuntimeException e) {
      // grpc's size-enforcing stream throws StatusRuntimeException(RESOURCE_EXHAUSTED) on a
      // decompressed message over the transport's limit.
      return (T) Marker.TOO_LARGE;
    }
    try {
      T parsed = delegate.parse(in);
      return parsed == null ? (T) Marker.MALFORMED : parsed;
    } catch (RuntimeException e) {
      // Protobuf marshallers throw StatusRuntimeException(INTERNAL) wrapping
      // InvalidProtocolBufferException; any other parser may throw anything unchecked.
      return (T) Marker.MALFORMED;
    }
  }
}
