package io.relaygate.core.config;

import io.relaygate.spi.ByteUnits;

/** Byte sizes and rates with units: {@code 1500}, {@code 64KiB}, {@code 1MiB}, {@code 10MB}, {@code 2GiB}. */
public final class Sizes {

    private Sizes() {
    }

    /**
     * Parses a size. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal units (KB, MB, GB, TB) powers of
     * 1000; units are case-insensitive.
     *
     * @return the size in bytes, or -1 if the text is not a size
     */
    public static long parse(String text) {
        return ByteUnits.parse(text);
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
