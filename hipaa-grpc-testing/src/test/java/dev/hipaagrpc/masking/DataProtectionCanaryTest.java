package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.ConfigurationV0;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import dev.hipaagrpc.masking.testproto.ContactServiceGrpc;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.RegisterPatientRequest;
import dev.hipaagrpc.masking.testproto.RegisterPatientResponse;
import dev.hipaagrpc.masking.testproto.RegistrationServiceGrpc;
import dev.hipaagrpc.masking.testproto.StoredNote;
import dev.hipaagrpc.masking.testproto.UpdateContactRequest;
import dev.hipaagrpc.testing.PhiCanaries;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;

/**
 * The PHI canary kit over the data-protection paths of issue 15: Tink tokens, field encryption at
 * rest, write-rule refusals and validator violations. No canary may appear in anything a caller or
 * a log reader sees.
 */
class DataProtectionCanaryTest {

  private static KmsKeyWrapper fakeKms() throws GeneralSecurityException {
    TinkRegistration.ensure();
    Aead kek =
        KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM)
            .getPrimitive(ConfigurationV0.get(), Aead.class);
    return new KmsKeyWrapper() {
      @Override
      public byte[] wrap(byte[] dataKey, byte[] ad) throws GeneralSecurityException {
        return kek.encrypt(dataKey, ad);
      }

      @Override
      public byte[] unwrap(byte[] wrapped, byte[] ad) throws GeneralSecurityException {
        return kek.decrypt(wrapped, ad);
      }
    };
  }

  @Test
  void tinkTokens_noCanaryInMaskedOrPrintedPatient() {
    PhiCanaries canaries = PhiCanaries.create(15);
    // `note` is debug_redact only: hidden from logs, sent on the wire by design.
    Patient patient = canaries.fill(Patient.getDefaultInstance()).toBuilder().clearNote().build();
    Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();

    Patient masked = redactor.redact(patient, Fixtures.principal("billing"));

    assertThat(masked.getResearchId()).startsWith("td1.");
    canaries.assertAbsent(
        new String(masked.toByteArray(), StandardCharsets.ISO_8859_1), "masked response");
    canaries.assertAbsent(redactor.print(patient), "safe print");
  }

  @Test
  void fieldEncryption_noCanaryAtRestOrInErrors() throws Exception {
    PhiCanaries canaries = PhiCanaries.create(16);
    StoredNote note = canaries.fill(StoredNote.getDefaultInstance());
    FieldEncryptor fields = FieldEncryptor.create(EnvelopeEncryption.create(fakeKms()));

    StoredNote stored = fields.encrypt(note);
    StoredNote moved = stored.toBuilder().setClinicalNote(stored.getSsn()).build();

    assertThat(canaries.values()).isNotEmpty();
    // Everything the note holds is either public or marked encrypt_at_rest.
    canaries.assertAbsent(
        new String(stored.getSsn().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)
            + stored.getClinicalNote()
            + new String(stored.getScan().toByteArray(), StandardCharsets.ISO_8859_1),
        "encrypted fields");
    assertThatThrownBy(() -> fields.decrypt(moved, Fixtures.principal("detokenize")))
        .isInstanceOfSatisfying(
            IllegalArgumentException.class,
            e -> canaries.assertAbsent(e.getMessage(), "decryption error"));
    assertThat(fields.decrypt(stored, Fixtures.principal("detokenize"))).isEqualTo(note);
  }

  @Test
  void writeRuleRefusal_noCanaryInStatusTrailersOrLog() throws Exception {
    PhiCanaries canaries = PhiCanaries.create(17);
    UpdateContactRequest request = canaries.fill(UpdateContactRequest.getDefaultInstance());
    Redactor redactor = Redactor.create();
    ContactServiceGrpc.ContactServiceImplBase service =
        new ContactServiceGrpc.ContactServiceImplBase() {
          @Override
          public void updateContact(UpdateContactRequest r, StreamObserver<Patient> out) {
            out.onNext(Patient.getDefaultInstance());
            out.onCompleted();
          }
        };
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server =
            new TestServer(
                service,
                MaskingServerInterceptor.create(redactor),
                StatusSanitizerServerInterceptor.create())) {
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () ->
                  ContactServiceGrpc.newBlockingStub(server.channel)
                      .withInterceptors(
                          MetadataUtils.newAttachHeadersInterceptor(TestServer.roles("billing")))
                      .updateContact(request));

      assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
      canaries.assertAbsent(Fixtures.clientVisible(e), "status and trailers");
      canaries.assertAbsent(err.text(), "server log");
      canaries.assertAbsent(String.valueOf(server.facts.get(0).decision()), "decision");
    }
  }

  @Test
  void validatorViolations_noCanaryInStatusTrailersOrLog() throws Exception {
    PhiCanaries canaries = PhiCanaries.create(18);
    RegisterPatientRequest request =
        canaries.fill(RegisterPatientRequest.getDefaultInstance()).toBuilder()
            .putTags("k", "x")
            .build();
    RegistrationServiceGrpc.RegistrationServiceImplBase service =
        new RegistrationServiceGrpc.RegistrationServiceImplBase() {
          @Override
          public void register(
              RegisterPatientRequest r, StreamObserver<RegisterPatientResponse> out) {
            out.onNext(RegisterPatientResponse.getDefaultInstance());
            out.onCompleted();
          }
        };
    try (Fixtures.CapturedErr err = new Fixtures.CapturedErr();
        TestServer server =
            new TestServer(
                service, ProtovalidateLayer.create(), StatusSanitizerServerInterceptor.create())) {
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () -> RegistrationServiceGrpc.newBlockingStub(server.channel).register(request));

      assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
      assertThat(io.grpc.protobuf.StatusProto.fromThrowable(e)).isNotNull();
      canaries.assertAbsent(Fixtures.clientVisible(e), "status, trailers and BadRequest details");
      canaries.assertAbsent(err.text(), "server log");
    }
  }
}
