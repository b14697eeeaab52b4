package io.relaygate.core.relay;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.policy.LiveTimeouts;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.stats.GatewayStats;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every tunnel's relay shares. Immutable; every part is thread-safe.
 *
 * @param pool       relay buffers
 * @param stats      counters
 * @param shaping    rate limits and per-principal meters
 * @param sessions   the remote's tunnels by user, or null on the local role
 * @param allowances the remote's users' caps and quotas, or null on the local role
 * @param timeouts   the idle and half-closed timeouts, read as each tunnel starts (a reload changes them)
 */
public record RelayServices(BufferPool pool, GatewayStats stats, Shaping shaping, UserSessions sessions,
                            Allowances allowances, LiveTimeouts timeouts) {

    /** {@return how long a tunnel starting now may stay quiet both ways} */
    public Duration idle() {
        return timeouts.idle();
    }

    /** {@return how long a tunnel starting now may stay with one direction ended} */
    public Duration halfClosed() {
        return timeouts.halfClosed();
    }

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.tunnel");
    /** One line per tunnel at close; its own logger so it can be routed or turned off. */
    private static final Logger access = LoggerFactory.getLogger("io.relaygate.access");

    /** Logs at DEBUG on the tunnel logger, formatting nothing when it is off. */
    public void debug(String format, Object a, Object b) {
        if (log.isDebugEnabled()) {
            log.debug(format, a, b);
        }
    }

    /**
     * Admits the tunnel of {@code record}'s user under their cap and quota, before it connects: the slot is the
     * record's to release when it ends. Loop only. {@return null when admitted; otherwise the refusal, whose outcome
     * the caller answers with and counts (it is logged at DEBUG here)}
     */
    public Allowances.Admission admit(TunnelRecord record) {
        if (allowances == null || record.user == null) {
            return null;
        }
        Allowances.Admission admission = allowances.admit(record.user);
        if (admission.refused()) {
            debug("{}: refused: {}", record, admission.reason());
            return admission;
        }
        record.admitted(admission);
        return null;
    }

    /** Writes the tunnel's access log line. */
    public void accessLog(TunnelRecord r) {
        if (access.isInfoEnabled()) {
            long ms = (System.nanoTime() - r.startNanos) / 1_000_000;
            access.info("{} user={} client={} destination={} up={} down={} ms={} outcome={}", r.protocol,
                    r.user == null ? "-" : LogText.escape(r.user), LogText.address(r.client),
                    r.destination == null ? "-" : LogText.escape(r.destination), r.bytesUp, r.bytesDown, ms,
                    r.outcome);
        }
    }
}
