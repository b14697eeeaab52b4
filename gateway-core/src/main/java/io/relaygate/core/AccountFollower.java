package io.relaygate.core;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.wire.DecoyIterations;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountStore;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote's side of the account store while it runs: follows the change feed (new limits reach the shaping and
 * the allowances, a disabled or deleted user's tunnels and idle links close at once, the decoy iterations learn of
 * new accounts), enforces expiry and quotas every {@value #ENFORCE_MILLIS} ms, and persists traffic as increments
 * every 5 seconds and once more at close, after the loops have stopped.
 */
final class AccountFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    /** Expiry and quotas close tunnels within this of the instant: well within the second users are promised. */
    private static final long ENFORCE_MILLIS = 200;

    private final Allowances allowances;

    AccountFollower(AccountStore store, UserSessions sessions, Allowances allowances, DecoyIterations decoys,
                    ScheduledExecutorService housekeeping) {
        this.allowances = allowances;
        store.addListener(change -> {
            decoys.accountsChanged();
            boolean revoked = change.kind() == AccountChange.Kind.DELETED
                    || (change.kind() == AccountChange.Kind.UPDATED && !change.account().enabled());
            if (change.kind() == AccountChange.Kind.DELETED) {
                allowances.deleted(change.name());
            } else {
                allowances.changed(change.account());
            }
            if (revoked) {
                int closed = sessions.revoke(change.name());
                if (closed > 0) {
                    log.info("user {} {}: closing {} live tunnels", change.name(),
                            change.kind() == AccountChange.Kind.DELETED ? "deleted" : "disabled", closed);
                }
            }
        });
        housekeeping.scheduleWithFixedDelay(this::flushTraffic, 5, 5, TimeUnit.SECONDS);
        housekeeping.scheduleWithFixedDelay(this::enforce, ENFORCE_MILLIS, ENFORCE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void flushTraffic() {
        try {
            allowances.persist();
        } catch (RuntimeException e) {
            log.warn("persisting traffic counters failed, will retry: {}", e.toString());
        }
    }

    private void enforce() {
        try {
            allowances.enforce();
        } catch (RuntimeException e) {
            log.warn("enforcing account limits failed, will retry: {}", e.toString());
        }
    }

    /** Persists what the last tunnels moved. */
    @Override
    public void close() {
        flushTraffic();
    }
}
