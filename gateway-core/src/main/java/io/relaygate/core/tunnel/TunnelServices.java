package io.relaygate.core.tunnel;

import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.core.config.GatewayConfig.Timeouts;
import io.relaygate.core.reactor.BufferPool;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every connection of a gateway shares. Immutable; every part is thread-safe.
 *
 * @param pool     relay buffers
 * @param stats    counters
 * @param limits   connection caps
 * @param timeouts every timeout
 * @param connector where tunnels go (directly, or over a link)
 * @param verifier checks client passwords
 * @param blocking the bounded executor for blocking work
 * @param sessions the remote's tunnels by user, or null on the local role
 * @param damper   brute-force damping of failed logins
 * @param shaping  rate limits and per-principal meters
 */
public record TunnelServices(BufferPool pool, GatewayStats stats, ConnectionLimits limits, Timeouts timeouts,
                             Connector connector, PasswordVerifier verifier,
                             Executor blocking, UserSessions sessions, AuthDamper damper,
                             Shaping shaping) {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.tunnel");
    /** One line per tunnel at close; its own logger so it can be routed or turned off. */
    private static final Logger access = LoggerFactory.getLogger("io.relaygate.access");

    long idleTimeoutNanos() {
        return timeouts.idle().toNanos();
    }

    long halfClosedTimeoutNanos() {
        return timeouts.halfClosed().toNanos();
    }

    long handshakeTimeoutNanos() {
        return timeouts.handshake().toNanos();
    }

    void debug(String format, Object a, Object b) {
        if (log.isDebugEnabled()) {
            log.debug(format, a, b);
        }
    }

    void accessLog(TunnelRecord r) {
        if (access.isInfoEnabled()) {
            long ms = (System.nanoTime() - r.startNanos) / 1_000_000;
            access.info("{} user={} client={} destination={} up={} down={} ms={} outcome={}", r.protocol,
                    r.user == null ? "-" : LogText.escape(r.user), LogText.address(r.client),
                    r.destination == null ? "-" : LogText.escape(r.destination), r.bytesUp, r.bytesDown, ms,
                    r.outcome);
        }
    }
}
