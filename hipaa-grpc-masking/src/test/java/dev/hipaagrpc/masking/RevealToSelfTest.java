package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hipaagrpc.masking.testproto.BadPatientId;
import dev.hipaagrpc.masking.testproto.GetPatientRequest;
import dev.hipaagrpc.masking.testproto.PatientRecord;
import dev.hipaagrpc.masking.testproto.RecordServiceGrpc;
import dev.hipaagrpc.masking.testproto.SelfContact;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

class RevealToSelfTest {

  private final Redactor redactor = Redactor.create();

  static PatientRecord record() {
    return PatientRecord.newBuilder()
        .setPatientId("p-1")
        .setName("Alice Smith")
        .setSsn("123-45-6789")
        .setContact(SelfContact.newBuilder().setPhone("555-0101"))
        .addRelatives(
            PatientRecord.newBuilder()
                .setPatientId("p-2")
                .setName("Bob Smith")
                .setContact(SelfContact.newBuilder().setPhone("555-0202")))
        .build();
  }

  @Test
  void ownRecord_selfFieldsRevealed_othersStillMasked() {
    PatientRecord seen = redactor.redact(record(), Fixtures.patientPrincipal("p-1", "patient"));

    assertThat(seen.getName()).isEqualTo("Alice Smith");
    assertThat(seen.getContact().getPhone())
        .as("nested, inherits the record")
        .isEqualTo("555-0101");
    assertThat(seen.getSsn()).as("not reveal_to_self").isEqualTo("****6789");
    assertThat(seen.getRelatives(0).getName())
        .as("another patient's record")
        .isEqualTo("[REDACTED]");
    assertThat(seen.getRelatives(0).getContact().getPhone()).isEqualTo("[REDACTED]");
  }

  @Test
  void otherPatientOrNoPatientContext_masked() {
    PatientRecord asBob = redactor.redact(record(), Fixtures.patientPrincipal("p-2", "patient"));
    PatientRecord noContext = redactor.redact(record(), Fixtures.principal("patient"));

    assertThat(asBob.getName()).isEqualTo("[REDACTED]");
    assertThat(asBob.getContact().getPhone()).isEqualTo("[REDACTED]");
    assertThat(asBob.getRelatives(0).getName()).isEqualTo("Bob Smith");
    assertThat(noContext.getName()).isEqualTo("[REDACTED]");
    assertThat(redactor.redact(record(), null).getName()).isEqualTo("[REDACTED]");
    assertThat(redactor.print(record())).doesNotContain("Alice").doesNotContain("555-0101");
  }

  @Test
  void throughServer_patientSeesOwnName() throws Exception {
    RecordServiceGrpc.RecordServiceImplBase service =
        new RecordServiceGrpc.RecordServiceImplBase() {
          @Override
          public void getRecord(GetPatientRequest request, StreamObserver<PatientRecord> out) {
            out.onNext(record());
            out.onCompleted();
          }
        };
    try (TestServer server = new TestServer(service, MaskingServerInterceptor.create(redactor))) {
      PatientRecord own = get(server, TestServer.patient("p-1", "patient"));
      PatientRecord other = get(server, TestServer.patient("p-9", "patient"));

      assertThat(own.getName()).isEqualTo("Alice Smith");
      assertThat(own.getSsn()).isEqualTo("****6789");
      assertThat(other.getName()).isEqualTo("[REDACTED]");
      assertThat(server.facts.get(0).maskedFields()).isEqualTo(3); // ssn, relative's name+phone
    }
  }

  private static PatientRecord get(TestServer server, Metadata headers) {
    return RecordServiceGrpc.newBlockingStub(server.channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .getRecord(GetPatientRequest.getDefaultInstance());
  }

  @Test
  void patientIdOnNonString_refused() {
    assertThatThrownBy(() -> redactor.precompile(BadPatientId.getDescriptor()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("hipaagrpc.masking.test.BadPatientId.id");
  }
}
