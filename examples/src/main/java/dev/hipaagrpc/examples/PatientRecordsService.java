package dev.hipaagrpc.examples;

import dev.hipaagrpc.examples.records.Address;
import dev.hipaagrpc.examples.records.ExportRecordRequest;
import dev.hipaagrpc.examples.records.GetPatientRequest;
import dev.hipaagrpc.examples.records.Observation;
import dev.hipaagrpc.examples.records.Patient;
import dev.hipaagrpc.examples.records.PatientRecordsGrpc;
import dev.hipaagrpc.examples.records.RecordEntry;
import dev.hipaagrpc.examples.records.SearchObservationsRequest;
import dev.hipaagrpc.examples.records.SearchObservationsResponse;
import dev.hipaagrpc.examples.records.UpdateContactRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The business logic, with no security code at all: every safeguard is in the interceptors and the
 * {@code .proto} options. The records are synthetic.
 */
final class PatientRecordsService extends PatientRecordsGrpc.PatientRecordsImplBase {

  static final String TENANT = "st-marys";
  static final String OTHER_TENANT = "mercy-general";

  private final Map<String, Patient> patients = new ConcurrentHashMap<>();
  private final Map<String, List<Observation>> observations = new ConcurrentHashMap<>();

  PatientRecordsService() {
    put(
        Patient.newBuilder()
            .setTenantId(TENANT)
            .setPatientId("MRN-100234")
            .setFullName("Maria Delgado")
            .setBirthDate("1958-03-14")
            .setSsn("123-45-6789")
            .setPhone("+1-617-555-0134")
            .setEmail("maria.delgado@example.org")
            .setAddress(
                Address.newBuilder()
                    .setStreet("12 Elm Street")
                    .setCity("Springfield")
                    .setState("MA")
                    .setZip("01105"))
            .setHealthPlanId("HP-99887766")
            .addDiagnoses("E11.9 Type 2 diabetes mellitus")
            .setClinicalNotes("Stable on metformin; review A1c in 3 months.")
            .build());
    put(
        Patient.newBuilder()
            .setTenantId(TENANT)
            .setPatientId("MRN-100777")
            .setFullName("James Okafor")
            .setBirthDate("1990-11-02")
            .setSsn("987-65-4321")
            .setPhone("+1-617-555-0188")
            .setEmail("j.okafor@example.org")
            .setAddress(
                Address.newBuilder()
                    .setStreet("400 Harbor Road")
                    .setCity("Springfield")
                    .setState("MA")
                    .setZip("01103"))
            .setHealthPlanId("HP-11223344")
            .addDiagnoses("J45.909 Asthma")
            .setClinicalNotes("Inhaler technique reviewed.")
            .build());
    observations.put(
        "MRN-100234",
        List.of(
            observation("obs-1", "4548-4", "Hemoglobin A1c", "7.1 %", "2026-10-02"),
            observation("obs-2", "8480-6", "Systolic blood pressure", "132 mmHg", "2026-10-02")));
    observations.put(
        "MRN-100777",
        List.of(
            observation("obs-3", "19935-6", "Peak expiratory flow", "410 L/min", "2026-09-15")));
  }

  /** Adds or replaces a record (the full-stack benchmark adds a bigger one). */
  void put(Patient p) {
    patients.put(key(p.getTenantId(), p.getPatientId()), p);
  }

  private static String key(String tenant, String patientId) {
    return tenant + "/" + patientId;
  }

  private static Observation observation(
      String id, String code, String display, String value, String date) {
    return Observation.newBuilder()
        .setObservationId(id)
        .setCode(code)
        .setDisplay(display)
        .setValue(value)
        .setEffectiveDate(date)
        .build();
  }

  @Override
  public void getPatient(GetPatientRequest request, StreamObserver<Patient> responses) {
    Patient patient = patients.get(key(request.getTenantId(), request.getPatientId()));
    if (patient == null) {
      // The id is PHI: the sanitizer strips this description anyway; we never put it in.
      responses.onError(Status.NOT_FOUND.withDescription("no such patient").asRuntimeException());
      return;
    }
    responses.onNext(patient);
    responses.onCompleted();
  }

  @Override
  public void searchObservations(
      SearchObservationsRequest request, StreamObserver<SearchObservationsResponse> responses) {
    if (!patients.containsKey(key(request.getTenantId(), request.getPatientId()))) {
      responses.onError(Status.NOT_FOUND.asRuntimeException());
      return;
    }
    SearchObservationsResponse.Builder out = SearchObservationsResponse.newBuilder();
    for (Observation o : observations.getOrDefault(request.getPatientId(), List.of())) {
      if (request.getCode().isEmpty() || request.getCode().equals(o.getCode())) {
        out.addObservations(o);
      }
    }
    responses.onNext(out.build());
    responses.onCompleted();
  }

  @Override
  public void updateContact(UpdateContactRequest request, StreamObserver<Patient> responses) {
    String key = key(request.getTenantId(), request.getPatientId());
    Patient updated =
        patients.computeIfPresent(
            key,
            (k, p) -> {
              Patient.Builder b = p.toBuilder();
              if (!request.getPhone().isEmpty()) {
                b.setPhone(request.getPhone());
              }
              if (!request.getEmail().isEmpty()) {
                b.setEmail(request.getEmail());
              }
              return b.build();
            });
    if (updated == null) {
      responses.onError(Status.NOT_FOUND.asRuntimeException());
      return;
    }
    responses.onNext(updated);
    responses.onCompleted();
  }

  @Override
  public void exportRecord(ExportRecordRequest request, StreamObserver<RecordEntry> responses) {
    Patient patient = patients.get(key(request.getTenantId(), request.getPatientId()));
    if (patient == null) {
      responses.onError(Status.NOT_FOUND.asRuntimeException());
      return;
    }
    responses.onNext(RecordEntry.newBuilder().setPatient(patient).build());
    for (Observation o : observations.getOrDefault(request.getPatientId(), List.of())) {
      responses.onNext(RecordEntry.newBuilder().setObservation(o).build());
    }
    responses.onCompleted();
  }
}
