package io.relaygate.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A user account. Immutable.
 *
 * @param name       the user name (see {@link AccountRules#checkName})
 * @param credential the SCRAM credential material
 * @param rate       bytes per second over both directions of all the user's tunnels; 0 for unlimited
 * @param enabled    whether the user may open tunnels
 * @param created    when the account was created
 * @param updated    when its credential, rate or enabled flag last changed
 * @param bytesUp    bytes relayed from the user's clients to destinations, as last persisted
 * @param bytesDown  bytes relayed from destinations to the user's clients, as last persisted
 * @param exposePorts public ports the user may hold at once for the reverse tunnel; 0: may expose nothing
 */
public record Account(String name, ScramCredential credential, long rate, boolean enabled, Instant created,
                      Instant updated, long bytesUp, long bytesDown, int exposePorts) {

    public Account {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(credential, "credential");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(updated, "updated");
        if (rate < 0) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: >= 0)");
        }
        AccountRules.checkExposePorts(exposePorts);
    }

    /** An account that may expose no port. */
    public Account(String name, ScramCredential credential, long rate, boolean enabled, Instant created,
                   Instant updated, long bytesUp, long bytesDown) {
        this(name, credential, rate, enabled, created, updated, bytesUp, bytesDown, 0);
    }

    /** {@return this account with {@code exposePorts}} */
    public Account withExposePorts(int exposePorts) {
        return new Account(name, credential, rate, enabled, created, updated, bytesUp, bytesDown, exposePorts);
    }

    /** {@return a new account with zero counters, created and updated now} */
    public static Account create(String name, ScramCredential credential, long rate, boolean enabled) {
        Instant now = Instant.now();
        return new Account(name, credential, rate, enabled, now, now, 0, 0);
    }
}
