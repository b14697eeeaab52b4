package io.relaygate.spi;

/** The result of verifying a client's password. */
public enum AuthResult {
    /** The user exists, is enabled, and the password is right. */
    OK,
    /** Unknown user, disabled user or wrong password: deliberately indistinguishable to the client. */
    REJECTED,
    /** The account store could not answer; the client gets a general failure, not an authentication failure. */
    UNAVAILABLE
}
