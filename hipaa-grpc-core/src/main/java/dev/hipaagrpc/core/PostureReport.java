package dev.hipaagrpc.core;

import static java.util.Objects.requireNonNull;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A machine-readable record of a server's security posture, made from its running configuration by
 * {@link SecurityStack#posture()}: the layers in order, the start-up checks and which were opted
 * out of, and what every layer and {@linkplain SecurityStack.Builder#postureFrom other source} (TLS
 * credentials, key sources, certificate monitor) reports about itself, each item mapped to the
 * 164.312 standard it evidences.
 *
 * <p>{@link #toJson()} writes it as JSON with a stable schema ({@value #SCHEMA}, documented on the
 * site's evidence page): members in a fixed order, items in the stack's order, map keys sorted, so
 * that two reports of the same configuration differ only in {@code generatedAt}.
 *
 * <p>Immutable and thread-safe.
 */
public final class PostureReport {

  /** The schema identifier written as the report's first member. */
  public static final String SCHEMA = "hipaa-grpc-posture/1";

  private static final String VERSION = readVersion();

  private final Instant generatedAt;
  private final List<PostureItem> items;

  PostureReport(Instant generatedAt, List<PostureItem> items) {
    this.generatedAt = requireNonNull(generatedAt, "generatedAt").truncatedTo(ChronoUnit.SECONDS);
    this.items = List.copyOf(items);
  }

  /** When the report was made (whole seconds). */
  public Instant generatedAt() {
    return generatedAt;
  }

  /** The version of hipaa-grpc that made it ({@code unknown} outside a built jar). */
  public String libraryVersion() {
    return VERSION;
  }

  /** Every item, in the stack's order. */
  public List<PostureItem> items() {
    return items;
  }

  /** The worst status of any item: {@code UNSAFE} if one is, else {@code WARN} if one is. */
  public PostureItem.Status status() {
    PostureItem.Status worst = PostureItem.Status.OK;
    for (PostureItem i : items) {
      if (i.status().compareTo(worst) > 0) {
        worst = i.status();
      }
    }
    return worst;
  }

  /** The keys of the items with the given status, in order. */
  public List<String> keys(PostureItem.Status status) {
    List<String> keys = new ArrayList<>();
    for (PostureItem i : items) {
      if (i.status() == status) {
        keys.add(i.key());
      }
    }
    return List.copyOf(keys);
  }

  /**
   * The report as JSON: {@code schema}, {@code library}, {@code version}, {@code generatedAt},
   * {@code status}, {@code unsafe} and {@code warnings} (keys of those items), then {@code items},
   * each with {@code key}, {@code standard}, {@code title}, {@code status}, {@code value} and, when
   * present, {@code note}. Pretty-printed with two-space indentation.
   */
  public String toJson() {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.setIndent("  ");
      w.setHtmlSafe(false);
      w.beginObject();
      w.name("schema").value(SCHEMA);
      w.name("library").value("hipaa-grpc");
      w.name("version").value(VERSION);
      w.name("generatedAt").value(generatedAt.toString());
      w.name("status").value(status().name());
      writeKeys(w, "unsafe", keys(PostureItem.Status.UNSAFE));
      writeKeys(w, "warnings", keys(PostureItem.Status.WARN));
      w.name("items").beginArray();
      for (PostureItem i : items) {
        w.beginObject();
        w.name("key").value(i.key());
        w.name("standard").value(i.safeguard().citation());
        w.name("title").value(i.safeguard().title());
        w.name("status").value(i.status().name());
        w.name("value");
        writeValue(w, i.value());
        String note = i.note();
        if (note != null) {
          w.name("note").value(note);
        }
        w.endObject();
      }
      w.endArray();
      w.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not throw
    }
    return out.toString();
  }

  private static void writeKeys(JsonWriter w, String name, List<String> keys) throws IOException {
    w.name(name).beginArray();
    for (String k : keys) {
      w.value(k);
    }
    w.endArray();
  }

  private static void writeValue(JsonWriter w, Object v) throws IOException {
    if (v instanceof String s) {
      w.value(s);
    } else if (v instanceof Boolean b) {
      w.value(b);
    } else if (v instanceof Long l) {
      w.value(l);
    } else if (v instanceof Double d) {
      w.value(d);
    } else if (v instanceof List<?> list) {
      w.beginArray();
      for (Object o : list) {
        writeValue(w, requireNonNull(o));
      }
      w.endArray();
    } else if (v instanceof Map<?, ?> map) {
      w.beginObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        w.name((String) e.getKey());
        writeValue(w, requireNonNull(e.getValue()));
      }
      w.endObject();
    } else {
      throw new IllegalStateException("not a normalized posture value: " + v.getClass());
    }
  }

  private static String readVersion() {
    try (InputStream in = PostureReport.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public String toString() {
    return "PostureReport[" + status() + ", " + items.size() + " items, " + generatedAt + "]";
  }
}
