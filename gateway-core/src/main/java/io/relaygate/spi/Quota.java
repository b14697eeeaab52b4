package io.relaygate.spi;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.Locale;
import java.util.Objects;

/**
 * A traffic quota: at most {@code bytes} over both directions in each calendar {@link Period} in UTC, or
 * {@link #NONE}. Immutable.
 *
 * @param bytes  bytes allowed per period, above 0; 0 only for {@link #NONE}
 * @param period the calendar period; null only for {@link #NONE}
 */
public record Quota(long bytes, Period period) {

    /** No quota. */
    public static final Quota NONE = new Quota(0, null);

    /** The largest quota: an exabyte, safe from overflow when added to counters. */
    public static final long MAX_BYTES = 1L << 60;

    /** A calendar period in UTC: a day from midnight, a week from Monday, a month from its first day. */
    public enum Period {
        DAY, WEEK, MONTH;

        /** {@return the first day of the period that holds {@code day}} */
        public LocalDate start(LocalDate day) {
            return switch (this) {
                case DAY -> day;
                case WEEK -> day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
                case MONTH -> day.withDayOfMonth(1);
            };
        }

        /** {@return the first day of the period after the one that holds {@code day}} */
        public LocalDate next(LocalDate day) {
            return switch (this) {
                case DAY -> day.plusDays(1);
                case WEEK -> start(day).plusWeeks(1);
                case MONTH -> start(day).plusMonths(1);
            };
        }

        /** {@return the name used in text: {@code day}, {@code week}, {@code month}} */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Quota {
        if (period == null ? bytes != 0 : bytes <= 0 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("quota: expected 1 byte to " + MAX_BYTES + " bytes per day, week or"
                    + " month, or none");
        }
    }

    /** {@return whether this is a quota at all} */
    public boolean limited() {
        return period != null;
    }

    /** {@return the first UTC day of the period that holds {@code now}; for {@link #NONE}, the epoch} */
    public LocalDate periodStart(Instant now) {
        return period == null ? LocalDate.EPOCH : period.start(LocalDate.ofInstant(now, ZoneOffset.UTC));
    }

    /** {@return when the period that holds {@code now} ends (the next one starts); for {@link #NONE}, never (null)} */
    public Instant periodEnd(Instant now) {
        return period == null ? null
                : period.next(LocalDate.ofInstant(now, ZoneOffset.UTC)).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /**
     * Parses {@code 50GiB/month}, {@code 500MB/day}, {@code 1TiB/week} (the amount as {@link ByteUnits} reads it)
     * or {@code none}.
     *
     * @throws IllegalArgumentException naming the expected form
     */
    public static Quota parse(String text) {
        String value = Objects.requireNonNullElse(text, "").trim();
        if (value.equalsIgnoreCase("none")) {
            return NONE;
        }
        int slash = value.lastIndexOf('/');
        long bytes = slash <= 0 ? -1 : ByteUnits.parse(value.substring(0, slash));
        Period period = slash <= 0 ? null : switch (value.substring(slash + 1).trim().toLowerCase(Locale.ROOT)) {
            case "day" -> Period.DAY;
            case "week" -> Period.WEEK;
            case "month" -> Period.MONTH;
            default -> null;
        };
        if (bytes <= 0 || bytes > MAX_BYTES || period == null) {
            throw new IllegalArgumentException("quota: expected an amount per day, week or month such as 50GiB/month,"
                    + " 500MB/day or 1TiB/week (1 byte to 1EiB), or none");
        }
        return new Quota(bytes, period);
    }

    /** {@return the form {@link #parse} reads: {@code 50GiB/month}, or {@code none}} */
    @Override
    public String toString() {
        return period == null ? "none" : ByteUnits.format(bytes) + "/" + period.word();
    }
}
