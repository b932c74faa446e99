package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.hospital.records.OtherRecords.Encounter;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import dev.hipaagrpc.masking.testproto.Address;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.Contact;
import dev.hipaagrpc.masking.testproto.FamilyNode;
import dev.hipaagrpc.masking.testproto.GetPatientRequest;
import dev.hipaagrpc.masking.testproto.ListPatientsRequest;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.PatientServiceGrpc;
import dev.hipaagrpc.testing.PhiCanaries;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seeded, bounded property test: for random messages whose sensitive fields hold canaries, no
 * canary reaches any output a caller or a log reader can see (safe print, loggable, responses
 * masked for roles that are not in any reveal list, statuses, trailers, server logs).
 */
class RandomizedLeakTest {

  private static final long SEED = 0x5EED_2026L;
  private static final int DIRECT_ROUNDS = 300;
  private static final int SERVER_ROUNDS = 40;
  private static final Logger log = LoggerFactory.getLogger(RandomizedLeakTest.class);

  private final Redactor redactor =
      Redactor.newBuilder()
          .tokenizer(Fixtures.tokenizer())
          .typeRegistry(
              TypeRegistry.newBuilder()
                  .add(ClinicalNote.getDescriptor())
                  .add(Patient.getDescriptor())
                  .build())
          .build();

  private final List<Message> prototypes =
      List.of(
          Patient.getDefaultInstance(),
          FamilyNode.getDefaultInstance(),
          ClinicalNote.getDefaultInstance(),
          Encounter.getDefaultInstance(),
          Contact.getDefaultInstance(),
          Address.getDefaultInstance());

  @Test
  void randomMessages_directPaths_noCanaryInAnyOutput() {
    Random random = new Random(SEED);
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr()) {
      String lastLog = "";
      for (int i = 0; i < DIRECT_ROUNDS; i++) {
        PhiCanaries canaries = PhiCanaries.create(SEED + i);
        Message prototype = prototypes.get(random.nextInt(prototypes.size()));
        Message m = thin(withAttachment(canaries.fill(prototype), canaries, random), random);

        String printed = redactor.print(m);
        log.info("round {}: {}", i, redactor.loggable(m));
        Message masked =
            redactor.redact(m, random.nextBoolean() ? null : Fixtures.principal("billing"));
        String wire = new String(masked.toByteArray(), StandardCharsets.ISO_8859_1);

        canaries.assertAbsent(printed, "safe print of round " + i);
        assertNoResponseLeak(canaries, m, masked.toString(), "masked response of round " + i);
        assertNoResponseLeak(canaries, m, wire, "masked wire bytes of round " + i);
        assertThat(canaries.values()).isNotEmpty();
        // Each round's canaries are unique to it, so its own slice of the log is what to scan.
        String logs = err.drain();
        canaries.assertAbsent(logs, "log of round " + i);
        lastLog = logs;
      }
      assertThat(lastLog).contains("round " + (DIRECT_ROUNDS - 1));
    }
  }

  @Test
  void randomPatients_throughServer_noCanaryInResponsesStatusesTrailersOrLogs() throws Exception {
    Random random = new Random(SEED ^ 0xABCDL);
    AtomicReference<Patient> next = new AtomicReference<>();
    PatientServiceGrpc.PatientServiceImplBase service =
        new PatientServiceGrpc.PatientServiceImplBase() {
          @Override
          public void getPatient(GetPatientRequest request, StreamObserver<Patient> out) {
            Patient p = next.get();
            log.info("serving {}", redactor.loggable(p));
            if (request.getId().equals("fail")) {
              out.onError(
                  Status.NOT_FOUND
                      .withDescription("not found: " + p.getName() + " " + p.getSsn())
                      .asRuntimeException());
              return;
            }
            if (request.getId().equals("throw")) {
              throw new IllegalStateException("broken for " + p.getMrn());
            }
            out.onNext(p);
            out.onCompleted();
          }

          @Override
          public void listPatients(ListPatientsRequest request, StreamObserver<Patient> out) {
            log.info("serving {}", redactor.loggable(next.get()));
            out.onNext(next.get());
            out.onNext(next.get().toBuilder().setId("second").build());
            out.onCompleted();
          }
        };
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server =
            new TestServer(
                service,
                MaskingServerInterceptor.create(redactor),
                StatusSanitizerServerInterceptor.newBuilder().redactor(redactor).build())) {
      for (int i = 0; i < SERVER_ROUNDS; i++) {
        StringBuilder seen = new StringBuilder();
        PhiCanaries canaries = PhiCanaries.create(SEED * 31 + i);
        Patient p =
            (Patient)
                thin(
                    withAttachment(canaries.fill(Patient.getDefaultInstance()), canaries, random),
                    random);
        next.set(p);
        String id = new String[] {"ok", "fail", "throw", "stream"}[random.nextInt(4)];
        var stub =
            PatientServiceGrpc.newBlockingStub(server.channel)
                .withInterceptors(
                    MetadataUtils.newAttachHeadersInterceptor(TestServer.roles("billing")));
        try {
          if (id.equals("stream")) {
            stub.listPatients(ListPatientsRequest.getDefaultInstance())
                .forEachRemaining(
                    r ->
                        seen.append(r)
                            .append(new String(r.toByteArray(), StandardCharsets.ISO_8859_1)));
          } else {
            Patient r = stub.getPatient(GetPatientRequest.newBuilder().setId(id).build());
            seen.append(r).append(new String(r.toByteArray(), StandardCharsets.ISO_8859_1));
          }
        } catch (StatusRuntimeException e) {
          seen.append(e.getStatus()).append(e.getTrailers());
        }
        assertNoResponseLeak(canaries, p, seen.toString(), "client-visible output of round " + i);
        String logs = err.drain();
        canaries.assertAbsent(logs, "server log of round " + i);
        assertThat(logs).contains("serving Patient");
      }
    }
  }

  /**
   * Responses carry fields marked only {@code debug_redact} by design (it governs debug output, not
   * the wire), so their canaries are allowed there and nowhere else.
   */
  private static void assertNoResponseLeak(
      PhiCanaries canaries, Message source, String text, String where) {
    Set<String> allowed = new HashSet<>();
    debugRedactValues(source, allowed);
    List<String> leaked = new ArrayList<>(canaries.findIn(text));
    leaked.removeAll(allowed);
    assertThat(leaked).as(where).isEmpty();
  }

  private static void debugRedactValues(Message m, Set<String> out) {
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
      for (Object v : values) {
        if (f.getOptions().getDebugRedact()) {
          out.add(String.valueOf(v));
        }
        if (v instanceof Message nested) {
          debugRedactValues(nested, out);
        }
      }
    }
  }

  /** Sometimes packs a canary-filled message into the Patient's Any: known or unknown type. */
  private static Message withAttachment(Message m, PhiCanaries canaries, Random random) {
    if (!(m instanceof Patient p) || random.nextInt(3) == 0) {
      return m;
    }
    Message content =
        random.nextBoolean()
            ? canaries.fill(ClinicalNote.getDefaultInstance())
            : canaries.fill(Encounter.getDefaultInstance());
    return p.toBuilder().setAttachment(Any.pack(content)).build();
  }

  /** Clears a random subset of fields so many shapes are tried. */
  private static Message thin(Message m, Random random) {
    Message.Builder b = m.toBuilder();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (random.nextInt(4) == 0) {
        b.clearField(f);
      }
    }
    return b.build();
  }
}
