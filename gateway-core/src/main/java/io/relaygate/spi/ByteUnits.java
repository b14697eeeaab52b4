package io.relaygate.spi;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts with units, for sizes and rates alike: {@code 1500}, {@code 64KiB}, {@code 1MiB}, {@code 10MB}.
 * Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (KB, MB, GB, TB) powers of 1000;
 * case-insensitive. Thread-safe.
 */
public final class ByteUnits {

    private static final Pattern AMOUNT = Pattern.compile("(\\d{1,18})\\s*([kmgt]i?b|b)?");

    private ByteUnits() {
    }

    /** {@return the number of bytes {@code text} says, or -1 if it is not such an amount or overflows} */
    public static long parse(String text) {
        Matcher m = AMOUNT.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return -1;
        }
        long number = Long.parseLong(m.group(1));
        long multiplier = switch (m.group(2) == null ? "b" : m.group(2)) {
            case "b" -> 1L;
            case "kb" -> 1000L;
            case "kib" -> 1L << 10;
            case "mb" -> 1000L * 1000;
            case "mib" -> 1L << 20;
            case "gb" -> 1000L * 1000 * 1000;
            case "gib" -> 1L << 30;
            case "tb" -> 1000L * 1000 * 1000 * 1000;
            default -> 1L << 40;
        };
        return number > Long.MAX_VALUE / multiplier ? -1 : number * multiplier;
    }
}
