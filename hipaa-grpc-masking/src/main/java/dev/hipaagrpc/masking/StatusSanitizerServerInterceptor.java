package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.PostureItem;
import dev.hipaagrpc.core.Safeguard;
import dev.hipaagrpc.core.SecurityLayer;
import dev.hipaagrpc.core.internal.Refusals;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every error leave the server generic (45 CFR 164.502(b); invariant: no PHI in a status).
 *
 * <p>Any non-OK status a handler or an inner interceptor produces is replaced by the same code with
 * a fixed description per code plus the correlation id, e.g. {@code "Not found (correlation id:
 * 4f…)"}; no cause; and only the allow-listed trailers (default: {@code x-correlation-id}). {@code
 * UNKNOWN} becomes {@code INTERNAL}. An exception thrown by the handler (or by an inner
 * interceptor) is caught and closes the call the same way, as {@code INTERNAL}, or as the code of a
 * {@link StatusRuntimeException}/{@link StatusException}.
 *
 * <p>The original detail goes to the server log (logger {@code
 * dev.hipaagrpc.masking.StatusSanitizerServerInterceptor}) without free text: the method, the
 * original code, the correlation id, the length of the withheld description, the names (not values)
 * of dropped trailers, the exception's class chain and stack frames (never its messages), and the
 * {@code google.rpc.Status} details carried in {@code grpc-status-details-bin} printed through
 * {@link Redactor#print} (types not in the redactor's registry by type URL only). OK statuses and
 * their trailers pass unchanged.
 *
 * <p>Status details: of {@code grpc-status-details-bin}, only {@code google.rpc.BadRequest} (the
 * allow-list of detail types, what a validator such as {@link ProtovalidateLayer} sends) reaches
 * the caller, and of its field violations only those whose field path is field names and list
 * indexes, whose reason and description are at most 256 printable ASCII characters, and none of
 * which contains a value of the call's last 8 request messages (strings, bytes, numbers; values
 * shorter than 2 characters are not compared). They are re-sent in a new {@code google.rpc.Status}
 * with the generic description; everything else in the details is dropped.
 *
 * <p>Install it just outside {@link MaskingServerInterceptor}, inside authentication. Thread-safe.
 */
public final class StatusSanitizerServerInterceptor implements SecurityLayer {

  private static final Logger log = LoggerFactory.getLogger(StatusSanitizerServerInterceptor.class);
  private static final Pattern TRAILER_NAME = Pattern.compile("[a-z0-9_.-]{1,128}");
  private static final Metadata.Key<byte[]> STATUS_DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);
  private static final int MAX_FRAMES = 8;
  private static final int MAX_REQUESTS_KEPT = 8;

  private final Set<String> allowedTrailers;
  private final Redactor redactor;

  private StatusSanitizerServerInterceptor(Builder b) {
    this.allowedTrailers = Set.copyOf(b.allowedTrailers);
    this.redactor = b.redactor;
  }

  /** Returns a sanitizer with the defaults of {@link Builder}. */
  public static StatusSanitizerServerInterceptor create() {
    return newBuilder().build();
  }

  /** Starts a sanitizer. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The generic description for {@code code}, without the correlation id. */
  static String genericDescription(Status.Code code) {
    return switch (code) {
      case CANCELLED -> "Cancelled";
      case INVALID_ARGUMENT -> "Invalid request";
      case DEADLINE_EXCEEDED -> "Deadline exceeded";
      case NOT_FOUND -> "Not found";
      case ALREADY_EXISTS -> "Already exists";
      case PERMISSION_DENIED -> "Access denied";
      case RESOURCE_EXHAUSTED -> "Resource exhausted";
      case FAILED_PRECONDITION -> "Failed precondition";
      case ABORTED -> "Aborted";
      case OUT_OF_RANGE -> "Out of range";
      case UNIMPLEMENTED -> "Not implemented";
      case UNAVAILABLE -> "Service unavailable";
      case UNAUTHENTICATED -> "Authentication required";
      case OK -> "OK";
      case UNKNOWN, INTERNAL, DATA_LOSS -> "Internal error";
    };
  }

  @Override
  public Slot slot() {
    return Slot.STATUS_SANITIZER;
  }

  @Override
  public String describe() {
    return "StatusSanitizerServerInterceptor";
  }

  /**
   * One {@code masking.status_sanitizer} item: errors leave generic with the correlation id, and
   * the trailers let through.
   */
  @Override
  public List<PostureItem> posture() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("genericDescriptions", true);
    v.put("allowedTrailers", new ArrayList<>(new java.util.TreeSet<>(allowedTrailers)));
    return List.of(PostureItem.ok("masking.status_sanitizer", Safeguard.MINIMUM_NECESSARY, v));
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Context ctx = CallFacts.inContext(Context.current());
    CallFacts facts = CallFacts.of(ctx);
    SanitizingCall<ReqT, RespT> sanitizing = new SanitizingCall<>(call, facts);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = Contexts.interceptCall(ctx, sanitizing, headers, next);
    } catch (RuntimeException e) {
      sanitizing.closeForException(e);
      return Refusals.ignoring();
    }
    return new SanitizingListener<>(listener, sanitizing);
  }

  private final class SanitizingCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {
    private final CallFacts facts;
    private volatile boolean closed;
    // The call's last request messages (a validator refuses the latest), to tell whether a
    // BadRequest detail echoes one of them.
    private final List<com.google.protobuf.Message> requests =
        java.util.Collections.synchronizedList(new ArrayList<>());

    void requestReceived(Object message) {
      if (message instanceof com.google.protobuf.Message m) {
        synchronized (requests) {
          if (requests.size() == MAX_REQUESTS_KEPT) {
            requests.remove(0);
          }
          requests.add(m);
        }
      }
    }

    SanitizingCall(ServerCall<ReqT, RespT> delegate, CallFacts facts) {
      super(delegate);
      this.facts = facts;
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (closed) {
        return;
      }
      if (status.isOk()) {
        closed = true;
        super.close(status, trailers);
        return;
      }
      sanitizeAndClose(status, trailers, status.getCause());
    }

    void closeForException(RuntimeException e) {
      if (closed) {
        log.warn(
            "{} threw {} after the call was closed (correlation id: {}){}",
            getMethodDescriptor().getFullMethodName(),
            e.getClass().getName(),
            facts.correlationId(),
            frames(e));
        return;
      }
      Status status;
      Metadata trailers;
      if (e instanceof StatusRuntimeException sre) {
        status = sre.getStatus();
        Metadata t = sre.getTrailers();
        trailers = t == null ? new Metadata() : t;
      } else {
        status = Status.INTERNAL;
        trailers = new Metadata();
      }
      sanitizeAndClose(status.withCause(e), trailers, e);
    }

    private void sanitizeAndClose(Status original, Metadata trailers, @Nullable Throwable cause) {
      closed = true;
      Status.Code code =
          original.getCode() == Status.Code.UNKNOWN ? Status.Code.INTERNAL : original.getCode();
      String id = facts.correlationId();
      Metadata out = new Metadata();
      List<String> dropped = new ArrayList<>();
      for (String name : trailers.keys()) {
        if (name.equals(CorrelationId.HEADER.name())) {
          // Allowed by default, so held to the correlation id's own safe shape.
          String value = trailers.get(CorrelationId.HEADER);
          if (allowedTrailers.contains(name) && CorrelationId.isAcceptable(value)) {
            out.put(CorrelationId.HEADER, value);
          } else {
            dropped.add(name);
          }
        } else if (allowedTrailers.contains(name)) {
          copy(trailers, out, name);
        } else {
          dropped.add(name);
        }
      }
      byte[] details = trailers.get(STATUS_DETAILS);
      if (details != null) {
        List<String> values;
        synchronized (requests) {
          values = SafeDetails.valuesOf(List.copyOf(requests));
        }
        com.google.rpc.Status safe =
            SafeDetails.filter(
                details,
                code.value(),
                Refusals.description(genericDescription(code), facts),
                values);
        if (safe != null) {
          out.put(STATUS_DETAILS, safe.toByteArray());
        }
      }
      String description = original.getDescription();
      log(original.getCode(), code, id, description, dropped, trailers, cause);
      super.close(Refusals.status(code, genericDescription(code), facts), out);
    }

    private void log(
        Status.Code originalCode,
        Status.Code code,
        String id,
        @Nullable String description,
        List<String> dropped,
        Metadata trailers,
        @Nullable Throwable cause) {
      boolean serverSide =
          code == Status.Code.INTERNAL
              || code == Status.Code.DATA_LOSS
              || code == Status.Code.UNAVAILABLE;
      if (!(serverSide ? log.isWarnEnabled() : log.isDebugEnabled())) {
        return;
      }
      StringBuilder detail = new StringBuilder();
      detail.append(getMethodDescriptor().getFullMethodName()).append(" closed with ");
      detail.append(originalCode);
      if (code != originalCode) {
        detail.append(" (sent as ").append(code).append(')');
      }
      detail.append(" (correlation id: ").append(id).append(')');
      if (description != null) {
        detail.append("; description withheld (").append(description.length()).append(" chars)");
      }
      if (!dropped.isEmpty()) {
        detail.append("; trailers dropped: ").append(dropped);
      }
      detail.append(statusDetails(trailers));
      if (cause != null) {
        detail.append(frames(cause));
      }
      if (serverSide) {
        log.warn("{}", detail);
      } else {
        // A refusal or a service's own NOT_FOUND is a detail: the stack's once-a-minute refusal
        // summary is what an operator reads; per-call lines at INFO would let callers flood the
        // log.
        log.debug("{}", detail);
      }
    }
  }

  private String statusDetails(Metadata trailers) {
    byte[] bytes = trailers.get(STATUS_DETAILS);
    if (bytes == null) {
      return "";
    }
    try {
      com.google.rpc.Status rpc = com.google.rpc.Status.parseFrom(bytes);
      StringBuilder sb = new StringBuilder("; details: [");
      for (int i = 0; i < rpc.getDetailsCount(); i++) {
        Any any = rpc.getDetails(i);
        if (i > 0) {
          sb.append(", ");
        }
        // google.rpc detail types hold free text (descriptions), so only user types whose
        // fields carry sensitivity options are printed, through the safe printer.
        if (any.getTypeUrl().contains("/google.rpc.")) {
          sb.append(safeTypeUrl(any.getTypeUrl()));
        } else {
          String printed;
          try {
            printed = redactor.print(any);
          } catch (RuntimeException e) {
            printed = safeTypeUrl(any.getTypeUrl()) + " <unprintable>";
          }
          sb.append(printed);
        }
      }
      return sb.append(']').toString();
    } catch (InvalidProtocolBufferException e) {
      return "; details: <unparseable>";
    }
  }

  private static String safeTypeUrl(String typeUrl) {
    return typeUrl.length() <= 200 && typeUrl.matches("[A-Za-z0-9_./-]*")
        ? typeUrl
        : "<malformed type url>";
  }

  /** The class chain and top stack frames of {@code t}: never a message, which may hold PHI. */
  static String frames(Throwable t) {
    StringBuilder sb = new StringBuilder("; exception: ");
    Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    Throwable current = t;
    boolean first = true;
    while (current != null && seen.add(current)) {
      if (!first) {
        sb.append(" caused by ");
      }
      first = false;
      sb.append(current.getClass().getName());
      if (current instanceof StatusRuntimeException sre) {
        sb.append('(').append(sre.getStatus().getCode()).append(')');
      } else if (current instanceof StatusException se) {
        sb.append('(').append(se.getStatus().getCode()).append(')');
      }
      StackTraceElement[] trace = current.getStackTrace();
      for (int i = 0; i < trace.length && i < MAX_FRAMES; i++) {
        sb.append("\n\tat ").append(trace[i]);
      }
      current = current.getCause();
    }
    return sb.toString();
  }

  private static void copy(Metadata from, Metadata to, String name) {
    if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
      Metadata.Key<byte[]> key = Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER);
      Iterable<byte[]> values = from.getAll(key);
      if (values != null) {
        for (byte[] v : values) {
          to.put(key, v);
        }
      }
    } else {
      Metadata.Key<String> key = Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
      Iterable<String> values = from.getAll(key);
      if (values != null) {
        for (String v : values) {
          to.put(key, v);
        }
      }
    }
  }

  private static final class SanitizingListener<ReqT>
      extends SimpleForwardingServerCallListener<ReqT> {
    private final SanitizingCall<ReqT, ?> call;

    SanitizingListener(ServerCall.Listener<ReqT> delegate, SanitizingCall<ReqT, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(ReqT message) {
      call.requestReceived(message);
      try {
        super.onMessage(message);
      } catch (RuntimeException e) {
        call.closeForException(e);
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (RuntimeException e) {
        call.closeForException(e);
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (RuntimeException e) {
        call.closeForException(e);
      }
    }

    @Override
    public void onCancel() {
      try {
        super.onCancel();
      } catch (RuntimeException e) {
        call.closeForException(e);
      }
    }

    @Override
    public void onComplete() {
      try {
        super.onComplete();
      } catch (RuntimeException e) {
        call.closeForException(e);
      }
    }
  }

  /** Builds a {@link StatusSanitizerServerInterceptor}. Not thread-safe. */
  public static final class Builder {
    private final Set<String> allowedTrailers = new LinkedHashSet<>();
    private Redactor redactor = Redactor.create();

    private Builder() {
      allowedTrailers.add(CorrelationId.HEADER.name());
    }

    /**
     * Lets trailers with these names (case-insensitive) through on error statuses. Default: only
     * {@code x-correlation-id}. Allow only trailers that never carry request data.
     *
     * @throws IllegalArgumentException if a name is not a valid metadata key, or is {@code
     *     grpc-status-details-bin} (its messages carry free text)
     */
    public Builder allowTrailers(String... names) {
      for (String name : names) {
        String n = requireNonNull(name, "name").toLowerCase(Locale.ROOT);
        if (!TRAILER_NAME.matcher(n).matches()) {
          throw new IllegalArgumentException("not a metadata key name");
        }
        if (n.equals(STATUS_DETAILS.name())) {
          throw new IllegalArgumentException(
              "grpc-status-details-bin carries free text and cannot be allow-listed");
        }
        allowedTrailers.add(n);
      }
      return this;
    }

    /**
     * Sets the redactor that prints status details into the log (and its type registry, to unpack
     * them). Default: {@link Redactor#create()}, which prints details by type URL only.
     */
    public Builder redactor(Redactor redactor) {
      this.redactor = requireNonNull(redactor, "redactor");
      return this;
    }

    /** Returns the sanitizer. */
    public StatusSanitizerServerInterceptor build() {
      return new StatusSanitizerServerInterceptor(this);
    }
  }
}
