package dev.hipaagrpc.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.CallFacts;
import dev.hipaagrpc.core.Principal;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** Refusals summarized by class in at most one line per minute, with no value from a call. */
class RefusalSummaryTest {
  private static final long SECOND = 1_000_000_000L;

  private static CallFacts authFailure(String code) {
    CallFacts f = CallFacts.create("c-1");
    f.authenticationFailure(code);
    return f;
  }

  private static CallFacts denied(String rule) {
    CallFacts f = CallFacts.create("c-2");
    f.principal(
        Principal.newBuilder(
                "patient-4711", Principal.Kind.USER, Principal.AuthMethod.BEARER_TOKEN, "fp")
            .build());
    f.decision(AccessDecision.deny(rule, "v1"));
    return f;
  }

  @Test
  void flush_writesWhatWasCountedNow_andStartsANewPeriod() {
    RefusalSummary s = new RefusalSummary();
    long t = 1_000 * SECOND;
    assertThat(s.flush(t)).isNull();
    assertThat(s.count(Status.Code.INVALID_ARGUMENT, null, t + SECOND)).isNull();
    assertThat(s.countClass(Status.Code.INTERNAL, "INTERNAL too_many_messages", t + SECOND))
        .isNull();
    assertThat(s.flush(t + 11 * SECOND))
        .isEqualTo(
            "hipaa-grpc refused 2 calls in the last 11 s: INTERNAL too_many_messages=1,"
                + " INVALID_ARGUMENT -=1");
    assertThat(s.flush(t + 12 * SECOND)).isNull();
  }

  @Test
  void firstRefusalIsReportedAtOnce_thenAtMostOneLinePerMinute() {
    RefusalSummary s = new RefusalSummary();
    long t = 1_000 * SECOND;

    assertThat(s.count(Status.Code.UNAUTHENTICATED, authFailure("expired_token"), t))
        .isEqualTo("hipaa-grpc refused 1 calls in the last 60 s: UNAUTHENTICATED expired_token=1");
    for (int i = 0; i < 10; i++) {
      assertThat(s.count(Status.Code.UNAUTHENTICATED, authFailure("expired_token"), t + i * SECOND))
          .isNull();
    }
    assertThat(s.count(Status.Code.PERMISSION_DENIED, denied("default-deny"), t + 20 * SECOND))
        .isNull();
    assertThat(s.count(Status.Code.RESOURCE_EXHAUSTED, null, t + 61 * SECOND))
        .isEqualTo(
            "hipaa-grpc refused 12 calls in the last 61 s: PERMISSION_DENIED default-deny=1,"
                + " RESOURCE_EXHAUSTED -=1, UNAUTHENTICATED expired_token=10");
  }

  @Test
  void classesAreBoundedAndCarryNoValue() {
    RefusalSummary s = new RefusalSummary();
    long t = 5_000 * SECOND;
    s.count(Status.Code.UNAUTHENTICATED, authFailure("x"), t); // opens a period
    for (int i = 0; i < 200; i++) {
      s.count(Status.Code.PERMISSION_DENIED, denied("rule-" + i), t + SECOND);
    }
    String line = s.count(Status.Code.PERMISSION_DENIED, denied("rule-0"), t + 70 * SECOND);
    assertThat(line).contains("PERMISSION_DENIED other=").doesNotContain("4711");
    assertThat(line.split(", ")).hasSizeLessThanOrEqualTo(RefusalSummary.MAX_CLASSES + 1);
  }
}
