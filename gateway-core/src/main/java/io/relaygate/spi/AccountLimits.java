package io.relaygate.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * What an account may do: its rates, caps, expiry and quota. Immutable; {@link #NONE} limits nothing.
 *
 * @param rate           bytes per second over both directions of all the user's tunnels; 0 for unlimited
 * @param rateUp         bytes per second from the user's clients, beside {@code rate}; 0 for no separate limit
 * @param rateDown       bytes per second to the user's clients, beside {@code rate}; 0 for no separate limit
 * @param maxConnections concurrent tunnels of the user across all protocols and locals; 0 for no cap
 * @param exposePorts    public ports the user may hold at once for the reverse tunnel; 0: may expose nothing
 * @param expires        the instant from which the user may not log in, or null for never
 * @param quota          traffic allowed per calendar period, or {@link Quota#NONE}; never null
 */
public record AccountLimits(long rate, long rateUp, long rateDown, int maxConnections, int exposePorts,
                            Instant expires, Quota quota) {

    /** No limit at all, and no public port. */
    public static final AccountLimits NONE = new AccountLimits(0, 0, 0, 0, 0, null, Quota.NONE);

    public AccountLimits {
        AccountRules.checkRate(rate);
        AccountRules.checkRate(rateUp);
        AccountRules.checkRate(rateDown);
        AccountRules.checkMaxConnections(maxConnections);
        AccountRules.checkExposePorts(exposePorts);
        Objects.requireNonNull(quota, "quota");
    }

    /** {@return whether the account has expired at {@code now}} */
    public boolean expiredAt(Instant now) {
        return expires != null && !now.isBefore(expires);
    }

    public AccountLimits withRate(long bytesPerSecond) {
        return new AccountLimits(bytesPerSecond, rateUp, rateDown, maxConnections, exposePorts, expires, quota);
    }

    public AccountLimits withRateUp(long bytesPerSecond) {
        return new AccountLimits(rate, bytesPerSecond, rateDown, maxConnections, exposePorts, expires, quota);
    }

    public AccountLimits withRateDown(long bytesPerSecond) {
        return new AccountLimits(rate, rateUp, bytesPerSecond, maxConnections, exposePorts, expires, quota);
    }

    public AccountLimits withMaxConnections(int tunnels) {
        return new AccountLimits(rate, rateUp, rateDown, tunnels, exposePorts, expires, quota);
    }

    public AccountLimits withExposePorts(int ports) {
        return new AccountLimits(rate, rateUp, rateDown, maxConnections, ports, expires, quota);
    }

    /** @param instant the expiry, or null for never */
    public AccountLimits withExpires(Instant instant) {
        return new AccountLimits(rate, rateUp, rateDown, maxConnections, exposePorts, instant, quota);
    }

    public AccountLimits withQuota(Quota allowance) {
        return new AccountLimits(rate, rateUp, rateDown, maxConnections, exposePorts, expires, allowance);
    }
}
