package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.net.TlsPort;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.outbound.DatagramPath;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.wire.LinkCredentials;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.LinkProtocolException;
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
 * The local role's connector: each tunnel is a stream of a link to the remote gateway (docs/link-protocol.md,
 * version 2). Each event loop keeps a {@link LinkPool} of authenticated links ({@link LinkClientHandshake}); a tunnel
 * OPENs its destination on the least loaded one, and the remote's OPEN_RESULT becomes the tunnel's outcome and the
 * stream its upstream port: one round trip on a warm link. Thread-safe; each attempt and each pool is confined to
 * its loop.
 */
public final class LinkConnector implements Connector {

    private static final Logger log = LoggerFactory.getLogger(LinkConnector.class);
    /**
     * Link handshakes in flight at once. The remote caps unauthenticated connections per source address (32 by
     * default); a burst of new links waits for a slot here instead of being cut off there.
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
    /** The TLS ports' buffers, shared by this connector's links; null without TLS. */
    private final BufferPool records;
    private final long handshakeNanos;
    private final LinkSession.Settings settings;
    private final int linksPerLoop;
    private final LinkHealth health = new LinkHealth();
    private final ExposedServices exposed;
    /** What the remote opens on these links: streams for the exposed services' visitors, nothing else. */
    private final LinkSession.Acceptor remoteOpens = new RemoteOpens();
    /** Set once these links are retired: their links no longer take the exposed services. */
    private volatile boolean retired;
    private final SecureRandom random = new SecureRandom();
    /** When the last authentication refusal was logged, so a misconfigured local warns once a minute, not per link. */
    private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - Duration.ofHours(1).toNanos());
    private final AtomicInteger handshaking = new AtomicInteger();
    private final Queue<PoolDial> waiting = new ConcurrentLinkedQueue<>();
    private final Map<EventLoop, LinkPool> pools = new ConcurrentHashMap<>();

    /**
     * @param tls          the link's TLS, trusting the remote as configured; null for a plaintext link
     * @param linksPerLoop authenticated links each event loop keeps to the remote (at least 1)
     * @param maxStreams   the streams the remote may open on one link at once (it opens none yet)
     * @param windows      the bytes the remote may send on a stream before this side grants more, and their growth
     * @param exposed      the services this local exposes through the remote, or null for none
     */
    public LinkConnector(Destination remote, Dialer dialer, LinkCredentials credentials, Executor blocking,
                         BufferPool buffers, LinkTls tls, Duration handshakeTimeout, int linksPerLoop,
                         int maxStreams, StreamWindows windows, ExposedServices exposed) {
        this.exposed = exposed;
        this.tls = tls;
        this.records = tls == null ? null
                : TlsPort.buffers(tls.engine(remote.host(), remote.port()), LinkServerHandshake.TLS_BUFFERS_POOLED);
        this.remote = remote;
        this.dialer = dialer;
        this.credentials = credentials;
        this.blocking = blocking;
        this.buffers = buffers;
        this.handshakeNanos = handshakeTimeout.toNanos();
        this.linksPerLoop = Math.max(1, linksPerLoop);
        this.settings = new LinkSession.Settings(true, PING_INTERVAL_NANOS, PONG_TIMEOUT_NANOS, 0, 0, handshakeNanos,
                maxStreams, windows);
    }

    /** Starts filling the link pools of {@code loops}. Thread-safe. */
    public void warm(List<EventLoop> loops) {
        loops.forEach(loop -> loop.execute(() -> pool(loop).refill()));
    }

    /**
     * Stops using these links (the settings changed): they take no new stream and close once the tunnels they carry
     * have ended; none is dialled again. Thread-safe.
     */
    public void retire(List<EventLoop> loops) {
        retired = true;
        loops.forEach(loop -> loop.execute(() -> pool(loop).retire()));
    }

    /** {@return the links' health, as the pools last published it} */
    public LinkHealth.Snapshot health() {
        return health.snapshot();
    }

    private LinkPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, l -> new LinkPool(l, linksPerLoop, remote,
                () -> new PoolDial(l).begin(), health));
    }

    @Override
    public Attempt connect(EventLoop loop, Destination destination, Callback callback) {
        TunnelAttempt attempt = new TunnelAttempt(loop, destination, callback);
        attempt.begin();
        return attempt;
    }

    /**
     * A UDP association's path: a stream of datagram records on a link of the loop's pool, opened as a tunnel is
     * (OPEN without an address); the remote sends the datagrams on and returns the replies.
     */
    @Override
    public Attempt datagrams(EventLoop loop, DatagramPath.Receiver receiver, DatagramPath.Callback callback) {
        TunnelAttempt attempt = new TunnelAttempt(loop, null, new Callback() {
            @Override
            public void connected(Upstream upstream) {
                callback.ready(new StreamDatagrams(upstream.port(), (address, payload) -> {
                    if (address.isName()) {
                        receiver.dropped("malformed");      // a reply's source is an address, never a name
                    } else {
                        receiver.received(StreamDatagrams.socketAddress(address), payload);
                    }
                }, receiver));
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                callback.failed(outcome, reason);
            }
        });
        attempt.begin();
        return attempt;
    }

    /** Hands free handshake slots to waiting dials, each started on its own loop. */
    private void startWaiting() {
        while (!waiting.isEmpty()) {
            if (handshaking.incrementAndGet() > MAX_HANDSHAKES) {
                handshaking.decrementAndGet();
                return;
            }
            PoolDial next = waiting.poll();
            if (next == null) {
                handshaking.decrementAndGet();
                return;
            }
            next.loop.execute(next::startIfWaiting);
        }
    }

    /**
     * One tunnel (or, without a destination, one datagram stream): a link from the loop's pool, OPEN, OPEN_RESULT,
     * under one deadline. Confined to its loop.
     */
    private final class TunnelAttempt implements Attempt, LinkPool.Waiter, LinkSession.OpenCallback {
        private final EventLoop loop;
        private final Destination destination;
        private final Callback callback;
        private Timer deadline;
        private boolean retried;
        private boolean done;

        TunnelAttempt(EventLoop loop, Destination destination, Callback callback) {
            this.loop = loop;
            this.destination = destination;
            this.callback = callback;
        }

        void begin() {
            deadline = loop.schedule(handshakeNanos, this::timedOut);
            pool(loop).submit(this);
        }

        @Override
        public void linkReady(LinkSession session) {
            if (!done) {
                session.open(destination, this);
            }
        }

        @Override
        public void linkFailed(TunnelOutcome outcome, String reason) {
            finish(outcome, reason);
        }

        @Override
        public void opened(LinkStream stream, InetSocketAddress bound) {
            if (done) {
                stream.reset();             // abandoned while the remote connected
                return;
            }
            done = true;
            deadline.cancel();
            callback.connected(new Upstream(stream, bound));
        }

        @Override
        public void failed(TunnelOutcome outcome, String reason, boolean retry) {
            if (retry && !retried && !done) {
                retried = true;             // that link is going away or full: once more, on another
                pool(loop).submit(this);
                return;
            }
            finish(outcome, reason);
        }

        private void timedOut() {
            pool(loop).withdraw(this);
            finish(TunnelOutcome.GENERAL_FAILURE, "the remote gateway did not answer in time");
        }

        private void finish(TunnelOutcome outcome, String reason) {
            if (done) {
                return;
            }
            done = true;
            deadline.cancel();
            callback.failed(outcome, reason);
        }

        @Override
        public void cancel() {
            if (!done) {
                done = true;
                deadline.cancel();
                pool(loop).withdraw(this);
            }
        }
    }

    /** One link for a pool: dial, TLS, handshake, under one deadline. Confined to its loop. */
    private final class PoolDial implements LinkClientHandshake.Outcome {
        private final EventLoop loop;
        private Timer deadline;
        private Dialer.Dial dial;
        private LinkClientHandshake handshake;
        private boolean holdsSlot;
        private boolean done;

        PoolDial(EventLoop loop) {
            this.loop = loop;
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

        /** Started from the queue: the slot is taken already; give it back if the dial ended meanwhile. */
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
                            : new TlsPort(loop, socket, tls.engine(remote.host(), remote.port()), blocking, records);
                    handshake = new LinkClientHandshake(loop, secured != null ? secured : socket,
                            new ScramClient(credentials, random, tls != null), blocking, PoolDial.this);
                    handshake.start(handshakeNanos);
                    if (secured != null) {
                        secured.start();
                    }
                }

                @Override
                public void failed(TunnelOutcome outcome, String reason) {
                    dial = null;
                    PoolDial.this.failed(TunnelOutcome.GENERAL_FAILURE, "remote gateway " + remote
                            + " unreachable: " + reason, LinkClientHandshake.Refusal.NONE);
                }
            });
        }

        @Override
        public void authenticated(Port port, ByteBuffer unsent, ByteBuffer leftover, int maxStreams) {
            handshake = null;
            releaseSlot();
            done = true;
            deadline.cancel();
            LinkPool pool = pool(loop);
            LinkSession session = new LinkSession(loop, port, buffers, settings, maxStreams, leftover,
                    remoteOpens, exposed == null ? pool : new ExposedDeparture(pool));
            session.start(unsent);
            if (session.isClosed()) {
                pool.dialFailed(TunnelOutcome.GENERAL_FAILURE, "the link closed at once", false,
                        "the link closed at once");
                return;
            }
            pool.ready(session);
            if (exposed != null && !retired) {
                exposed.linkUp(session, loop);
            }
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
            } else if (log.isDebugEnabled()) {
                log.debug("link to {} failed: {}", remote, reason);
            }
            cancel();
            String problem = refusal == LinkClientHandshake.Refusal.CREDENTIALS ? "credentials refused: " + reason
                    : refusal == LinkClientHandshake.Refusal.CERTIFICATE ? "certificate refused: " + reason : reason;
            pool(loop).dialFailed(outcome, reason, refused, problem);
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

        private void cancel() {
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
        }
    }

    /** The remote's OPENs and registration answers: to the exposed services, or refused and counted. */
    private final class RemoteOpens implements LinkSession.Acceptor {
        @Override
        public void open(LinkSession link, int stream, LinkMessages.Open request) {
            if (exposed != null && exposed.exposes(request.service())) {
                exposed.open(link, stream, request);
            } else {
                health.refusedOpen();
                link.refuse(stream, TunnelOutcome.NOT_ALLOWED);
            }
        }

        @Override
        public void registration(LinkSession link, int type, ByteBuffer payload) throws LinkProtocolException {
            if (exposed == null) {
                LinkSession.Acceptor.super.registration(link, type, payload);
            } else {
                exposed.registration(link, type, payload);
            }
        }
    }

    /** A link leaving its pool also leaves the exposed services, which move to another link if it held them. */
    private final class ExposedDeparture implements LinkSession.CloseListener {
        private final LinkPool pool;

        ExposedDeparture(LinkPool pool) {
            this.pool = pool;
        }

        @Override
        public void closed(LinkSession link, String reason) {
            pool.closed(link, reason);
            exposed.linkDown(link);
        }

        @Override
        public void goingAway(LinkSession link) {
            pool.goingAway(link);
            exposed.linkDown(link);
        }
    }
}
