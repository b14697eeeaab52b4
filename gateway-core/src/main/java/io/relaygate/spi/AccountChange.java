package io.relaygate.spi;

/**
 * One change seen in the account store, by this process or another (the command line while a gateway runs).
 *
 * @param kind    what happened
 * @param name    the user
 * @param account the account after the change; {@code null} when deleted
 */
public record AccountChange(Kind kind, String name, Account account) {

    /** What happened to the account. */
    public enum Kind {
        CREATED, UPDATED, DELETED
    }
}
