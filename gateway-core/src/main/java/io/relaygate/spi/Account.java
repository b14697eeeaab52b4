package io.relaygate.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A user account. Immutable.
 *
 * @param name       the user name (see {@link AccountRules#checkName})
 * @param credential the SCRAM credential material
 * @param enabled    whether the user may open tunnels
 * @param created    when the account was created
 * @param updated    when its credential, limits or enabled flag last changed
 * @param bytesUp    bytes relayed from the user's clients to destinations, as last persisted
 * @param bytesDown  bytes relayed from destinations to the user's clients, as last persisted
 * @param limits     its rates, caps, expiry and quota
 */
public record Account(String name, ScramCredential credential, boolean enabled, Instant created, Instant updated,
                      long bytesUp, long bytesDown, AccountLimits limits) {

    public Account {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(credential, "credential");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(updated, "updated");
        Objects.requireNonNull(limits, "limits");
    }

    /** {@return bytes per second over both directions of all the user's tunnels; 0 for unlimited} */
    public long rate() {
        return limits.rate();
    }

    /** {@return public ports the user may hold at once for the reverse tunnel; 0: may expose nothing} */
    public int exposePorts() {
        return limits.exposePorts();
    }

    /** {@return this account with other limits} */
    public Account withLimits(AccountLimits newLimits) {
        return new Account(name, credential, enabled, created, updated, bytesUp, bytesDown, newLimits);
    }

    /** {@return a new account with zero counters, created and updated now} */
    public static Account create(String name, ScramCredential credential, boolean enabled, AccountLimits limits) {
        Instant now = Instant.now();
        return new Account(name, credential, enabled, now, now, 0, 0, limits);
    }
}
