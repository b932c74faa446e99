package dev.hipaagrpc.audit;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The one time format of the audit log: UTC, ISO 8601 with milliseconds. Formatted by hand on the
 * per-event path (the formatter's per-call cost showed in the audit benchmark); a test compares the
 * two on instants across every field.
 */
final class Timestamps {

  static final DateTimeFormatter FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static final long MILLIS_PER_DAY = 86_400_000L;

  /** The date part of the last day formatted, reused: most events of a day share it. */
  private record Day(long day, String prefix) {}

  private static volatile Day lastDay = new Day(Long.MIN_VALUE, "");

  private Timestamps() {}

  /** {@code epochMillis} as {@link #FORMAT} prints it. */
  static String format(long epochMillis) {
    long day = Math.floorDiv(epochMillis, MILLIS_PER_DAY);
    Day d = lastDay;
    if (d.day() != day) {
      LocalDate date = LocalDate.ofEpochDay(day);
      if (date.getYear() < 0 || date.getYear() > 9999) {
        return FORMAT.format(Instant.ofEpochMilli(epochMillis));
      }
      d = new Day(day, FORMAT.format(Instant.ofEpochMilli(day * MILLIS_PER_DAY)).substring(0, 11));
      lastDay = d;
    }
    int ms = (int) Math.floorMod(epochMillis, MILLIS_PER_DAY);
    char[] c = new char[13];
    int h = ms / 3_600_000;
    int m = ms / 60_000 % 60;
    int sec = ms / 1000 % 60;
    int milli = ms % 1000;
    c[0] = (char) ('0' + h / 10);
    c[1] = (char) ('0' + h % 10);
    c[2] = ':';
    c[3] = (char) ('0' + m / 10);
    c[4] = (char) ('0' + m % 10);
    c[5] = ':';
    c[6] = (char) ('0' + sec / 10);
    c[7] = (char) ('0' + sec % 10);
    c[8] = '.';
    c[9] = (char) ('0' + milli / 100);
    c[10] = (char) ('0' + milli / 10 % 10);
    c[11] = (char) ('0' + milli % 10);
    c[12] = 'Z';
    return d.prefix().concat(new String(c));
  }
}
