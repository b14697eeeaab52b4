package io.relaygate.spi;

import java.util.Objects;

/**
 * A user account as the gateway needs it. Immutable.
 *
 * @param name       the user name
 * @param credential the SCRAM credential material
 * @param rate       bytes per second over both directions of all the user's tunnels; 0 for unlimited
 * @param enabled    whether the user may open tunnels
 */
public record Account(String name, ScramCredential credential, long rate, boolean enabled) {

    public Account {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(credential, "credential");
        if (rate < 0) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: >= 0)");
        }
    }
}
