package dev.hipaagrpc.masking;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.Message;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.core.internal.Checks;
import dev.hipaagrpc.masking.proto.Sensitivity;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Field-level encryption at rest, driven by the same {@code .proto} options as masking: every field
 * marked {@code encrypt_at_rest: true} in its {@code (hipaagrpc.masking.sensitivity)}, at any depth
 * of a message, is encrypted by {@link #encrypt} before the service stores the message and
 * decrypted by {@link #decrypt} for a principal holding one of the field's {@code reveal_to} roles
 * or the decrypt role (default {@value Tokenizer#DEFAULT_DETOKENIZE_ROLE}).
 *
 * <p>Each value is encrypted with {@link EnvelopeEncryption} (a fresh AES-256-GCM data key wrapped
 * by the KMS) with the field's full protobuf name ({@code acme.Patient.ssn}) as associated data, so
 * a ciphertext copied into another field does not decrypt. A string becomes {@code fe1.} +
 * base64url(ciphertext); bytes become the ciphertext. Only string and bytes fields (singular or
 * repeated) can be marked. Every value is reported as {@link
 * KeyOperationListener.Operation#ENCRYPT_FIELD} / {@link
 * KeyOperationListener.Operation#DECRYPT_FIELD}.
 *
 * <p>Thread-safe.
 */
public final class FieldEncryptor {

  private static final String PREFIX = "fe1.";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  /** A marked field and the roles that may read it. */
  private record Marked(FieldDescriptor field, Set<String> revealTo, ByteString fullName) {
    byte[] associatedData() {
      return fullName.toByteArray();
    }
  }

  private final EnvelopeEncryption envelope;
  private final String decryptRole;
  private final KeyOperationListener listener;
  // Per type: the marked fields, and the message-typed fields to recurse into.
  private final Map<Descriptor, List<Marked>> marked = new ConcurrentHashMap<>();

  private FieldEncryptor(Builder b) {
    this.envelope = b.envelope;
    this.decryptRole = b.decryptRole;
    this.listener = b.listener;
  }

  /** Returns an encryptor over {@code envelope} with the default decrypt role. */
  public static FieldEncryptor create(EnvelopeEncryption envelope) {
    return newBuilder(envelope).build();
  }

  /** Starts an encryptor over {@code envelope}. */
  public static Builder newBuilder(EnvelopeEncryption envelope) {
    return new Builder(requireNonNull(envelope, "envelope"));
  }

  /**
   * Returns {@code message} with every marked field encrypted.
   *
   * @throws IllegalStateException if a marked field is not a string or bytes field, or the KMS
   *     fails (the message names the field, never a value)
   */
  @SuppressWarnings("unchecked")
  public <M extends Message> M encrypt(M message) {
    requireNonNull(message, "message");
    return (M) transform(message, m -> true, this::seal);
  }

  /**
   * Returns {@code message} with every marked field the principal may read decrypted; the others
   * stay encrypted.
   *
   * @throws IllegalArgumentException if a value is not a ciphertext of this field (altered, moved
   *     from another field, or under a key the KMS does not have); the message names the field
   */
  @SuppressWarnings("unchecked")
  public <M extends Message> M decrypt(M message, @Nullable Principal principal) {
    requireNonNull(message, "message");
    Set<String> roles = principal == null ? Set.of() : principal.roles();
    return (M)
        transform(
            message,
            m -> roles.contains(decryptRole) || m.revealTo().stream().anyMatch(roles::contains),
            this::open);
  }

  @Override
  public String toString() {
    return "FieldEncryptor{decryptRole=" + decryptRole + "}";
  }

  private interface ValueOp {
    Object apply(Object value, Marked field);
  }

  private Message transform(
      Message message, java.util.function.Predicate<Marked> applies, ValueOp op) {
    Message.Builder b = null;
    for (Marked m : marked.computeIfAbsent(message.getDescriptorForType(), this::compile)) {
      FieldDescriptor f = m.field();
      if (!applies.test(m)) {
        continue;
      }
      if (f.isRepeated()) {
        int n = message.getRepeatedFieldCount(f);
        if (n == 0) {
          continue;
        }
        b = b == null ? message.toBuilder() : b;
        for (int i = 0; i < n; i++) {
          b.setRepeatedField(f, i, op.apply(message.getRepeatedField(f, i), m));
        }
      } else if (message.hasField(f)) {
        b = b == null ? message.toBuilder() : b;
        b.setField(f, op.apply(message.getField(f), m));
      }
    }
    // Recurse into every message-typed value that is set (maps: their message values).
    for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      FieldDescriptor valueField = f.isMapField() ? f.getMessageType().findFieldByNumber(2) : f;
      if (valueField.getJavaType() != JavaType.MESSAGE) {
        continue;
      }
      if (f.isRepeated()) {
        List<?> list = (List<?>) e.getValue();
        List<Object> out = new ArrayList<>(list.size());
        boolean changed = false;
        for (Object element : list) {
          Message v = (Message) element;
          Message nv;
          if (f.isMapField()) {
            Message inner = (Message) v.getField(valueField);
            Message t = transform(inner, applies, op);
            nv = same(t, inner) ? v : v.toBuilder().setField(valueField, t).build();
          } else {
            nv = transform(v, applies, op);
          }
          changed |= !same(nv, v);
          out.add(nv);
        }
        if (changed) {
          b = b == null ? message.toBuilder() : b;
          b.setField(f, out);
        }
      } else {
        Message v = (Message) e.getValue();
        Message nv = transform(v, applies, op);
        if (!same(nv, v)) {
          b = b == null ? message.toBuilder() : b;
          b.setField(f, nv);
        }
      }
    }
    return b == null ? message : b.build();
  }

  @SuppressWarnings("ReferenceEquality") // identity: "did the pass change this value?"
  private static boolean same(Object a, Object b) {
    return a == b;
  }

  private List<Marked> compile(Descriptor type) {
    List<Marked> out = new ArrayList<>();
    for (FieldDescriptor f : type.getFields()) {
      Sensitivity s = PlanCompiler.resolve(f, Set.of()).sensitivity();
      if (s == null || !s.getEncryptAtRest()) {
        continue;
      }
      if (f.isMapField()
          || (f.getJavaType() != JavaType.STRING && f.getJavaType() != JavaType.BYTE_STRING)) {
        throw new IllegalStateException(
            f.getFullName() + " is marked encrypt_at_rest but is not a string or bytes field");
      }
      out.add(
          new Marked(f, Set.copyOf(s.getRevealToList()), ByteString.copyFromUtf8(f.getFullName())));
    }
    return List.copyOf(out);
  }

  private Object seal(Object value, Marked m) {
    byte[] plain =
        value instanceof ByteString bytes
            ? bytes.toByteArray()
            : ((String) value).getBytes(StandardCharsets.UTF_8);
    boolean ok = false;
    try {
      byte[] ct = envelope.encrypt(plain, m.associatedData());
      ok = true;
      return value instanceof ByteString
          ? ByteString.copyFrom(ct)
          : PREFIX + B64.encodeToString(ct);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          m.field().getFullName() + " could not be encrypted: " + e.getClass().getName());
    } finally {
      listener.onKeyOperation(KeyOperationListener.Operation.ENCRYPT_FIELD, ok);
    }
  }

  private Object open(Object value, Marked m) {
    boolean ok = false;
    try {
      byte[] ct;
      if (value instanceof ByteString bytes) {
        ct = bytes.toByteArray();
      } else {
        String s = (String) value;
        if (!s.startsWith(PREFIX)) {
          throw new IllegalArgumentException(m.field().getFullName() + " is not encrypted");
        }
        try {
          ct = B64D.decode(s.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(m.field().getFullName() + " is not encrypted");
        }
      }
      byte[] plain;
      try {
        plain = envelope.decrypt(ct, m.associatedData());
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException(
            m.field().getFullName() + " could not be decrypted (altered, or another field's)");
      }
      ok = true;
      return value instanceof ByteString
          ? ByteString.copyFrom(plain)
          : new String(plain, StandardCharsets.UTF_8);
    } finally {
      listener.onKeyOperation(KeyOperationListener.Operation.DECRYPT_FIELD, ok);
    }
  }

  /** Builds a {@link FieldEncryptor}. Not thread-safe. */
  public static final class Builder {
    private final EnvelopeEncryption envelope;
    private String decryptRole = Tokenizer.DEFAULT_DETOKENIZE_ROLE;
    private KeyOperationListener listener = KeyOperationListener.noop();

    private Builder(EnvelopeEncryption envelope) {
      this.envelope = envelope;
    }

    /**
     * Sets the role that may decrypt every marked field. Default: {@value
     * Tokenizer#DEFAULT_DETOKENIZE_ROLE}.
     */
    public Builder decryptRole(String role) {
      this.decryptRole = Checks.requireNonBlank(role, "role");
      return this;
    }

    /** Sets who is told about every field encrypted or decrypted. Default: none. */
    public Builder keyOperationListener(KeyOperationListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /** Returns the encryptor. */
    public FieldEncryptor build() {
      return new FieldEncryptor(this);
    }
  }
}
