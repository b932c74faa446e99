package dev.hipaagrpc.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.hipaagrpc.audit.proto.AuditEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hand-written {@link EventJson} against the schema itself: every field of {@link AuditEvent}
 * is filled from its descriptor (nested messages, repeated and map fields included), so a field
 * added to event.proto that the writer does not know fails here instead of silently missing from
 * the signed log.
 */
class EventJsonTest {

  @Test
  void toJson_everyFieldOfTheSchemaSet_roundTripsToAnEqualEvent() throws Exception {
    AuditEvent event = (AuditEvent) filled(AuditEvent.newBuilder(), 1);
    assertEveryFieldSet(event);

    AuditEvent.Builder parsed = AuditEvent.newBuilder();
    JsonFormat.parser().merge(EventJson.toJson(event), parsed);

    assertThat(parsed.build()).isEqualTo(event);
  }

  @Test
  void toJson_everyFieldSet_sameJsonAsProtobufPrinter() throws Exception {
    AuditEvent event = (AuditEvent) filled(AuditEvent.newBuilder(), 7);

    String ours = EventJson.toJson(event);
    String library =
        JsonFormat.printer().omittingInsignificantWhitespace().sortingMapKeys().print(event);

    // Same fields and values; the library orders fields by number and prints int64 as strings.
    AuditEvent.Builder a = AuditEvent.newBuilder();
    AuditEvent.Builder b = AuditEvent.newBuilder();
    JsonFormat.parser().merge(ours, a);
    JsonFormat.parser().merge(library, b);
    assertThat(a.build()).isEqualTo(b.build()).isEqualTo(event);
  }

  /**
   * The byte encoder against lines the earlier StringBuilder encoder wrote (kept as a resource):
   * every escape, every UTF-8 length, lone surrogates, U+2028/2029. Existing logs were HMAC'd over
   * those bytes, so the same event must still give the same bytes.
   */
  @Test
  void toJson_eventsTheEarlierEncoderWrote_sameBytes() throws Exception {
    List<String> golden;
    try (java.io.InputStream in =
        EventJsonTest.class.getResourceAsStream("event-json-golden.txt")) {
      golden =
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
    }
    String s =
        "\u0000\u0001\u001f\u007f\u0080\u07ff\u0800\ud7ff\ue000\uffff\ud800x\udc00"
            + "\ud83d\ude00\u2028\u2029\"\\\n\r\t\b\f/";
    AuditEvent escapes =
        AuditEvent.newBuilder().setSchema(s).putHeaders(s, s).putHeaders("a", "b").build();

    assertThat(EventJson.toJson((AuditEvent) filled(AuditEvent.newBuilder(), 7)))
        .isEqualTo(golden.get(0));
    assertThat(EventJson.toJson(escapes)).isEqualTo(golden.get(1));
  }

  @Test
  void toJson_emptyEvent_emptyObject() {
    assertThat(EventJson.toJson(AuditEvent.getDefaultInstance())).isEqualTo("{}");
  }

  /** Sets every field of {@code b} to a value other than its default, recursively. */
  private static Message filled(Message.Builder b, int seed) {
    Descriptor d = b.getDescriptorForType();
    for (FieldDescriptor f : d.getFields()) {
      if (f.isMapField()) {
        Descriptor entry = f.getMessageType();
        for (int i = 0; i < 2; i++) {
          Message.Builder e = b.newBuilderForField(f);
          e.setField(entry.findFieldByName("key"), value(entry.findFieldByName("key"), seed + i));
          FieldDescriptor v = entry.findFieldByName("value");
          e.setField(
              v,
              v.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                  ? filled(e.newBuilderForField(v), seed + i)
                  : value(v, seed + i));
          b.addRepeatedField(f, e.build());
        }
      } else if (f.isRepeated()) {
        for (int i = 0; i < 2; i++) {
          b.addRepeatedField(f, single(b, f, seed + i));
        }
      } else {
        b.setField(f, single(b, f, seed));
      }
    }
    return b.build();
  }

  private static Object single(Message.Builder b, FieldDescriptor f, int seed) {
    return f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
        ? filled(b.newBuilderForField(f), seed)
        : value(f, seed);
  }

  /** A non-default scalar; strings carry characters the writer must escape. */
  private static Object value(FieldDescriptor f, int seed) {
    return switch (f.getJavaType()) {
      case STRING -> f.getName() + "-" + seed + " \"q\" \\ \n\t é 😀 \u2028";
      case INT -> seed * 1000 + f.getNumber();
      case LONG -> (1L << 40) + seed * 1000L + f.getNumber();
      case BOOLEAN -> true;
      case FLOAT -> 1.5f + seed;
      case DOUBLE -> 2.5 + seed;
      case BYTE_STRING -> com.google.protobuf.ByteString.copyFromUtf8(f.getName() + seed);
      case ENUM -> lastValue(f.getEnumType().getValues());
      case MESSAGE -> throw new IllegalArgumentException("messages are filled recursively");
    };
  }

  private static EnumValueDescriptor lastValue(List<EnumValueDescriptor> values) {
    return values.get(values.size() - 1);
  }

  /** Guards the filler itself: no field of the schema, at any depth, was left at its default. */
  private static void assertEveryFieldSet(Message m) {
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated()) {
        assertThat(m.getRepeatedFieldCount(f)).as(f.getFullName()).isPositive();
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isMapField()) {
          assertEveryFieldSet((Message) m.getRepeatedField(f, 0));
        }
      } else {
        assertThat(m.hasField(f)).as(f.getFullName()).isTrue();
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          assertEveryFieldSet((Message) m.getField(f));
        }
      }
    }
  }
}
