package dev.hipaagrpc.audit;

import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.UnknownFieldSet;
import dev.hipaagrpc.audit.proto.Actor;
import dev.hipaagrpc.audit.proto.AuditAction;
import dev.hipaagrpc.audit.proto.AuditEvent;
import dev.hipaagrpc.audit.proto.AuditOptionsProto;
import dev.hipaagrpc.audit.proto.Authorization;
import dev.hipaagrpc.audit.proto.Outcome;
import dev.hipaagrpc.audit.proto.Resource;
import dev.hipaagrpc.audit.proto.Traffic;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.CorrelationId;
import dev.hipaagrpc.core.Principal;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;

/** Turns what a call learned into an {@link AuditEvent}; holds the identifier key. */
final class EventFactory {

  static final String SCHEMA = "hipaagrpc.audit/1";
  static final Metadata.Key<String> TRACEPARENT =
      Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static final int MAX_HEADER_VALUE = 128;

  /** Header names that carry credentials or session state and may never be recorded. */
  static final Set<String> FORBIDDEN_HEADERS =
      Set.of(
          "authorization",
          "proxy-authorization",
          "cookie",
          "set-cookie",
          "x-api-key",
          "x-auth-token",
          "x-amz-security-token",
          "dpop");

  private final Mac macPrototype;
  private final Map<String, Metadata.Key<String>> headerKeys;
  private final boolean hashAllSubjects;
  private final Clock clock;

  EventFactory(
      byte[] identifierKey,
      Map<String, Metadata.Key<String>> headerKeys,
      boolean hashAllSubjects,
      Clock clock) {
    this.macPrototype = Crypto.hmac(identifierKey);
    this.headerKeys = Map.copyOf(headerKeys);
    this.hashAllSubjects = hashAllSubjects;
    this.clock = clock;
  }

  /** Checks {@code name} (see {@link #checkHeaderName}) and adds its ASCII key to {@code keys}. */
  static void addHeaderKey(Map<String, Metadata.Key<String>> keys, String name) {
    String n = checkHeaderName(name);
    keys.put(n, Metadata.Key.of(n, Metadata.ASCII_STRING_MARSHALLER));
  }

  /** Validates an allow-listed header name at configuration time. */
  static String checkHeaderName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
      throw new IllegalArgumentException("binary headers cannot be audited: " + n);
    }
    if (FORBIDDEN_HEADERS.contains(n)
        || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("session")) {
      throw new IllegalArgumentException(
          "header " + n + " carries credentials and may never be recorded in an audit event");
    }
    if (n.isEmpty() || n.startsWith(":")) {
      throw new IllegalArgumentException("not a request header name: " + n);
    }
    return n;
  }

  /** Returns {@code "hmac:" + hex(HMAC-SHA256(identifierKey, domain || 0 || value))}. */
  String keyedHash(String domain, String value) {
    Mac mac;
    try {
      mac = (Mac) macPrototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("HmacSHA256 provider cannot clone", e);
    }
    mac.update(domain.getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) 0);
    return "hmac:" + Crypto.HEX.formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
  }

  String patientHash(String patientId) {
    return keyedHash("patient", patientId);
  }

  AuditEvent.Builder newEvent(AuditEvent.Type type) {
    return AuditEvent.newBuilder()
        .setSchema(SCHEMA)
        .setEventId(CorrelationId.generate())
        .setType(type)
        .setTime(formatMillis(clock.millis()));
  }

  /** The date part of the last day formatted, reused: most events of a day share it. */
  private static final class Day {
    final long day;
    final String prefix;

    Day(long day, String prefix) {
      this.day = day;
      this.prefix = prefix;
    }
  }

  private static volatile Day lastDay = new Day(Long.MIN_VALUE, "");

  /** UTC ISO 8601 with milliseconds, as {@link #TIME} prints it, without its per-call cost. */
  static String formatMillis(long epochMillis) {
    long day = Math.floorDiv(epochMillis, 86_400_000L);
    Day d = lastDay;
    if (d.day != day) {
      java.time.LocalDate date = java.time.LocalDate.ofEpochDay(day);
      if (date.getYear() < 0 || date.getYear() > 9999) {
        return TIME.format(java.time.Instant.ofEpochMilli(epochMillis));
      }
      d =
          new Day(
              day, TIME.format(java.time.Instant.ofEpochMilli(day * 86_400_000L)).substring(0, 11));
      lastDay = d;
    }
    int ms = (int) Math.floorMod(epochMillis, 86_400_000L);
    char[] c = new char[13];
    int h = ms / 3_600_000;
    int m = ms / 60_000 % 60;
    int sec = ms / 1000 % 60;
    int milli = ms % 1000;
    c[0] = (char) ('0' + h / 10);
    c[1] = (char) ('0' + h % 10);
    c[2] = ':';
    c[3] = (char) ('0' + m / 10);
    c[4] = (char) ('0' + m % 10);
    c[5] = ':';
    c[6] = (char) ('0' + sec / 10);
    c[7] = (char) ('0' + sec % 10);
    c[8] = '.';
    c[9] = (char) ('0' + milli / 100);
    c[10] = (char) ('0' + milli / 10 % 10);
    c[11] = (char) ('0' + milli % 10);
    c[12] = 'Z';
    return d.prefix.concat(new String(c));
  }

  /** Whether the caller may be a patient, so that its identifiers must be keyed-hashed. */
  boolean identifiesPatient(@Nullable Principal p) {
    if (p == null) {
      return true;
    }
    if (hashAllSubjects) {
      return true;
    }
    String fhirUser = p.fhirUser();
    return p.patient() != null
        || (fhirUser != null
            && (fhirUser.startsWith("Patient/")
                || fhirUser.startsWith("RelatedPerson/")
                || fhirUser.contains("/Patient/")
                || fhirUser.contains("/RelatedPerson/")));
  }

  void actor(AuditEvent.Builder b, @Nullable Principal p, @Nullable String authFailure) {
    Actor.Builder a = Actor.newBuilder();
    if (p != null) {
      if (identifiesPatient(p)) {
        a.setSubject(keyedHash("subject", p.subject())).setSubjectHashed(true);
      } else {
        a.setSubject(p.subject());
      }
      a.setKind(p.kind().name())
          .addAllRoles(p.roles())
          .setAuthMethod(p.authMethod().name())
          .setCredentialFingerprint(p.credentialFingerprint());
      String via = p.viaService();
      if (via != null) {
        a.setViaService(via);
      }
      String issuer = p.issuer();
      if (issuer != null) {
        a.setIssuer(issuer);
      }
      String tenant = p.tenant();
      if (tenant != null) {
        a.setTenant(tenant);
      }
    }
    if (authFailure != null) {
      a.setAuthenticationFailure(authFailure);
    }
    b.setActor(a);
  }

  /** The peer IP: raw for workforce and workloads, keyed-hashed when it may be a patient's. */
  String address(@Nullable SocketAddress remote, @Nullable Principal p) {
    if (remote == null) {
      return "";
    }
    String text;
    if (remote instanceof InetSocketAddress inet) {
      text = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
    } else {
      // In-process and Unix-domain addresses name no person.
      return remote.getClass().getSimpleName();
    }
    return identifiesPatient(p) ? keyedHash("address", text) : text;
  }

  void facts(AuditEvent.Builder b, CallFacts facts) {
    String resourceType = facts.resourceType();
    String patientId = facts.patientId();
    if (resourceType != null || patientId != null) {
      Resource.Builder r = Resource.newBuilder();
      if (resourceType != null) {
        r.setType(resourceType);
      }
      if (patientId != null) {
        r.setPatientHmac(patientHash(patientId));
      }
      b.setResource(r);
    }
    AccessDecision d = facts.decision();
    String purpose = facts.purposeOfUse();
    if (d != null || purpose != null) {
      Authorization.Builder z = Authorization.newBuilder();
      if (d != null) {
        z.setDecision(d.outcome().name()).setRuleId(d.ruleId()).setPolicyVersion(d.policyVersion());
        String reason = d.breakGlassReason();
        if (reason != null) {
          z.setBreakGlassReason(reason);
        }
      }
      if (purpose != null) {
        z.setPurposeOfUse(purpose);
      }
      b.setAuthorization(z);
    }
    b.setMaskedFields(facts.maskedFields());
  }

  static void outcome(AuditEvent.Builder b, Status status) {
    // The code only: descriptions may carry anything, including PHI.
    Status.Code code = status.getCode();
    b.setOutcome(Outcome.newBuilder().setStatus(code.name()).setStatusCode(code.value()));
  }

  static Traffic traffic(long reqMsgs, long reqBytes, long respMsgs, long respBytes) {
    return Traffic.newBuilder()
        .setRequestMessages(reqMsgs)
        .setRequestBytes(reqBytes)
        .setResponseMessages(respMsgs)
        .setResponseBytes(respBytes)
        .build();
  }

  /** The W3C trace id of the request, or "". */
  static String traceId(Metadata headers) {
    String traceparent = headers.get(TRACEPARENT);
    if (traceparent == null) {
      return "";
    }
    String traceId = traceIdOf(traceparent);
    return traceId == null ? "" : traceId;
  }

  /** The allow-listed headers (printable ASCII, truncated); empty when none are configured. */
  Map<String, String> recordedHeaders(Metadata headers) {
    if (headerKeys.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new java.util.TreeMap<>();
    for (Map.Entry<String, Metadata.Key<String>> e : headerKeys.entrySet()) {
      String v = headers.get(e.getValue());
      if (v != null) {
        out.put(e.getKey(), sanitize(v));
      }
    }
    return out;
  }

  static String sanitize(String v) {
    int n = Math.min(v.length(), MAX_HEADER_VALUE);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = v.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  /** Returns the trace id of a well-formed W3C traceparent (version 00), else null. */
  static @Nullable String traceIdOf(String tp) {
    // 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
    if (tp.length() != 55
        || !tp.startsWith("00-")
        || tp.charAt(35) != '-'
        || tp.charAt(52) != '-') {
      return null;
    }
    String traceId = tp.substring(3, 35);
    if (!isLowerHex(traceId)
        || !isLowerHex(tp.substring(36, 52))
        || !isLowerHex(tp.substring(53))
        || traceId.equals("0".repeat(32))) {
      return null;
    }
    return traceId;
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static final List<String> CREATE =
      List.of("create", "add", "insert", "register", "post", "new", "submit", "upload");
  private static final List<String> SEARCH = List.of("search", "list", "find", "query", "browse");
  private static final List<String> READ =
      List.of(
          "get",
          "read",
          "fetch",
          "lookup",
          "watch",
          "describe",
          "download",
          "export",
          "stream",
          "retrieve",
          "view",
          "check");
  private static final List<String> UPDATE =
      List.of(
          "update", "patch", "put", "set", "modify", "replace", "upsert", "edit", "change", "amend",
          "merge");
  private static final List<String> DELETE =
      List.of("delete", "remove", "purge", "erase", "destroy", "revoke", "cancel");

  private static final java.util.concurrent.ConcurrentMap<String, String> ACTIONS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The action of a method: its {@code (hipaagrpc.audit.action)} option when the stub carries its
   * proto descriptor, else the naming rule. Computed once per method name.
   */
  static String actionFor(MethodDescriptor<?, ?> method) {
    String cached = ACTIONS.get(method.getFullMethodName());
    if (cached != null) {
      return cached;
    }
    String action = optionAction(method);
    if (action == null) {
      action = namingRule(method);
    }
    if (ACTIONS.size() < 10_000) { // bounded: method names come from the server's own services
      ACTIONS.put(method.getFullMethodName(), action);
    }
    return action;
  }

  private static @Nullable String optionAction(MethodDescriptor<?, ?> method) {
    if (!(method.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier supplier)) {
      return null;
    }
    DescriptorProtos.MethodOptions options = supplier.getMethodDescriptor().getOptions();
    int number;
    if (options.hasExtension(AuditOptionsProto.action)) {
      number = options.getExtension(AuditOptionsProto.action).getNumber();
    } else {
      // Options parsed before our extension was registered keep it as an unknown field.
      UnknownFieldSet unknown = options.getUnknownFields();
      if (!unknown.hasField(AuditOptionsProto.ACTION_FIELD_NUMBER)) {
        return null;
      }
      UnknownFieldSet.Field f = unknown.getField(AuditOptionsProto.ACTION_FIELD_NUMBER);
      if (f.getVarintList().isEmpty()) {
        return null;
      }
      number = f.getVarintList().get(f.getVarintList().size() - 1).intValue();
    }
    AuditAction a = AuditAction.forNumber(number);
    if (a == null || a == AuditAction.AUDIT_ACTION_UNSPECIFIED) {
      return null;
    }
    return a.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The naming rule: the first word of the method name (up to the next capital letter or
   * underscore) picks create, read, search, update or delete; anything else is execute.
   */
  static String namingRule(MethodDescriptor<?, ?> method) {
    String bare = method.getBareMethodName();
    if (bare == null || bare.isEmpty()) {
      return "execute";
    }
    int end = 1;
    while (end < bare.length()
        && Character.isLowerCase(bare.charAt(end))
        && bare.charAt(end) != '_') {
      end++;
    }
    String word = bare.substring(0, end).toLowerCase(Locale.ROOT);
    if (CREATE.contains(word)) {
      return "create";
    }
    if (SEARCH.contains(word)) {
      return "search";
    }
    if (READ.contains(word)) {
      return "read";
    }
    if (UPDATE.contains(word)) {
      return "update";
    }
    if (DELETE.contains(word)) {
      return "delete";
    }
    return "execute";
  }
}
