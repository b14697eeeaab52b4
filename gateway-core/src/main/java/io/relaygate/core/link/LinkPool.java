package io.relaygate.core.link;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's authenticated links to the remote, which carry that loop's tunnels as streams: kept at a target
 * count, each new stream on the least loaded, replaced when they die or go away, redialled with exponential backoff
 * and jitter while the remote is unreachable (a minute after refused credentials, so the remote's damping never
 * starts for everyone behind this address; a tunnel may still try one login every 5 s, so a fixed account works
 * again soon). A tunnel that finds no link waits for the next one, within its own deadline. Confined to its loop, except the health figures it publishes.
 */
final class LinkPool implements LinkSession.CloseListener {

    /** A tunnel waiting for a link. Called on the pool's loop. */
    interface Waiter {
        void linkReady(LinkSession session);

        void linkFailed(TunnelOutcome outcome, String reason);
    }

    private static final Logger log = LoggerFactory.getLogger(LinkConnector.class);
    private static final long MIN_BACKOFF_NANOS = Duration.ofMillis(100).toNanos();
    private static final long MAX_BACKOFF_NANOS = Duration.ofSeconds(5).toNanos();
    private static final long AUTH_REFUSED_BACKOFF_NANOS = Duration.ofSeconds(60).toNanos();
    private static final long HEALTH_PERIOD_NANOS = Duration.ofSeconds(1).toNanos();
    /**
     * After a refusal, how often a tunnel may still try a login: a fixed account is noticed within this, while a
     * browser's burst of connections costs the remote's damping a few failures a minute, not one per connection.
     */
    private static final long REFUSED_RECHECK_NANOS = Duration.ofSeconds(5).toNanos();

    private final EventLoop loop;
    private final int target;
    private final Destination remote;
    /** Starts dialling one link for this pool; it reports with {@link #ready} or {@link #dialFailed}. */
    private final Runnable dialOne;
    private final LinkHealth health;
    private final List<LinkSession> links = new ArrayList<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int dialing;
    private int failures;
    private Timer retry;
    private Timer healthTimer;
    private boolean retired;
    /** The last dial was refused for good (credentials or certificate): tunnels fail at once until it works. */
    private TunnelOutcome refusedWith;
    private String refusedReason;
    private long refusedAt;

    LinkPool(EventLoop loop, int target, Destination remote, Runnable dialOne, LinkHealth health) {
        this.loop = loop;
        this.target = target;
        this.remote = remote;
        this.dialOne = dialOne;
        this.health = health;
    }

    /** Gives {@code waiter} the least loaded link now, or when the next one is up. */
    void submit(Waiter waiter) {
        LinkSession best = leastLoaded();
        if (best != null) {
            waiter.linkReady(best);
            return;
        }
        if (refusedWith != null && (dialing > 0 || loop.now() - refusedAt < REFUSED_RECHECK_NANOS)) {
            waiter.linkFailed(refusedWith, refusedReason);
            return;
        }
        waiters.add(waiter);
        // A tunnel is worth one dial even while backing off: the remote may be back.
        if (dialing == 0 && !retired) {
            dial();
        }
    }

    /** A waiter gave up (its deadline, or its client left). */
    void withdraw(Waiter waiter) {
        waiters.remove(waiter);
    }

    private LinkSession leastLoaded() {
        LinkSession best = null;
        for (LinkSession session : links) {
            if (session.canOpen() && (best == null || session.load() < best.load())) {
                best = session;
            }
        }
        return best;
    }

    /** Dials links until the pool holds its target of usable ones, unless it is backing off or retired. */
    void refill() {
        if (healthTimer == null) {
            healthTimer = loop.schedule(HEALTH_PERIOD_NANOS, this::publishHealth);
        }
        if (retry != null || retired) {
            return;
        }
        while (usable() + dialing < target) {
            dial();
        }
    }

    private void dial() {
        dialing++;
        dialOne.run();
    }

    private int usable() {
        int n = 0;
        for (LinkSession session : links) {
            if (!session.isDraining()) {
                n++;
            }
        }
        return n;
    }

    /** A link dialled for this pool is authenticated. */
    void ready(LinkSession session) {
        dialing--;
        failures = 0;
        refusedWith = null;
        if (retired) {
            session.close("the link settings changed");
            failWaiters(TunnelOutcome.GENERAL_FAILURE, "the link settings changed");
            return;
        }
        links.add(session);
        while (!waiters.isEmpty() && session.canOpen()) {
            waiters.poll().linkReady(session);
        }
        if (!waiters.isEmpty() && dialing == 0) {
            dial();                                     // more tunnels than the new link takes
        }
        publishHealth();
    }

    /**
     * A link dialled for this pool failed; the waiting tunnels fail with it and the next refill waits.
     *
     * @param reason  what the waiting tunnels are told
     * @param refused the remote refused our credentials or is not the remote we trust
     * @param problem what the console shows
     */
    void dialFailed(TunnelOutcome outcome, String reason, boolean refused, String problem) {
        dialing--;
        failures++;
        health.problem(problem);
        if (refused) {
            refusedWith = outcome;
            refusedReason = reason;
            refusedAt = loop.now();
        }
        failWaiters(outcome, reason);
        long backoff = refused ? AUTH_REFUSED_BACKOFF_NANOS
                : Math.min(MAX_BACKOFF_NANOS, MIN_BACKOFF_NANOS << Math.min(failures, 20));
        long jittered = backoff / 2 + (long) (ThreadLocalRandom.current().nextDouble() * backoff / 2);
        if (retry == null && !retired) {
            retry = loop.schedule(jittered, () -> {
                retry = null;
                refill();
            });
        }
    }

    private void failWaiters(TunnelOutcome outcome, String reason) {
        while (!waiters.isEmpty()) {
            waiters.poll().linkFailed(outcome, reason);
        }
    }

    /**
     * The settings changed: the links take no new stream (those they carry go on) and close once drained; none is
     * dialled again.
     */
    void retire() {
        retired = true;
        for (LinkSession session : List.copyOf(links)) {
            session.goAway("the link settings changed");
        }
        failWaiters(TunnelOutcome.GENERAL_FAILURE, "the link settings changed");
        for (Timer timer : new Timer[] {retry, healthTimer}) {
            if (timer != null) {
                timer.cancel();
            }
        }
        retry = null;
        healthTimer = null;
        health.publish(this, 0, 0, -1);
    }

    @Override
    public void goingAway(LinkSession session) {
        if (log.isDebugEnabled()) {
            log.debug("link to {} going away", remote);
        }
        refill();
    }

    @Override
    public void closed(LinkSession session, String reason) {
        if (links.remove(session)) {
            if (!retired) {
                health.problem("link lost: " + reason);
            }
            if (log.isDebugEnabled()) {
                log.debug("link to {} lost: {}", remote, reason);
            }
            refill();
            publishHealth();
        }
    }

    private void publishHealth() {
        if (retired) {
            return;
        }
        int streams = 0;
        long rtt = -1;
        for (LinkSession session : links) {
            streams += session.load();
            long r = session.roundTripNanos();
            if (r >= 0 && (rtt < 0 || r < rtt)) {
                rtt = r;
            }
        }
        health.publish(this, links.size(), streams, rtt);
        if (healthTimer != null) {
            healthTimer.cancel();
        }
        healthTimer = loop.schedule(HEALTH_PERIOD_NANOS, this::publishHealth);
    }
}
