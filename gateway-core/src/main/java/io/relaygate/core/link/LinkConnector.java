package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.net.TlsPort;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.wire.LinkCredentials;
import io.relaygate.core.wire.ScramClient;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local role's connector: each tunnel is a stream of a link to the remote gateway (docs/link-protocol.md;
 * version 1 carries one stream per link). A link is dialled and authenticated ({@link LinkClientHandshake}), or
 * taken ready from the loop's pool, and asked to OPEN the destination; the remote's OPEN_RESULT becomes the
 * tunnel's outcome and the stream its upstream port. Thread-safe; each attempt and each pool is confined to its
 * loop.
 */
public final class LinkConnector implements Connector {

    private static final Logger log = LoggerFactory.getLogger(LinkConnector.class);
    /**
     * Link handshakes in flight at once. The remote caps unauthenticated connections per source address (32 by
     * default); a burst of new tunnels waits for a slot here instead of being cut off there.
     */
    private static final int MAX_HANDSHAKES = 16;
    private static final long PING_INTERVAL_NANOS = Duration.ofSeconds(15).toNanos();
    private static final long PONG_TIMEOUT_NANOS = Duration.ofSeconds(10).toNanos();

    private final Destination remote;
    private final Dialer dialer;
    private final LinkCredentials credentials;
    private final Executor blocking;
    private final BufferPool buffers;
    private final LinkTls tls;
    private final long handshakeNanos;
    private final LinkSession.Settings settings;
    private final int idlePerLoop;
    private final SecureRandom random = new SecureRandom();
    /** When the last authentication refusal was logged, so a misconfigured local warns once a minute, not per tunnel. */
    private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - Duration.ofHours(1).toNanos());
    private final AtomicInteger handshaking = new AtomicInteger();
    private final Queue<LinkAttempt> waiting = new ConcurrentLinkedQueue<>();
    private final Map<EventLoop, LinkPool> pools = new ConcurrentHashMap<>();

    /**
     * @param tls         the link's TLS, the remote pinned; null for a plaintext link
     * @param idlePerLoop authenticated idle links each event loop keeps ready, so a new tunnel skips the
     *                    authentication round trips; 0 for none
     */
    public LinkConnector(Destination remote, Dialer dialer, LinkCredentials credentials, Executor blocking,
                         BufferPool buffers, LinkTls tls, Duration handshakeTimeout, int idlePerLoop) {
        this.tls = tls;
        this.remote = remote;
        this.dialer = dialer;
        this.credentials = credentials;
        this.blocking = blocking;
        this.buffers = buffers;
        this.handshakeNanos = handshakeTimeout.toNanos();
        this.idlePerLoop = idlePerLoop;
        this.settings = new LinkSession.Settings(true, PING_INTERVAL_NANOS, PONG_TIMEOUT_NANOS, 0, 0, handshakeNanos);
    }

    /** Starts filling the idle pools of {@code loops}. Thread-safe. */
    public void warm(List<EventLoop> loops) {
        if (idlePerLoop > 0) {
            loops.forEach(loop -> loop.execute(() -> pool(loop).refill()));
        }
    }

    /**
     * Stops keeping links ready (the settings changed): closes the idle ones and refills no more. Tunnels already
     * carried go on. Thread-safe.
     */
    public void retire(List<EventLoop> loops) {
        loops.forEach(loop -> loop.execute(() -> pool(loop).retire()));
    }

    private LinkPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, l -> new LinkPool(l, idlePerLoop, remote,
                () -> new LinkAttempt(l, null, null).begin()));
    }

    @Override
    public Attempt connect(EventLoop loop, Destination destination, Callback callback) {
        if (idlePerLoop > 0) {
            LinkPool pool = pool(loop);
            LinkSession ready = pool.take();
            pool.refill();
            if (ready != null) {
                return new LinkAttempt(loop, destination, callback).openOn(ready);
            }
        }
        LinkAttempt attempt = new LinkAttempt(loop, destination, callback);
        attempt.begin();
        return attempt;
    }

    /** Hands free handshake slots to waiting attempts, each started on its own loop. */
    private void startWaiting() {
        while (!waiting.isEmpty()) {
            if (handshaking.incrementAndGet() > MAX_HANDSHAKES) {
                handshaking.decrementAndGet();
                return;
            }
            LinkAttempt next = waiting.poll();
            if (next == null) {
                handshaking.decrementAndGet();
                return;
            }
            next.loop.execute(next::startIfWaiting);
        }
    }

    /**
     * One tunnel's way to the remote, or one pool link's: dial, handshake, then OPEN on the new session (or on a
     * pool's), under one deadline. Confined to its loop.
     */
    private final class LinkAttempt implements Attempt, LinkClientHandshake.Outcome, LinkSession.OpenCallback {
        private final EventLoop loop;
        private final Destination destination;
        private final Callback callback;
        /** Dialled for a pool: its failures go to the pool, not to a tunnel. */
        private final boolean pooled;
        private Timer deadline;
        private Dialer.Dial dial;
        private LinkClientHandshake handshake;
        private LinkSession session;
        private boolean holdsSlot;
        private boolean done;

        LinkAttempt(EventLoop loop, Destination destination, Callback callback) {
            this.loop = loop;
            this.destination = destination;
            this.callback = callback;
            this.pooled = destination == null;
        }

        void begin() {
            deadline = loop.schedule(handshakeNanos, this::timedOut);
            if (handshaking.incrementAndGet() <= MAX_HANDSHAKES) {
                start();
            } else {
                handshaking.decrementAndGet();
                waiting.add(this);
                startWaiting();     // a slot may have freed meanwhile
            }
        }

        /** Started from the queue: the slot is taken already; give it back if the attempt ended meanwhile. */
        void startIfWaiting() {
            if (done) {
                handshaking.decrementAndGet();
                startWaiting();
                return;
            }
            start();
        }

        private void start() {
            holdsSlot = true;
            dial = dialer.dial(loop, remote, new Dialer.Callback() {
                @Override
                public void connected(SocketPort socket) {
                    dial = null;
                    TlsPort secured = tls == null ? null
                            : new TlsPort(loop, socket, tls.engine(remote.host(), remote.port()), blocking);
                    handshake = new LinkClientHandshake(loop, secured != null ? secured : socket,
                            new ScramClient(credentials, random, tls != null), blocking, LinkAttempt.this);
                    handshake.start(handshakeNanos);
                    if (secured != null) {
                        secured.start();
                    }
                }

                @Override
                public void failed(TunnelOutcome outcome, String reason) {
                    dial = null;
                    LinkAttempt.this.failed(TunnelOutcome.GENERAL_FAILURE, "remote gateway " + remote
                            + " unreachable: " + reason, LinkClientHandshake.Refusal.NONE);
                }
            });
        }

        /** Opens this attempt's tunnel on a ready session. {@return this} */
        LinkAttempt openOn(LinkSession ready) {
            deadline = loop.schedule(handshakeNanos, this::timedOut);
            session = ready;
            ready.open(destination, this);
            return this;
        }

        @Override
        public void authenticated(Port port, ByteBuffer unsent, ByteBuffer leftover) {
            handshake = null;
            releaseSlot();
            LinkSession.CloseListener listener = pooled ? pool(loop) : (s, reason) -> { };
            LinkSession fresh = new LinkSession(loop, port, buffers, settings, leftover, null, listener);
            fresh.start(unsent);
            if (fresh.isClosed()) {
                failed(TunnelOutcome.GENERAL_FAILURE, "the link closed at once",
                        LinkClientHandshake.Refusal.NONE);
                return;
            }
            if (pooled) {
                done = true;
                deadline.cancel();
                pool(loop).ready(fresh);
                return;
            }
            session = fresh;
            fresh.open(destination, this);
        }

        @Override
        public void opened(LinkStream stream, InetSocketAddress bound) {
            if (done) {
                stream.reset();
                return;
            }
            done = true;
            deadline.cancel();
            callback.connected(new Upstream(stream, bound));
        }

        @Override
        public void failed(TunnelOutcome outcome, String reason) {
            failed(outcome, reason, outcome == TunnelOutcome.LINK_AUTH_FAILED
                    ? LinkClientHandshake.Refusal.CREDENTIALS : LinkClientHandshake.Refusal.NONE);
        }

        @Override
        public void failed(TunnelOutcome outcome, String reason, LinkClientHandshake.Refusal refusal) {
            if (done) {
                return;
            }
            boolean refused = refusal != LinkClientHandshake.Refusal.NONE;
            if (refused) {
                long now = System.nanoTime();
                long last = lastRefusalLog.get();
                if (now - last > Duration.ofMinutes(1).toNanos() && lastRefusalLog.compareAndSet(last, now)) {
                    if (refusal == LinkClientHandshake.Refusal.CERTIFICATE) {
                        log.warn("the link to {} was refused: {}; tunnels fail until this is fixed", remote, reason);
                    } else {
                        log.warn("the remote gateway {} refused the credentials of user {}: tunnels fail until they"
                                + " are fixed", remote, LogText.escape(credentials.user()));
                    }
                }
            }
            cancel();
            if (!pooled) {
                callback.failed(outcome, reason);
            } else {
                debugLink("pool link to {} failed: {}", remote, reason);
                pool(loop).dialFailed(refused);
            }
        }

        private void timedOut() {
            failed(TunnelOutcome.GENERAL_FAILURE, "the remote gateway did not complete the link handshake in time",
                    LinkClientHandshake.Refusal.NONE);
        }

        private void releaseSlot() {
            if (holdsSlot) {
                holdsSlot = false;
                handshaking.decrementAndGet();
                startWaiting();
            }
        }

        @Override
        public void cancel() {
            done = true;
            releaseSlot();
            if (deadline != null) {
                deadline.cancel();
            }
            if (dial != null) {
                dial.cancel();
                dial = null;
            }
            if (handshake != null) {
                handshake.cancel();
                handshake = null;
            }
            if (session != null) {
                session.close("the tunnel was abandoned");
                session = null;
            }
        }
    }

    private void debugLink(String format, Object a, Object b) {
        if (log.isDebugEnabled()) {
            log.debug(format, a, b);
        }
    }
}
