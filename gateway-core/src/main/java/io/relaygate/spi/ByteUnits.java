package io.relaygate.spi;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts with units, for sizes and rates alike: {@code 1500}, {@code 64KiB}, {@code 1MiB}, {@code 10MB}.
 * Binary units (KiB, MiB, GiB, TiB, PiB, EiB) are powers of 1024, decimal ones (KB, MB, GB, TB, PB, EB) of 1000;
 * case-insensitive. Thread-safe.
 */
public final class ByteUnits {

    private static final Pattern AMOUNT = Pattern.compile("(\\d{1,18})\\s*([kmgtpe]i?b|b)?");

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
            case "tib" -> 1L << 40;
            case "pb" -> 1000L * 1000 * 1000 * 1000 * 1000;
            case "pib" -> 1L << 50;
            case "eb" -> 1000L * 1000 * 1000 * 1000 * 1000 * 1000;
            default -> 1L << 60;
        };
        return number > Long.MAX_VALUE / multiplier ? -1 : number * multiplier;
    }

    private static final String[] BINARY = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    /** {@return {@code bytes} in the largest binary unit that holds it exactly: {@code 50GiB}, {@code 1500B}} */
    public static String format(long bytes) {
        int unit = 0;
        long amount = bytes;
        while (amount != 0 && amount % 1024 == 0 && unit < BINARY.length - 1) {
            amount /= 1024;
            unit++;
        }
        return amount + BINARY[unit];
    }
}
