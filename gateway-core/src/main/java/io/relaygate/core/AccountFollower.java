package io.relaygate.core;

import io.relaygate.core.wire.DecoyIterations;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountStore;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote's side of the account store while it runs: follows the change feed (a new rate reaches the shaping, a
 * disabled or deleted user's tunnels and idle links close at once, the decoy iterations learn of new accounts) and
 * persists traffic as increments every 5 seconds and once more at close, after the loops have stopped.
 */
final class AccountFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final AccountStore store;
    private final UserSessions sessions;

    AccountFollower(AccountStore store, UserSessions sessions, Shaping shaping, DecoyIterations decoys,
                    ScheduledExecutorService housekeeping) {
        this.store = store;
        this.sessions = sessions;
        store.addListener(change -> {
            decoys.accountsChanged();
            boolean revoked = change.kind() == AccountChange.Kind.DELETED
                    || (change.kind() == AccountChange.Kind.UPDATED && !change.account().enabled());
            if (change.kind() == AccountChange.Kind.DELETED) {
                shaping.deleted(change.name());
            } else {
                shaping.rateChanged(change.name(), change.account().rate());
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
    }

    private void flushTraffic() {
        Map<String, long[]> traffic = sessions.drainTraffic();
        if (traffic.isEmpty()) {
            return;
        }
        try {
            store.addTraffic(traffic);
        } catch (RuntimeException e) {
            // Keep the increments for the next try rather than lose them.
            traffic.forEach(sessions::addTrafficBack);
            log.warn("persisting traffic counters failed, will retry: {}", e.toString());
        }
    }

    /** Persists what the last tunnels moved. */
    @Override
    public void close() {
        flushTraffic();
    }
}
