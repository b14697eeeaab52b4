package io.relaygate.core.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes and rates with units: {@code 1500}, {@code 64KiB}, {@code 1MiB}, {@code 10MB}, {@code 2GiB}. */
public final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d{1,18})\\s*([kmgt]i?b|b)?");

    private Sizes() {
    }

    /**
     * Parses a size. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal units (KB, MB, GB, TB) powers of
     * 1000; units are case-insensitive.
     *
     * @return the size in bytes, or -1 if the text is not a size
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return -1;
        }
        long number = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        long multiplier = switch (unit) {
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

    /** {@return the size with the largest binary unit that divides it exactly} */
    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        while (unit < units.length - 1 && bytes != 0 && bytes % 1024 == 0) {
            bytes /= 1024;
            unit++;
        }
        return bytes + units[unit];
    }
}
