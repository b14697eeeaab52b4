package io.relaygate.core.tunnel;

import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.link.FrameDecoder;
import io.relaygate.core.link.Frames;
import io.relaygate.core.link.LinkMessages;
import io.relaygate.core.link.LinkProtocolException;
import io.relaygate.core.link.ScramServer;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote role's side of one link connection: the preamble, the SCRAM exchange (the account lookup off the
 * loop), then OPEN: the destination policy, the dial, OPEN_RESULT, and the relay. Confined to its loop.
 */
final class LinkServerConnection implements IoHandler, FrameDecoder.Handler {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.link");

    private enum Step { PREAMBLE, HELLO, PROOF, OPEN, DIALING, CLOSING, DONE }

    private final EventLoop loop;
    private final TunnelServices services;
    private final Dialer dialer;
    private final ScramServer scram;
    private final SocketChannel channel;
    private final InetSocketAddress client;
    private final TunnelRecord record;
    private final FrameDecoder decoder = new FrameDecoder();
    private final ByteBuffer in = ByteBuffer.allocate(4096);
    private SelectionKey key;
    private Step step = Step.PREAMBLE;
    private final PendingWrites out = new PendingWrites();
    private Timer deadline;
    private Dialer.Dial dial;
    private boolean closed;
    /** An idle link hears a PING every 15 s from a live local; three missed ones mean the local is gone (F7). */
    private static final long SILENT_LINK_NANOS = 45_000_000_000L;
    /** How long a new link may stay idle before it counts against its user's cap of idle links. */
    private static final long SETTLE_NANOS = 2_000_000_000L;
    /** The failure reason of a refused link login; one bounded label for the metrics. */
    private static final String FAILED_LOGIN = "link: authentication failed";
    private Timer idleLink;
    private long lastFrame;
    private long authenticatedAt;
    /** Whether this link sits in the user's session registry, which every way out must undo. */
    private boolean registered;

    LinkServerConnection(EventLoop loop, TunnelServices services, Dialer dialer, Supplier<ScramServer> scram,
                         SocketChannel channel, InetSocketAddress client, ConnectionLimits.Permit permit) {
        this.loop = loop;
        this.services = services;
        this.dialer = dialer;
        this.scram = scram.get();
        this.channel = channel;
        this.client = client;
        this.record = new TunnelRecord(client, permit, System.nanoTime());
        record.protocol = "link";
    }

    void start() {
        try {
            key = loop.register(channel, SelectionKey.OP_READ, this);
        } catch (IOException e) {
            close(true);
            return;
        }
        deadline = loop.schedule(services.handshakeTimeoutNanos(), () -> {
            services.debug("{}: link handshake deadline ({})", record, step);
            close(true);
        });
    }

    @Override
    public void ready(SelectionKey readyKey) throws IOException, LinkProtocolException {
        if (readyKey.isWritable()) {
            flush();
        }
        if (!readyKey.isValid() || !readyKey.isReadable() || step == Step.DIALING || step == Step.CLOSING
                || step == Step.DONE) {
            return;
        }
        int n = channel.read(in);
        if (n < 0) {
            close(false);
            return;
        }
        in.flip();
        try {
            if (step == Step.PREAMBLE && !preamble()) {
                return;
            }
            decoder.decode(in, this);
        } finally {
            if (step != Step.DONE) {
                in.compact();
            }
        }
    }

    private boolean preamble() {
        if (in.remaining() < Frames.PREAMBLE_BYTES) {
            return false;
        }
        int magic = in.getInt();
        int version = in.get() & 0xFF;
        in.get();
        if (magic != Frames.MAGIC) {
            close(true);    // not a link client: no reply
            return false;
        }
        if (version != Frames.VERSION) {
            closeAfter(Frames.error(Frames.ERROR_UNSUPPORTED_VERSION, "this gateway speaks link version "
                    + Frames.VERSION));
            return false;
        }
        step = Step.HELLO;
        return true;
    }

    @Override
    public void onFrame(int type, int flags, int stream, ByteBuffer payload) throws LinkProtocolException {
        lastFrame = System.nanoTime();
        switch (step) {
            case HELLO -> {
                require(type, Frames.CLIENT_HELLO);
                hello(payload);
            }
            case PROOF -> {
                require(type, Frames.CLIENT_PROOF);
                proof(payload);
            }
            case OPEN -> {
                if (type == Frames.PING) {
                    send(Frames.frame(Frames.PONG, 0, bytes(payload)));
                } else if (type != Frames.PONG) {
                    require(type, Frames.OPEN);
                    open(stream, payload);
                }
            }
            default -> throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame " + type);
        }
    }

    private static void require(int type, int expected) throws LinkProtocolException {
        if (type != expected) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "expected frame " + expected + ", got " + type);
        }
    }

    private void hello(ByteBuffer payload) {
        byte[] hello = bytes(payload);
        step = Step.PROOF;
        key.interestOps(0);
        if (services.damper().refuses(client.getAddress())) {
            refuseDamped();
            return;
        }
        // The account lookup is JDBC: off the loop.
        boolean accepted = Offload.submit(services.blocking(), loop, () -> {
            byte[] challenge = scram.challenge(ByteBuffer.wrap(hello));
            AuthDamper.Verdict verdict = services.damper().check(client.getAddress(), scram.user());
            return () -> {
                if (step != Step.PROOF) {
                    return;
                }
                if (verdict == AuthDamper.Verdict.REFUSE) {
                    refuseDamped();
                } else if (verdict == AuthDamper.Verdict.DELAY) {
                    loop.schedule(AuthDamper.DELAY_NANOS, () -> {
                        if (step == Step.PROOF) {
                            send(Frames.frame(Frames.SERVER_CHALLENGE, 0, challenge));
                        }
                    });
                } else {
                    send(Frames.frame(Frames.SERVER_CHALLENGE, 0, challenge));
                }
            };
        }, e -> {
            if (e instanceof LinkProtocolException protocolViolation) {
                protocolError(protocolViolation);
            } else {
                log.warn("link from {}: the account store failed: {}", LogText.address(client), e.toString());
                closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "account store unavailable"));
            }
        });
        if (!accepted) {
            closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "overloaded"));
        }
    }

    private void proof(ByteBuffer payload) {
        byte[] outcome = scram.verify(payload);
        if (!scram.accepted()) {
            services.damper().failed(client.getAddress(), scram.user());
            services.stats().handshakeFailed(FAILED_LOGIN);
            long dropped = services.damper().logAllowance();
            if (dropped >= 0) {
                log.info("link from {}: authentication failed for user {} ({}){}", LogText.address(client),
                        LogText.escape(scram.user()), scram.refusal(), LogBudget.note(dropped));
            }
            closeAfter(Frames.frame(Frames.SERVER_OUTCOME, 0, outcome));
            return;
        }
        services.damper().succeeded(client.getAddress(), scram.user());
        record.permit.endHandshake();
        deadline.cancel();
        record.user = scram.user();
        if (services.sessions() != null) {
            // An idle authenticated link of a user disabled meanwhile must not open anything.
            services.sessions().registerLink(record.user, this, loop, () -> close(false));
            registered = true;
            // One user's idle links are capped, so that they cannot fill the gateway's connection cap for everyone
            // else; a link counts once it has stayed idle past the grace time (a tunnel's link opens at once).
            loop.schedule(Math.min(SETTLE_NANOS, services.handshakeTimeoutNanos()), this::settle);
        }
        services.shaping().loggedIn(record.user, scram.rate());
        step = Step.OPEN;
        lastFrame = System.nanoTime();
        authenticatedAt = lastFrame;
        idleLink = loop.schedule(Math.min(SILENT_LINK_NANOS, services.timeouts().idleLink().toNanos()),
                this::checkIdleLink);
        services.debug("{}: link authenticated as {}", record, LogText.escape(scram.user()));
        send(Frames.frame(Frames.SERVER_OUTCOME, 0, outcome));
    }

    private void settle() {
        if (step != Step.OPEN || !registered) {
            return;
        }
        int max = services.limits().maxIdleLinksPerUser();
        if (!services.sessions().settleLink(record.user, this, max)) {
            services.stats().handshakeFailed("link: too many idle links");
            long dropped = services.damper().logAllowance();
            if (dropped >= 0) {
                log.info("link from {}: user {} already holds {} idle links, this one closed{}",
                        LogText.address(client), LogText.escape(record.user), max, LogBudget.note(dropped));
            }
            closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "too many idle links for this user (at most " + max
                    + ")"));
        }
    }

    /**
     * Ends a link whose local went silent (a live one pings every 15 s), and one that has carried no stream for
     * {@code timeouts.idleLink} even though it pings: an idle link costs a connection slot.
     */
    private void checkIdleLink() {
        if (step != Step.OPEN) {
            return;
        }
        long now = System.nanoTime();
        long quiet = now - lastFrame;
        long unused = now - authenticatedAt;
        long unusedLimit = services.timeouts().idleLink().toNanos();
        if (quiet >= SILENT_LINK_NANOS) {
            services.debug("{}: idle link silent for {} s, closed", record, quiet / 1_000_000_000L);
            close(false);
        } else if (unused >= unusedLimit) {
            services.debug("{}: link opened no stream for {} s, closed", record, unused / 1_000_000_000L);
            closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "idle link closed"));
        } else {
            idleLink = loop.schedule(Math.min(SILENT_LINK_NANOS - quiet, unusedLimit - unused), this::checkIdleLink);
        }
    }

    private void open(int stream, ByteBuffer payload) throws LinkProtocolException {
        if (idleLink != null) {
            idleLink.cancel();
        }
        if (stream != 1) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "version 1 opens stream 1 only");
        }
        Destination destination = LinkMessages.open(payload);
        record.destination = destination.toString();
        unregister();
        decoder.pause();
        step = Step.DIALING;
        key.interestOps(0);
        dial = dialer.dial(loop, destination, new Dialer.Callback() {
            @Override
            public void connected(SocketChannel upstream, SelectionKey upstreamKey) {
                dial = null;
                opened(upstream, upstreamKey);
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                dial = null;
                services.stats().tunnelFailed(outcome.name());
                services.debug("{}: open failed: {}", record, reason);
                record.outcome = outcome.name();
                services.accessLog(record);
                closeAfter(Frames.frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(outcome, null)));
            }
        });
    }

    private void opened(SocketChannel upstream, SelectionKey upstreamKey) {
        if (step != Step.DIALING) {
            Sockets.close(upstream);
            return;
        }
        InetSocketAddress bound;
        try {
            bound = (InetSocketAddress) upstream.getLocalAddress();
        } catch (IOException e) {
            Sockets.close(upstream);
            closeAfter(Frames.frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(TunnelOutcome.GENERAL_FAILURE,
                    null)));
            return;
        }
        out.add(Frames.frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(TunnelOutcome.OK, bound)));
        ByteBuffer pending = out.take();
        step = Step.DONE;
        // The raw side is the destination; the link's leftover bytes (none in version 1) go to the relay.
        new RemoteRelayStart(upstream, upstreamKey, pending).run();
    }

    /** Hands the connection to a relay: OPEN_RESULT first on the link, then the stream's DATA. */
    private final class RemoteRelayStart implements Runnable {
        private final SocketChannel upstream;
        private final SelectionKey upstreamKey;
        private final ByteBuffer openResult;

        RemoteRelayStart(SocketChannel upstream, SelectionKey upstreamKey, ByteBuffer openResult) {
            this.upstream = upstream;
            this.upstreamKey = upstreamKey;
            this.openResult = openResult;
        }

        @Override
        public void run() {
            try {
                channel.write(openResult);
            } catch (IOException e) {
                Sockets.close(upstream);
                close(true);
                return;
            }
            ByteBuffer unsent = openResult.hasRemaining() ? openResult : null;
            new FramedRelay(loop, services, record, upstream, upstreamKey, channel, key, 1, null, null, in.flip(),
                    false).startWithLinkPrefix(unsent);
        }
    }

    private void unregister() {
        if (registered) {
            registered = false;
            services.sessions().unregister(record.user, this);
        }
    }

    private void refuseDamped() {
        services.stats().handshakeFailed("link: authentication damped");
        long dropped = services.damper().logAllowance();
        if (dropped >= 0) {
            log.info("link from {}: too many failed logins, refused without checking{}", LogText.address(client),
                    LogBudget.note(dropped));
        }
        closeAfter(Frames.error(Frames.ERROR_AUTHENTICATION, "too many failed logins; try again later"));
    }

    private void protocolError(LinkProtocolException e) {
        services.debug("{}: link protocol error: {}", record, e.getMessage());
        closeAfter(Frames.error(e.errorCode(), e.getMessage()));
    }

    @Override
    public void failed(Throwable cause) {
        if (cause instanceof LinkProtocolException e && step != Step.DONE) {
            protocolError(e);
        } else {
            close(true);
        }
    }

    private static byte[] bytes(ByteBuffer payload) {
        byte[] copy = new byte[payload.remaining()];
        payload.get(copy);
        return copy;
    }

    private void send(ByteBuffer bytes) {
        out.add(bytes);
        try {
            flush();
        } catch (IOException e) {
            close(true);
        }
    }

    private void flush() throws IOException {
        boolean pending = !out.flush(channel);
        if (step == Step.CLOSING && !pending) {
            close(false);
            return;
        }
        if (key.isValid() && step != Step.DONE) {
            boolean reading = step == Step.PREAMBLE || step == Step.HELLO || step == Step.PROOF || step == Step.OPEN;
            key.interestOps((reading ? SelectionKey.OP_READ : 0) | (pending ? SelectionKey.OP_WRITE : 0));
        }
    }

    private void closeAfter(ByteBuffer last) {
        if (step == Step.DONE || step == Step.CLOSING) {
            return;
        }
        step = Step.CLOSING;
        send(last);
    }

    private void close(boolean reset) {
        if (closed) {
            return;
        }
        closed = true;
        unregister();
        step = Step.DONE;
        if (dial != null) {
            dial.cancel();
        }
        if (deadline != null) {
            deadline.cancel();
        }
        if (idleLink != null) {
            idleLink.cancel();
        }
        if (key != null) {
            key.cancel();
        }
        if (reset) {
            Sockets.reset(channel);
        } else {
            Sockets.close(channel);
        }
        record.permit.release();
    }

}
