package dev.hipaagrpc.masking;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.hipaagrpc.core.Principal;
import dev.hipaagrpc.masking.testproto.Address;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.Contact;
import dev.hipaagrpc.masking.testproto.Patient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;

/** Shared test data. */
final class Fixtures {

  static final Instant ADMITTED = Instant.parse("2024-03-05T10:11:12Z");

  private Fixtures() {}

  static Patient patient() {
    return Patient.newBuilder()
        .setId("p-1")
        .setName("Alice Smith")
        .setSsn("123-45-6789")
        .setBirthDate("1961-04-12")
        .setAdmittedAt(
            Timestamp.newBuilder().setSeconds(ADMITTED.getEpochSecond()).setNanos(5).build())
        .setAge(93)
        .setAddress(
            Address.newBuilder().setStreet("12 Main St").setZip("02139-4307").setState("MA"))
        .addContacts(Contact.newBuilder().setPhone("555-0101").setEmail("alice@example.org"))
        .putLabels("note", "diabetic")
        .putContactByKind("home", Contact.newBuilder().setPhone("555-0199").build())
        .setMemberId("HP99887766")
        .setAttachment(
            Any.pack(ClinicalNote.newBuilder().setText("chest pain").setAuthor("dr-who").build()))
        .setPhoto(ByteString.copyFromUtf8("JPEGDATA"))
        .setMrn("MRN0012345")
        .setEmailHash("alice@example.org")
        .addAliases("Ally")
        .addAliases("Al")
        .setNote("debug only")
        .setWeightKg(70.5)
        .setDeceased(true)
        .setApiSecret("s3cr3t")
        .setZip("03600")
        .setAgeText("95")
        .setCustomMarker("visible?")
        .setKeep2("abcdef")
        .setResearchId("MRN0012345")
        .build();
  }

  /** One set of keysets for the whole test run (generating keys costs time). */
  static final TokenKeysets KEYSETS = TokenKeysets.generate();

  static Tokenizer tokenizer() {
    return Tokenizer.create(KEYSETS);
  }

  static SecretKeySpec key(int fill) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, (byte) (fill + 7));
    return new SecretKeySpec(k, "AES");
  }

  static Principal principal(String... roles) {
    return Principal.newBuilder(
            "user-1", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-1")
        .addRoles(List.of(roles))
        .build();
  }

  static Principal patientPrincipal(String patientId, String... roles) {
    return Principal.newBuilder(
            "patient-user", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp-2")
        .addRoles(List.of(roles))
        .patient(patientId)
        .build();
  }

  /** Everything of a failed call a client can see: the description and every trailer. */
  static String clientVisible(io.grpc.StatusRuntimeException e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getStatus().getDescription()));
    io.grpc.Metadata trailers = e.getTrailers();
    if (trailers != null) {
      for (String key : trailers.keys()) {
        if (key.endsWith(io.grpc.Metadata.BINARY_HEADER_SUFFIX)) {
          for (byte[] v :
              trailers.getAll(
                  io.grpc.Metadata.Key.of(key, io.grpc.Metadata.BINARY_BYTE_MARSHALLER))) {
            sb.append(new String(v, StandardCharsets.ISO_8859_1));
          }
        } else {
          sb.append(
              trailers.get(io.grpc.Metadata.Key.of(key, io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
        }
      }
    }
    return sb.toString();
  }

  /** Captures System.err, where slf4j-simple writes (it looks the stream up on every write). */
  static final class CapturedErr implements AutoCloseable {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    CapturedErr() {
      System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    }

    String text() {
      System.err.flush();
      return buffer.toString(StandardCharsets.UTF_8);
    }

    /** Returns what was captured since the last drain, and forgets it. */
    String drain() {
      System.err.flush();
      String text = buffer.toString(StandardCharsets.UTF_8);
      buffer.reset();
      return text;
    }

    @Override
    public void close() {
      System.setErr(original);
    }
  }
}
