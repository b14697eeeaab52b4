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
}
