package io.relaygate.spi;

/**
 * A change to an account; {@code null} fields stay as they are. Immutable.
 *
 * @param credential new credential material, or {@code null}
 * @param rate       new rate in bytes per second (0 unlimited), or {@code null}
 * @param enabled    enable or disable, or {@code null}
 * @param exposePorts new number of public ports the user may hold, or {@code null}
 */
public record AccountUpdate(ScramCredential credential, Long rate, Boolean enabled, Integer exposePorts) {

    public AccountUpdate {
        if (rate != null && rate < 0) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: >= 0)");
        }
        if (exposePorts != null) {
            AccountRules.checkExposePorts(exposePorts);
        }
    }

    /** A change of credential, rate or enabled flag only. */
    public AccountUpdate(ScramCredential credential, Long rate, Boolean enabled) {
        this(credential, rate, enabled, null);
    }
}
