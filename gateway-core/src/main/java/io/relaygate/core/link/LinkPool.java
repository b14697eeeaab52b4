package io.relaygate.core.link;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.Destination;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's authenticated idle links to the remote, so a new tunnel skips the authentication round trips:
 * kept at a target count, pinged by their sessions while they wait, replaced when they die, refilled with
 * exponential backoff and jitter while the remote is unreachable (a minute after refused credentials, so the
 * remote's damping never starts for everyone behind this address). Confined to its loop.
 */
final class LinkPool implements LinkSession.CloseListener {

    private static final Logger log = LoggerFactory.getLogger(LinkConnector.class);
    private static final long MIN_BACKOFF_NANOS = Duration.ofMillis(100).toNanos();
    private static final long MAX_BACKOFF_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long AUTH_REFUSED_BACKOFF_NANOS = Duration.ofSeconds(60).toNanos();

    private final EventLoop loop;
    private final int target;
    private final Destination remote;
    /** Starts dialling one link for this pool; it reports with {@link #ready} or {@link #dialFailed}. */
    private final Runnable dialOne;
    private final ArrayDeque<LinkSession> idle = new ArrayDeque<>();
    private int dialing;
    private int failures;
    private Timer retry;
    private boolean retired;

    LinkPool(EventLoop loop, int target, Destination remote, Runnable dialOne) {
        this.loop = loop;
        this.target = target;
        this.remote = remote;
        this.dialOne = dialOne;
    }

    /** {@return an idle link that can open a stream now, or null} */
    LinkSession take() {
        for (LinkSession session; (session = idle.poll()) != null; ) {
            if (session.canOpen()) {
                return session;
            }
        }
        return null;
    }

    /** Dials links until the pool holds its target, unless it is backing off or retired. */
    void refill() {
        if (retry != null || retired) {
            return;
        }
        while (idle.size() + dialing < target) {
            dialing++;
            dialOne.run();
        }
    }

    /** A link dialled for this pool is authenticated. */
    void ready(LinkSession session) {
        dialing--;
        failures = 0;
        if (retired) {
            session.close("the link settings changed");
            return;
        }
        idle.add(session);
    }

    /**
     * A link dialled for this pool failed; the next refill waits.
     *
     * @param refused the remote refused our credentials or is not the remote we pinned
     */
    void dialFailed(boolean refused) {
        dialing--;
        failures++;
        long backoff = refused ? AUTH_REFUSED_BACKOFF_NANOS
                : Math.min(MAX_BACKOFF_NANOS, MIN_BACKOFF_NANOS << Math.min(failures, 20));
        long jittered = backoff / 2 + (long) (ThreadLocalRandom.current().nextDouble() * backoff / 2);
        if (retry == null) {
            retry = loop.schedule(jittered, () -> {
                retry = null;
                refill();
            });
        }
    }

    /** The settings changed: the idle links close and none is dialled again; tunnels already carried go on. */
    void retire() {
        retired = true;
        for (LinkSession session; (session = idle.poll()) != null; ) {
            session.close("the link settings changed");
        }
        if (retry != null) {
            retry.cancel();
            retry = null;
        }
    }

    /** A session of this loop closed: if it was waiting here, replace it. */
    @Override
    public void closed(LinkSession session, String reason) {
        if (idle.remove(session)) {
            if (log.isDebugEnabled()) {
                log.debug("idle link to {} lost: {}", remote, reason);
            }
            refill();
        }
    }
}
