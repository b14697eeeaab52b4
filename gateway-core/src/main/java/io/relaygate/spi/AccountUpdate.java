package io.relaygate.spi;

import java.time.Instant;
import java.util.Optional;

/**
 * A change to an account; {@code null} fields stay as they are. Immutable: start from {@link #NONE} and add what
 * changes with the {@code with} methods.
 *
 * @param credential     new credential material, or {@code null}
 * @param enabled        enable or disable, or {@code null}
 * @param rate           new total rate in bytes per second (0 unlimited), or {@code null}
 * @param rateUp         new upload rate (0: no separate limit), or {@code null}
 * @param rateDown       new download rate (0: no separate limit), or {@code null}
 * @param maxConnections new cap on concurrent tunnels (0: none), or {@code null}
 * @param exposePorts    new number of public ports the user may hold, or {@code null}
 * @param expires        the new expiry, empty for never, or {@code null} to keep it
 * @param quota          the new quota ({@link Quota#NONE} for none), or {@code null}
 */
public record AccountUpdate(ScramCredential credential, Boolean enabled, Long rate, Long rateUp, Long rateDown,
                            Integer maxConnections, Integer exposePorts, Optional<Instant> expires, Quota quota) {

    /** Changes nothing. */
    public static final AccountUpdate NONE = new AccountUpdate(null, null, null, null, null, null, null, null, null);

    public AccountUpdate {
        if (rate != null) {
            AccountRules.checkRate(rate);
        }
        if (rateUp != null) {
            AccountRules.checkRate(rateUp);
        }
        if (rateDown != null) {
            AccountRules.checkRate(rateDown);
        }
        if (maxConnections != null) {
            AccountRules.checkMaxConnections(maxConnections);
        }
        if (exposePorts != null) {
            AccountRules.checkExposePorts(exposePorts);
        }
    }

    /** {@return whether this changes nothing} */
    public boolean isEmpty() {
        return equals(NONE);
    }

    /** {@return {@code limits} with this update's changes} */
    public AccountLimits applyTo(AccountLimits limits) {
        return new AccountLimits(rate != null ? rate : limits.rate(), rateUp != null ? rateUp : limits.rateUp(),
                rateDown != null ? rateDown : limits.rateDown(),
                maxConnections != null ? maxConnections : limits.maxConnections(),
                exposePorts != null ? exposePorts : limits.exposePorts(),
                expires != null ? expires.orElse(null) : limits.expires(), quota != null ? quota : limits.quota());
    }

    public AccountUpdate withCredential(ScramCredential value) {
        return new AccountUpdate(value, enabled, rate, rateUp, rateDown, maxConnections, exposePorts, expires, quota);
    }

    public AccountUpdate withEnabled(boolean value) {
        return new AccountUpdate(credential, value, rate, rateUp, rateDown, maxConnections, exposePorts, expires, quota);
    }

    public AccountUpdate withRate(long value) {
        return new AccountUpdate(credential, enabled, value, rateUp, rateDown, maxConnections, exposePorts, expires,
                quota);
    }

    public AccountUpdate withRateUp(long value) {
        return new AccountUpdate(credential, enabled, rate, value, rateDown, maxConnections, exposePorts, expires,
                quota);
    }

    public AccountUpdate withRateDown(long value) {
        return new AccountUpdate(credential, enabled, rate, rateUp, value, maxConnections, exposePorts, expires,
                quota);
    }

    public AccountUpdate withMaxConnections(int value) {
        return new AccountUpdate(credential, enabled, rate, rateUp, rateDown, value, exposePorts, expires, quota);
    }

    public AccountUpdate withExposePorts(int value) {
        return new AccountUpdate(credential, enabled, rate, rateUp, rateDown, maxConnections, value, expires, quota);
    }

    /** @param value the new expiry, or null for never */
    public AccountUpdate withExpires(Instant value) {
        return new AccountUpdate(credential, enabled, rate, rateUp, rateDown, maxConnections, exposePorts,
                Optional.ofNullable(value), quota);
    }

    public AccountUpdate withQuota(Quota value) {
        return new AccountUpdate(credential, enabled, rate, rateUp, rateDown, maxConnections, exposePorts, expires,
                value);
    }
}
