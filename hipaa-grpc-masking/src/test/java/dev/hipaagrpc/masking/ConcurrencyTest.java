package dev.hipaagrpc.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.hipaagrpc.masking.testproto.ClinicalNote;
import dev.hipaagrpc.masking.testproto.FamilyNode;
import dev.hipaagrpc.masking.testproto.Patient;
import dev.hipaagrpc.masking.testproto.Plain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Plans compiled concurrently by many callers are the same and mask the same. */
class ConcurrencyTest {

  @Test
  void redact_concurrentFirstUse_consistentResults() throws Exception {
    Redactor redactor = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();
    List<Message> inputs =
        List.of(
            Fixtures.patient().toBuilder().clearMrn().clearAttachment().build(),
            FamilyNode.newBuilder().setPatient(Patient.newBuilder().setName("N")).build(),
            ClinicalNote.newBuilder().setText("t").build(),
            Plain.newBuilder().setCode("c").build());
    List<Message> expected = new ArrayList<>();
    Redactor reference = Redactor.newBuilder().tokenizer(Fixtures.tokenizer()).build();
    for (Message m : inputs) {
      expected.add(reference.redact(m, null));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<Message>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  List<Message> out = new ArrayList<>();
                  for (int i = 0; i < 200; i++) {
                    Message m = inputs.get((i + offset) % inputs.size());
                    out.add(redactor.redact(m, null));
                  }
                  return out;
                }));
      }
      start.countDown();
      for (int t = 0; t < futures.size(); t++) {
        List<Message> out = futures.get(t).get(30, TimeUnit.SECONDS);
        for (int i = 0; i < out.size(); i++) {
          assertThat(out.get(i)).isEqualTo(expected.get((i + t) % inputs.size()));
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
