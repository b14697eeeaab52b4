package io.relaygate.core.relay;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;

/**
 * What every relayed thing does beside moving bytes, from its start to its access log line: a tunnel's relay, a
 * forwarding connection, a UDP association (either end). It follows the user's sessions (revocation closes it, its
 * traffic is reported every few seconds so a crash loses little), closes it when it has been quiet for its idle
 * time, and at the end settles the traffic, releases the permit and writes the access line. Confined to its loop.
 */
public final class TunnelLife {

    /** How often a live tunnel's traffic is reported for persisting: a crash loses at most this much of it. */
    private static final long REPORT_NANOS = 5_000_000_000L;

    private static final String IDLE_TIMEOUT = "idle timeout";

    private final EventLoop loop;
    private final RelayServices services;
    private final TunnelRecord record;
    private final long idleNanos;
    private final java.util.function.Consumer<String> close;
    private Timer idleTimer;
    private Timer reportTimer;
    private long lastActivity;
    private long reportedUp;
    private long reportedDown;
    private boolean ended;

    /**
     * @param idleNanos how long it may stay quiet both ways
     * @param close     closes the owner with an outcome ({@code "idle timeout"}, {@code "user revoked"},
     *                  {@code "quota reached"}); it calls {@link #end} in turn, resetting both ends when
     *                  {@link #cutShort} says so
     */
    public TunnelLife(EventLoop loop, RelayServices services, TunnelRecord record, long idleNanos,
                      java.util.function.Consumer<String> close) {
        this.loop = loop;
        this.services = services;
        this.record = record;
        this.idleNanos = idleNanos;
        this.close = close;
    }

    /**
     * {@return whether an outcome given to the {@code close} callback cuts the traffic short (a revocation, a quota):
     * its owner resets both ends, so that no client takes what it received for all there was. Only the idle timeout,
     * where nothing was moving, ends cleanly}
     */
    public static boolean cutShort(String outcome) {
        return !IDLE_TIMEOUT.equals(outcome);
    }

    /** Starts the timers and registers with the user's sessions. Loop only. */
    public void start() {
        if (services.sessions() != null && record.user() != null) {
            services.sessions().opened(record.user(), this, loop, close);
            reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
        }
        lastActivity = loop.now();
        idleTimer = loop.schedule(idleNanos, this::checkIdle);
    }

    /** Something moved: the idle time starts again. */
    public void active() {
        lastActivity = loop.now();
    }

    /** Ends it: timers cancelled, the last traffic to the sessions, the permit released, the access line. Idempotent. */
    public void end(String outcome) {
        if (ended) {
            return;
        }
        ended = true;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        record.releasePermit();
        if (reportTimer != null) {
            reportTimer.cancel();
            services.sessions().closed(record.user(), this, record.bytesUp() - reportedUp,
                    record.bytesDown() - reportedDown);
        }
        record.outcome(outcome);
        services.accessLog(record);
    }

    private void reportTraffic() {
        if (ended) {
            return;
        }
        services.sessions().addTraffic(record.user(), record.bytesUp() - reportedUp, record.bytesDown() - reportedDown);
        reportedUp = record.bytesUp();
        reportedDown = record.bytesDown();
        reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
    }

    private void checkIdle() {
        if (ended) {
            return;
        }
        long quietFor = loop.now() - lastActivity;
        if (quietFor >= idleNanos) {
            close.accept(IDLE_TIMEOUT);
        } else {
            idleTimer = loop.schedule(idleNanos - quietFor, this::checkIdle);
        }
    }
}
