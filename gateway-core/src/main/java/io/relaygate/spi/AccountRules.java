package io.relaygate.spi;

import java.util.regex.Pattern;

/**
 * The rules for user names and passwords that every way into the account store shares (command line, console,
 * stores). Thread-safe.
 */
public final class AccountRules {

    /** The longest password, in UTF-8 bytes. */
    public static final int MAX_PASSWORD_BYTES = 1024;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** The highest rate: a petabyte per second, far beyond any link, and safe from overflow in arithmetic. */
    public static final long MAX_RATE = 1L << 50;

    private AccountRules() {
    }

    /**
     * Checks a user name: 1 to 64 of {@code A-Z a-z 0-9 . _ -}, case-sensitive.
     *
     * @throws IllegalArgumentException naming the rule, without echoing the name (it may hold anything)
     */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("user name: expected 1 to 64 of the characters A-Z a-z 0-9 . _ -");
        }
        return name;
    }

    /**
     * Checks a password: 1 to {@value #MAX_PASSWORD_BYTES} bytes, UTF-8 by convention, used as given (no SASLprep).
     *
     * @throws IllegalArgumentException naming the rule
     */
    public static byte[] checkPassword(byte[] password) {
        if (password == null || password.length == 0 || password.length > MAX_PASSWORD_BYTES) {
            throw new IllegalArgumentException("password: expected 1 to " + MAX_PASSWORD_BYTES + " bytes");
        }
        return password;
    }

    /**
     * Parses a rate in bytes per second over both directions: {@code 1500}, {@code 64KiB}, {@code 1MiB/s},
     * {@code 10MB}; binary units are powers of 1024, decimal ones of 1000, case-insensitive; {@code 0} is unlimited.
     *
     * @throws IllegalArgumentException naming the expected form
     */
    public static long parseRate(String text) {
        String amount = text == null ? "" : text.trim();
        if (amount.toLowerCase(java.util.Locale.ROOT).endsWith("/s")) {
            amount = amount.substring(0, amount.length() - 2);
        }
        long bytes = ByteUnits.parse(amount);
        if (bytes < 0) {
            throw new IllegalArgumentException("rate: expected bytes per second such as 1500, 64KiB, 1MiB/s or 10MB;"
                    + " 0 for unlimited");
        }
        return checkRate(bytes);
    }

    /**
     * Checks a rate given as a number: 0 (unlimited) to {@link #MAX_RATE} bytes per second.
     *
     * @throws IllegalArgumentException naming the range
     */
    public static long checkRate(long bytesPerSecond) {
        if (bytesPerSecond < 0 || bytesPerSecond > MAX_RATE) {
            throw new IllegalArgumentException("rate: expected 0 (unlimited) to " + MAX_RATE + " bytes per second");
        }
        return bytesPerSecond;
    }

    /** The most public ports one user may be allowed: more than any pool a remote would configure. */
    public static final int MAX_EXPOSE_PORTS = 65_535;

    /**
     * Checks how many public ports a user may hold: 0 (none) to {@value #MAX_EXPOSE_PORTS}.
     *
     * @throws IllegalArgumentException naming the range
     */
    public static int checkExposePorts(int ports) {
        if (ports < 0 || ports > MAX_EXPOSE_PORTS) {
            throw new IllegalArgumentException("expose-ports: expected 0 (none) to " + MAX_EXPOSE_PORTS);
        }
        return ports;
    }

    /** The highest cap on a user's concurrent tunnels: beyond any gateway's own connection cap. */
    public static final int MAX_CONNECTIONS = 10_000_000;

    /**
     * Checks a cap on a user's concurrent tunnels: 0 (no cap) to {@value #MAX_CONNECTIONS}.
     *
     * @throws IllegalArgumentException naming the range
     */
    public static int checkMaxConnections(int tunnels) {
        if (tunnels < 0 || tunnels > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("max-connections: expected 0 (no cap) to " + MAX_CONNECTIONS);
        }
        return tunnels;
    }

    private static final java.time.Instant LAST_EXPIRY = java.time.Instant.parse("+10000-01-01T00:00:00Z");

    /**
     * Parses an expiry: {@code never} (null), a UTC date such as {@code 2027-01-31} (the account works through that
     * day and expires at the midnight after it), or an instant such as {@code 2027-01-31T12:00:00Z} or
     * {@code 2027-01-31T12:00:00+01:00}. Years 1970 to 9999.
     *
     * @return the instant the account expires at, or null for never
     * @throws IllegalArgumentException naming the expected forms
     */
    public static java.time.Instant parseExpiry(String text) {
        String value = text == null ? "" : text.trim();
        if (value.equalsIgnoreCase("never")) {
            return null;
        }
        java.time.Instant instant;
        try {
            instant = value.length() == 10
                    ? java.time.LocalDate.parse(value).plusDays(1).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()
                    : java.time.OffsetDateTime.parse(value).toInstant();
        } catch (java.time.DateTimeException e) {
            instant = null;
        }
        if (instant == null || instant.isBefore(java.time.Instant.EPOCH) || instant.isAfter(LAST_EXPIRY)) {
            throw new IllegalArgumentException("expires: expected a UTC date such as 2027-01-31 (valid through that"
                    + " day), an instant such as 2027-01-31T12:00:00Z, or never");
        }
        return instant;
    }
}
