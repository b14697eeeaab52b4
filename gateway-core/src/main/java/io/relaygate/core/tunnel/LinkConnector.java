package io.relaygate.core.tunnel;

import io.relaygate.core.policy.LogText;
import io.relaygate.core.link.FrameDecoder;
import io.relaygate.core.link.Frames;
import io.relaygate.core.link.LinkCredentials;
import io.relaygate.core.link.LinkMessages;
import io.relaygate.core.link.LinkProtocolException;
import io.relaygate.core.link.ScramClient;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local role's connector: each tunnel goes over a link to the remote gateway (docs/link-protocol.md, version 1:
 * one stream per link connection). A link is dialled, authenticated, and asked to OPEN the destination; the
 * remote's typed OPEN_RESULT becomes the tunnel's outcome. Thread-safe; each link attempt is confined to its loop.
 */
public final class LinkConnector implements Connector {

    private static final Logger log = LoggerFactory.getLogger(LinkConnector.class);
    private static final int STREAM = 1;
    /**
     * Link handshakes in flight at once. The remote caps unauthenticated connections per source address (32 by
     * default); a burst of new tunnels waits for a slot here instead of being cut off there.
     */
    private static final int MAX_HANDSHAKES = 16;

    private final Destination remote;
    private final Dialer dialer;
    private final LinkCredentials credentials;
    private final Executor blocking;
    private final long handshakeNanos;
    private final SecureRandom random = new SecureRandom();
    /** When the last authentication refusal was logged, so a misconfigured local warns once a minute, not per tunnel. */
    private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - Duration.ofHours(1).toNanos());
    private final java.util.concurrent.atomic.AtomicInteger handshaking = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.Queue<LinkAttempt> waiting = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final long PING_INTERVAL_NANOS = Duration.ofSeconds(15).toNanos();
    private static final long PONG_TIMEOUT_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long MIN_BACKOFF_NANOS = Duration.ofMillis(100).toNanos();
    private static final long MAX_BACKOFF_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long AUTH_REFUSED_BACKOFF_NANOS = Duration.ofSeconds(60).toNanos();
    private final int idlePerLoop;
    private final java.util.Map<EventLoop, LoopPool> pools = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param idlePerLoop authenticated idle links each event loop keeps ready, so a new tunnel skips the
     *                    authentication round trips; 0 for none
     */
    public LinkConnector(Destination remote, Dialer dialer, LinkCredentials credentials, Executor blocking,
                         Duration handshakeTimeout, int idlePerLoop) {
        this.idlePerLoop = idlePerLoop;
        this.remote = remote;
        this.dialer = dialer;
        this.credentials = credentials;
        this.blocking = blocking;
        this.handshakeNanos = handshakeTimeout.toNanos();
    }

    /** Starts filling the idle pools of {@code loops}. Thread-safe. */
    public void warm(java.util.List<EventLoop> loops) {
        if (idlePerLoop > 0) {
            loops.forEach(loop -> loop.execute(() -> pool(loop).refill()));
        }
    }

    /**
     * Stops keeping links ready (the settings changed): closes the idle ones and refills no more. Tunnels already
     * carried go on. Thread-safe.
     */
    public void retire(java.util.List<EventLoop> loops) {
        retired = true;
        loops.forEach(loop -> loop.execute(() -> pool(loop).drain()));
    }

    private volatile boolean retired;

    private LoopPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, LoopPool::new);
    }

    /**
     * One loop's idle links: authenticated, pinged while they wait, replaced when they die; refills back off
     * exponentially with jitter while the remote is unreachable. Confined to its loop.
     */
    private final class LoopPool {
        private final EventLoop loop;
        private final java.util.ArrayDeque<LinkAttempt> idle = new java.util.ArrayDeque<>();
        private int dialing;
        private int failures;
        private Timer retry;

        LoopPool(EventLoop loop) {
            this.loop = loop;
        }

        LinkAttempt take() {
            return idle.poll();
        }

        void refill() {
            if (retry != null || retired) {
                return;         // backing off, or replaced by new settings
            }
            while (idle.size() + dialing < idlePerLoop) {
                dialing++;
                LinkAttempt link = new LinkAttempt(loop, null, null);
                link.armDeadline();
                if (handshaking.incrementAndGet() <= MAX_HANDSHAKES) {
                    link.start();
                } else {
                    handshaking.decrementAndGet();
                    waiting.add(link);
                }
            }
        }

        void ready(LinkAttempt link) {
            dialing--;
            failures = 0;
            if (retired) {
                link.cancel();
                return;
            }
            idle.add(link);
        }

        void drain() {
            for (LinkAttempt link; (link = idle.poll()) != null; ) {
                link.cancel();
            }
            if (retry != null) {
                retry.cancel();
                retry = null;
            }
        }

        void idleLinkLost(LinkAttempt link) {
            idle.remove(link);
            refill();
        }

        /**
         * @param refused the remote refused our credentials: retrying sooner than its damping window would only
         *                get this address damped, for every user behind it
         */
        void dialFailed(boolean refused) {
            dialing--;
            failures++;
            long backoff = refused ? AUTH_REFUSED_BACKOFF_NANOS
                    : Math.min(MAX_BACKOFF_NANOS, MIN_BACKOFF_NANOS << Math.min(failures, 20));
            long jittered = backoff / 2 + (long) (random.nextDouble() * backoff / 2);
            if (retry == null) {
                retry = loop.schedule(jittered, () -> {
                    retry = null;
                    refill();
                });
            }
        }
    }

    @Override
    public Attempt connect(EventLoop loop, Destination destination, Callback callback) {
        if (idlePerLoop > 0) {
            LoopPool pool = pool(loop);
            LinkAttempt ready = pool.take();
            pool.refill();
            if (ready != null) {
                ready.assign(destination, callback);
                return ready;
            }
        }
        LinkAttempt attempt = new LinkAttempt(loop, destination, callback);
        attempt.armDeadline();
        if (handshaking.incrementAndGet() <= MAX_HANDSHAKES) {
            attempt.start();
        } else {
            handshaking.decrementAndGet();
            waiting.add(attempt);
            startWaiting();     // a slot may have freed meanwhile
        }
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

    private enum Step { DIALING, CHALLENGE, OUTCOME, READY, OPEN_RESULT, DONE }

    /** One link, from dial to OPEN_RESULT. */
    private final class LinkAttempt implements Attempt, IoHandler, FrameDecoder.Handler {
        private final EventLoop loop;
        private Destination destination;
        private Callback callback;
        /** A pool link until a tunnel takes it: its failures go to the pool, not to a tunnel. */
        private boolean pooled;
        private Timer pingTimer;
        private Timer pongDeadline;
        private final FrameDecoder decoder = new FrameDecoder();
        private final ScramClient scram;
        private final ByteBuffer in = ByteBuffer.allocate(4096);
        private Step step = Step.DIALING;
        private Dialer.Dial dial;
        private SocketChannel channel;
        private SelectionKey key;
        private Timer deadline;
        private final PendingWrites out = new PendingWrites();
        private boolean holdsSlot;

        LinkAttempt(EventLoop loop, Destination destination, Callback callback) {
            this.loop = loop;
            this.destination = destination;
            this.callback = callback;
            this.pooled = destination == null;
            this.scram = new ScramClient(credentials, random);
        }

        void armDeadline() {
            deadline = loop.schedule(handshakeNanos, () -> fail(TunnelOutcome.GENERAL_FAILURE,
                    "the remote gateway did not complete the link handshake in time"));
        }

        /** Started from the queue: the slot is taken already; give it back if the attempt ended meanwhile. */
        void startIfWaiting() {
            if (step == Step.DONE) {
                handshaking.decrementAndGet();
                startWaiting();
                return;
            }
            start();
        }

        void start() {
            holdsSlot = true;
            dial = dialer.dial(loop, remote, new Dialer.Callback() {
                @Override
                public void connected(SocketChannel connected, SelectionKey connectedKey) {
                    dial = null;
                    linkConnected(connected, connectedKey);
                }

                @Override
                public void failed(TunnelOutcome outcome, String reason) {
                    dial = null;
                    fail(TunnelOutcome.GENERAL_FAILURE, "remote gateway " + remote + " unreachable: " + reason);
                }
            });
        }

        private void linkConnected(SocketChannel connected, SelectionKey connectedKey) {
            channel = connected;
            key = connectedKey;
            key.attach(this);
            step = Step.CHALLENGE;
            ByteBuffer hello = Frames.frame(Frames.CLIENT_HELLO, 0, scram.hello());
            send(ByteBuffer.allocate(Frames.PREAMBLE_BYTES + hello.remaining()).put(Frames.preamble()).put(hello)
                    .flip());
        }

        @Override
        public void ready(SelectionKey readyKey) throws IOException, LinkProtocolException {
            if (readyKey.isWritable()) {
                flush();
            }
            if (step != Step.DONE && readyKey.isValid() && readyKey.isReadable()) {
                int n = channel.read(in);
                if (n < 0) {
                    fail(TunnelOutcome.GENERAL_FAILURE, "the remote gateway closed the link");
                    return;
                }
                in.flip();
                try {
                    decoder.decode(in, this);
                } finally {
                    if (step != Step.DONE) {
                        in.compact();
                    }
                }
            }
        }

        @Override
        public void onFrame(int type, int flags, int stream, ByteBuffer payload) throws LinkProtocolException {
            if (type == Frames.ERROR) {
                int code = payload.remaining() >= 2 ? payload.getShort() & 0xFFFF : 0;
                fail(code == Frames.ERROR_AUTHENTICATION ? TunnelOutcome.LINK_AUTH_FAILED
                        : TunnelOutcome.GENERAL_FAILURE, "the remote gateway sent ERROR " + code);
                return;
            }
            if (step == Step.READY) {
                if (type == Frames.PONG && pongDeadline != null) {
                    pongDeadline.cancel();
                } else if (type == Frames.PING) {
                    send(Frames.frame(Frames.PONG, 0, bytesOf(payload)));
                } else if (type != Frames.PONG) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame " + type + " on an idle link");
                }
                return;
            }
            switch (step) {
                case CHALLENGE -> expect(type, Frames.SERVER_CHALLENGE, () -> challenge(payload));
                case OUTCOME -> expect(type, Frames.SERVER_OUTCOME, () -> outcome(payload));
                case OPEN_RESULT -> expect(type, Frames.OPEN_RESULT, () -> openResult(payload, stream));
                default -> throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame " + type);
            }
        }

        private byte[] bytesOf(ByteBuffer payload) {
            byte[] copy = new byte[payload.remaining()];
            payload.get(copy);
            return copy;
        }

        private void expect(int type, int expected, ThrowingStep next) throws LinkProtocolException {
            if (type != expected) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "expected frame " + expected + ", got " + type);
            }
            next.run();
        }

        private void challenge(ByteBuffer payload) {
            byte[] copy = new byte[payload.remaining()];
            payload.get(copy);
            step = Step.OUTCOME;
            key.interestOps(0);
            // The first link derives the key (PBKDF2): never on the loop.
            boolean accepted = Offload.submit(blocking, loop, () -> {
                byte[] proof = scram.proof(ByteBuffer.wrap(copy));
                return () -> {
                    if (step == Step.OUTCOME) {
                        send(Frames.frame(Frames.CLIENT_PROOF, 0, proof));
                    }
                };
            }, e -> fail(TunnelOutcome.GENERAL_FAILURE, e.getMessage()));
            if (!accepted) {
                fail(TunnelOutcome.GENERAL_FAILURE, "overloaded");
            }
        }

        private void outcome(ByteBuffer payload) {
            if (!scram.accepted(payload)) {
                long now = System.nanoTime();
                long last = lastRefusalLog.get();
                if (now - last > Duration.ofMinutes(1).toNanos() && lastRefusalLog.compareAndSet(last, now)) {
                    log.warn("the remote gateway {} refused the credentials of user {}: tunnels fail until they are"
                            + " fixed", remote, LogText.escape(credentials.user()));
                }
                fail(TunnelOutcome.LINK_AUTH_FAILED, "the remote gateway refused the link credentials");
                return;
            }
            if (pooled) {
                step = Step.READY;
                releaseSlot();
                deadline.cancel();
                pool(loop).ready(this);
                pingTimer = loop.schedule(PING_INTERVAL_NANOS, this::ping);
                return;
            }
            step = Step.OPEN_RESULT;
            send(Frames.frame(Frames.OPEN, STREAM, LinkMessages.open(destination)));
        }

        /** A tunnel takes this idle link: OPEN goes out at once, no authentication round trip. Loop only. */
        void assign(Destination target, Callback tunnel) {
            pooled = false;
            destination = target;
            callback = tunnel;
            cancelPings();
            armDeadline();
            step = Step.OPEN_RESULT;
            send(Frames.frame(Frames.OPEN, STREAM, LinkMessages.open(destination)));
        }

        private void ping() {
            if (step != Step.READY) {
                return;
            }
            byte[] token = new byte[8];
            random.nextBytes(token);
            send(Frames.frame(Frames.PING, 0, token));
            pongDeadline = loop.schedule(PONG_TIMEOUT_NANOS, () -> fail(TunnelOutcome.GENERAL_FAILURE,
                    "an idle link did not answer its ping"));
            pingTimer = loop.schedule(PING_INTERVAL_NANOS, this::ping);
        }

        private void cancelPings() {
            if (pingTimer != null) {
                pingTimer.cancel();
            }
            if (pongDeadline != null) {
                pongDeadline.cancel();
            }
        }

        private void openResult(ByteBuffer payload, int stream) throws LinkProtocolException {
            if (stream != STREAM) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN_RESULT for stream " + stream);
            }
            LinkMessages.OpenResult result = LinkMessages.openResult(payload);
            if (result.outcome() != TunnelOutcome.OK) {
                fail(result.outcome(), "the remote gateway answered " + result.outcome());
                return;
            }
            decoder.pause();
            step = Step.DONE;
            releaseSlot();
            deadline.cancel();
            key.interestOps(0);
            // What follows OPEN_RESULT in this read is the stream's first frames: the relay takes it over.
            callback.connected(new Upstream(channel, key, result.bound(), STREAM, in));
        }

        private void send(ByteBuffer bytes) {
            out.add(bytes);
            try {
                flush();
            } catch (IOException e) {
                fail(TunnelOutcome.GENERAL_FAILURE, "link write failed: " + e.getMessage());
            }
        }

        private void flush() throws IOException {
            boolean drained = out.flush(channel);
            if (key.isValid() && step != Step.DONE) {
                key.interestOps(SelectionKey.OP_READ | (drained ? 0 : SelectionKey.OP_WRITE));
            }
        }

        @Override
        public void failed(Throwable cause) {
            if (cause instanceof LinkProtocolException e) {
                fail(TunnelOutcome.GENERAL_FAILURE, "link protocol: " + e.getMessage());
            } else if (cause instanceof Shutdown) {
                fail(TunnelOutcome.GENERAL_FAILURE, "gateway stopping");
            } else {
                fail(TunnelOutcome.GENERAL_FAILURE, "link failed: " + cause.getMessage());
            }
        }

        private void fail(TunnelOutcome outcome, String reason) {
            if (step == Step.DONE) {
                return;
            }
            boolean wasReady = step == Step.READY;
            cancel();
            if (!pooled) {
                callback.failed(outcome, reason);
            } else if (wasReady) {
                debugLink("idle link to {} lost: {}", remote, reason);
                pool(loop).idleLinkLost(this);
            } else {
                debugLink("pool link to {} failed: {}", remote, reason);
                pool(loop).dialFailed(outcome == TunnelOutcome.LINK_AUTH_FAILED);
            }
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
            step = Step.DONE;
            cancelPings();
            releaseSlot();
            if (deadline != null) {
                deadline.cancel();
            }
            if (dial != null) {
                dial.cancel();
                dial = null;
            }
            if (key != null) {
                key.cancel();
            }
            Sockets.close(channel);
        }
    }

    private void debugLink(String format, Object a, Object b) {
        if (log.isDebugEnabled()) {
            log.debug(format, a, b);
        }
    }

    @FunctionalInterface
    private interface ThrowingStep {
        void run() throws LinkProtocolException;
    }
}
