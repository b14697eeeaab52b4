package io.relaygate.core.tunnel;

import io.relaygate.core.shaping.Throttle;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import java.io.IOException;

/**
 * What every relay of a tunnel shares, whatever its sides: the idle and half-closed timers, closing exactly once,
 * and the accounting at close (counters, connection permit, access log). Confined to the tunnel's loop.
 */
abstract class TunnelRelay {

    final EventLoop loop;
    final TunnelServices services;
    final TunnelRecord record;
    /** The principal the tunnel is charged to, or null; and each direction's throttle on its bucket. */
    private final Shaping.Meter meter;
    final Throttle upThrottle;
    final Throttle downThrottle;
    private long lastActivity;
    private Timer idleTimer;
    private Timer halfClosedTimer;
    private Timer reportTimer;
    private long reportedUp;
    private long reportedDown;
    private boolean closed;

    /** How often a live tunnel's traffic is reported for persisting: a crash loses at most this much of it. */
    private static final long REPORT_NANOS = 5_000_000_000L;

    TunnelRelay(EventLoop loop, TunnelServices services, TunnelRecord record) {
        this.loop = loop;
        this.services = services;
        this.record = record;
        this.meter = services.shaping().meterFor(record.user);
        this.upThrottle = Shaping.throttle(meter, loop);
        this.downThrottle = Shaping.throttle(meter, loop);
    }

    /** Counts the tunnel as open and starts the idle timer; subclasses then start moving bytes. */
    final void opened() {
        services.stats().tunnelOpened();
        if (services.sessions() != null && record.user != null) {
            services.sessions().opened(record.user, this, loop, () -> close("user revoked"));
            reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
        }
        lastActivity = loop.now();
        idleTimer = loop.schedule(services.idleTimeoutNanos(), this::checkIdle);
    }

    /**
     * Runs a parked direction's resume on the loop: reads what the reservation allows, then refreshes the sockets'
     * interest; a failure ends this tunnel only.
     */
    final Runnable resumer(IoAction read) {
        return () -> {
            if (closed) {
                return;
            }
            try {
                read.run();
                if (!closed) {
                    interestChanged();
                }
            } catch (IOException | RuntimeException e) {
                sideFailed(e);
            }
        };
    }

    /** What a resumed direction does: a read that may throw. */
    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    /** Sets both sockets' interest from the directions' state. */
    abstract void interestChanged();

    final void touch() {
        lastActivity = loop.now();
    }

    final boolean isClosed() {
        return closed;
    }

    final void countUp(long n) {
        record.bytesUp += n;
        services.stats().addUp(n);
        if (meter != null) {
            meter.addUp(n);
        }
    }

    final void countDown(long n) {
        record.bytesDown += n;
        services.stats().addDown(n);
        if (meter != null) {
            meter.addDown(n);
        }
    }

    /** One direction has ended; the tunnel closes when both have, or at the half-closed timeout. */
    final void directionEnded(boolean bothEnded) {
        if (bothEnded) {
            close("closed");
        } else if (halfClosedTimer == null) {
            halfClosedTimer = loop.schedule(services.halfClosedTimeoutNanos(), () -> close("half-closed timeout"));
        }
    }

    /** Hands the traffic since the last report to the account flusher, so long tunnels are counted as they go. */
    private void reportTraffic() {
        if (closed) {
            return;
        }
        services.sessions().addTraffic(record.user, record.bytesUp - reportedUp, record.bytesDown - reportedDown);
        reportedUp = record.bytesUp;
        reportedDown = record.bytesDown;
        reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
    }

    private void checkIdle() {
        if (closed) {
            return;
        }
        long idleNanos = services.idleTimeoutNanos();
        long quietFor = System.nanoTime() - lastActivity;
        if (quietFor >= idleNanos) {
            close("idle timeout");
        } else {
            idleTimer = loop.schedule(idleNanos - quietFor, this::checkIdle);
        }
    }

    /** Ends the tunnel cleanly: both sides closed. Idempotent. */
    final void close(String outcome) {
        if (!closed) {
            closeSockets(false);
            finish(outcome);
        }
    }

    /** Ends the tunnel as broken: the far ends learn it by a reset, never mistaking it for a clean end. */
    final void abort(String outcome, Throwable cause) {
        if (!closed) {
            services.debug("tunnel {} aborted: {}", record, cause);
            closeSockets(true);
            finish(outcome);
        }
    }

    /** What a side's key does when its handler threw: a stop closes cleanly, anything else resets. */
    final void sideFailed(Throwable cause) {
        if (cause instanceof Shutdown) {
            close("shutdown");
        } else {
            abort("reset", cause);
        }
    }

    /** Closes both sides, with resets when {@code reset}. */
    abstract void closeSockets(boolean reset);

    /** Gives back every pooled buffer the relay holds. */
    abstract void releaseBuffers();

    private void finish(String outcome) {
        closed = true;
        upThrottle.close();
        downThrottle.close();
        idleTimer.cancel();
        if (halfClosedTimer != null) {
            halfClosedTimer.cancel();
        }
        releaseBuffers();
        services.stats().tunnelClosed();
        record.permit.release();
        if (services.sessions() != null && record.user != null) {
            reportTimer.cancel();
            services.sessions().closed(record.user, this, record.bytesUp - reportedUp,
                    record.bytesDown - reportedDown);
        }
        record.outcome = outcome;
        services.accessLog(record);
    }
}
