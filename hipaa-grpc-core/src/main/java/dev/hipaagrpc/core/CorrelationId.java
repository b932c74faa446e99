package dev.hipaagrpc.core;

import io.grpc.Metadata;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The correlation id that ties a caller's request to our logs, audit events and error messages.
 *
 * <p>An incoming id is accepted only if it has 1 to {@value #MAX_LENGTH} characters from {@code
 * [A-Za-z0-9._-]}: anything else (too long, spaces, quotes, control characters, non-ASCII) could
 * smuggle data or forge log lines, and is replaced by a generated id. Generated ids are 32
 * lowercase hex characters. Correlation ids are not secrets and not identifiers of a person.
 *
 * <p>Thread-safe.
 */
public final class CorrelationId {

  /** The request and response header that carries the id: {@code x-correlation-id}. */
  public static final Metadata.Key<String> HEADER =
      Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER);

  /** The longest incoming id accepted. */
  public static final int MAX_LENGTH = 64;

  /**
   * The SLF4J MDC key under which {@link CorrelationIdServerInterceptor} puts the call's
   * correlation id while the call's code runs on a thread (interception and every listener
   * callback), so every log line of the call carries it: {@value}.
   */
  public static final String MDC_KEY = "correlationId";

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private CorrelationId() {}

  /** Returns the current call's correlation id, or {@code null} outside a call. */
  public static @Nullable String current() {
    CallFacts facts = CallFacts.current();
    return facts == null ? null : facts.correlationId();
  }

  /** Returns whether {@code candidate} is short and of the safe charset. */
  public static boolean isAcceptable(@Nullable String candidate) {
    if (candidate == null || candidate.isEmpty() || candidate.length() > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < candidate.length(); i++) {
      char c = candidate.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_'
              || c == '.';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Returns a new random id of 32 hex characters (128 bits). */
  public static String generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] out = new char[32];
    long hi = random.nextLong();
    long lo = random.nextLong();
    for (int i = 0; i < 16; i++) {
      out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xf];
      out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xf];
    }
    return new String(out);
  }
}
