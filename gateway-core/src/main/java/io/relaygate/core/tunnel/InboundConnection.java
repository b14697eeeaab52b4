package io.relaygate.core.tunnel;

import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.AuthResult;
import io.relaygate.spi.Destination;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolEndpoint.Detection;
import io.relaygate.spi.ProtocolHandler;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.function.Consumer;

/**
 * One accepted client from its first byte until the relay takes over or the connection closes: detects the
 * protocol, runs the plugin's handshake under an absolute deadline, verifies passwords and dials off the loop, and
 * writes the reply. Confined to its event loop.
 */
final class InboundConnection implements IoHandler, HandshakeSession {

    /** Failed and refused logins: a line each within the damper's per-minute budget, shared with the link's. */
    private static final org.slf4j.Logger authLog = org.slf4j.LoggerFactory.getLogger("io.relaygate.auth");

    /** Handshake bytes buffered at most: above any protocol's own header limit, so the protocol answers first. */
    static final int MAX_HANDSHAKE_BYTES = 64 * 1024;

    private enum State { DETECTING, HANDSHAKING, WAITING, CLOSING, RELAYING, CLOSED }

    private final EventLoop loop;
    private final TunnelServices services;
    private final List<Protocol> protocols;
    private final boolean authRequired;
    private final SocketChannel channel;
    private final InetSocketAddress client;
    private final TunnelRecord record;
    private SelectionKey key;
    private State state = State.DETECTING;
    private ByteBuffer in = ByteBuffer.allocate(512);
    private final PendingWrites out = new PendingWrites();
    private ProtocolHandler handler;
    private Timer deadline;
    private Connector.Attempt dial;

    InboundConnection(EventLoop loop, TunnelServices services, List<Protocol> protocols, boolean authRequired,
                      SocketChannel channel, InetSocketAddress client, ConnectionLimits.Permit permit) {
        this.loop = loop;
        this.services = services;
        this.protocols = protocols;
        this.authRequired = authRequired;
        this.channel = channel;
        this.client = client;
        this.record = new TunnelRecord(client, permit, System.nanoTime());
    }

    /** Registers with the loop and starts the absolute handshake deadline. Loop only. */
    void start() {
        try {
            key = loop.register(channel, SelectionKey.OP_READ, this);
        } catch (IOException | RuntimeException e) {
            services.debug("{}: register failed: {}", record, e);
            fail("register failed");
            return;
        }
        // Absolute: set once at accept and never extended, so a client that drips bytes cannot hold the fd longer.
        deadline = loop.schedule(services.handshakeTimeoutNanos(), () -> fail("handshake deadline"));
    }

    @Override
    public void ready(SelectionKey key) throws IOException {
        if (key.isWritable()) {
            flushOut();
        }
        if (key.isValid() && key.isReadable() && (state == State.DETECTING || state == State.HANDSHAKING)) {
            read();
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (state == State.RELAYING) {
            return;
        }
        fail(cause instanceof Shutdown ? "gateway stopping" : "error: " + cause);
    }

    private void read() throws IOException {
        if (!in.hasRemaining()) {
            if (in.capacity() >= MAX_HANDSHAKE_BYTES) {
                fail("handshake too large");
                return;
            }
            in = ByteBuffer.allocate(Math.min(MAX_HANDSHAKE_BYTES, in.capacity() * 4)).put(in.flip());
        }
        int n = channel.read(in);
        if (n < 0) {
            fail("client closed during handshake");
            return;
        }
        if (n > 0) {
            process();
        }
    }

    private void process() {
        if (state == State.DETECTING && !detect()) {
            return;
        }
        if (state != State.HANDSHAKING || in.position() == 0) {
            return;
        }
        in.flip();
        try {
            handler.onBytes(in);
        } finally {
            in.compact();
        }
    }

    private boolean detect() {
        ByteBuffer peek = in.duplicate().flip().asReadOnlyBuffer();
        boolean needMore = false;
        for (Protocol protocol : protocols) {
            Detection detection = protocol.endpoint().detect(peek.duplicate());
            if (detection == Detection.MATCH) {
                record.protocol = protocol.name();
                handler = protocol.endpoint().newHandler(this);
                state = State.HANDSHAKING;
                return true;
            }
            needMore |= detection == Detection.NEED_MORE;
        }
        if (!needMore) {
            fail("unknown protocol");
        }
        return false;
    }

    // ---- HandshakeSession ----

    @Override
    public InetSocketAddress client() {
        return client;
    }

    @Override
    public boolean authenticationRequired() {
        return authRequired;
    }

    @Override
    public void send(ByteBuffer bytes) {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        out.add(bytes);
        try {
            flushOut();
        } catch (IOException e) {
            services.debug("{}: write failed: {}", record, e.getMessage());
            fail("write failed");
        }
    }

    @Override
    public void verifyPassword(String user, byte[] password, Consumer<AuthResult> result) {
        requireHandshaking();
        state = State.WAITING;
        updateInterest();
        AuthDamper.Verdict verdict = services.damper().check(client.getAddress(), user);
        if (verdict == AuthDamper.Verdict.REFUSE) {
            services.stats().handshakeFailed(record.protocol + ": authentication damped");
            long dropped = services.damper().logAllowance();
            if (dropped >= 0) {
                authLog.info("{} from {}: too many failed logins, refused without checking{}", record.protocol,
                        LogText.address(client), LogBudget.note(dropped));
            }
            loop.execute(() -> authenticated(user, AuthResult.REJECTED, result));
            return;
        }
        long delay = verdict == AuthDamper.Verdict.DELAY ? AuthDamper.DELAY_NANOS : 0;
        byte[] copy = password.clone();
        boolean accepted = Offload.submit(services.blocking(), loop, () -> {
            AuthResult outcome = services.verifier().verify(user, copy);
            if (outcome == AuthResult.REJECTED) {
                services.damper().failed(client.getAddress(), user);
                long dropped = services.damper().logAllowance();
                if (dropped >= 0) {
                    authLog.info("{} from {}: authentication failed for user {}{}", record.protocol,
                            LogText.address(client), LogText.escape(user), LogBudget.note(dropped));
                }
            } else if (outcome == AuthResult.OK) {
                services.damper().succeeded(client.getAddress(), user);
            }
            return () -> {
                if (delay > 0) {
                    loop.schedule(delay, () -> authenticated(user, outcome, result));
                } else {
                    authenticated(user, outcome, result);
                }
            };
        }, e -> authenticated(user, AuthResult.UNAVAILABLE, result));
        if (!accepted) {
            loop.execute(() -> authenticated(user, AuthResult.UNAVAILABLE, result));
        }
    }

    private void authenticated(String user, AuthResult outcome, Consumer<AuthResult> result) {
        if (state != State.WAITING) {
            return;     // closed meanwhile
        }
        state = State.HANDSHAKING;
        if (outcome == AuthResult.OK) {
            record.user = user;
        } else {
            services.stats().handshakeFailed(record.protocol + ": authentication failed");
            services.debug("{}: authentication {}", record, outcome);
        }
        result.accept(outcome);
        if (state == State.HANDSHAKING) {
            updateInterest();
            process();
        }
    }

    @Override
    public void openTunnel(Destination destination) {
        requireHandshaking();
        state = State.WAITING;
        record.destination = destination.toString();
        updateInterest();
        record.permit.endHandshake();
        // The client's request is complete: from here the dial's own timeouts apply, not the handshake deadline.
        deadline.cancel();
        // Dial after the handler's onBytes has returned: a loopback connect can complete at once, and the handler
        // must not be asked for its reply while it is still parsing.
        loop.execute(() -> startDial(destination));
    }

    private void startDial(Destination destination) {
        if (state != State.WAITING) {
            return;
        }
        dial = services.connector().connect(loop, destination, new Connector.Callback() {
            @Override
            public void connected(Connector.Upstream upstream) {
                tunnelConnected(upstream);
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                tunnelFailed(outcome, reason);
            }
        });
    }

    @Override
    public void reject(String reason, ByteBuffer finalReply) {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        services.stats().handshakeFailed(record.protocol + ": " + reason);
        services.debug("{}: rejected: {}", record, reason);
        closeAfter(finalReply);
    }

    // ---- tunnel outcome ----

    private void tunnelConnected(Connector.Upstream upstream) {
        dial = null;
        if (state != State.WAITING) {
            Sockets.close(upstream.channel());
            return;
        }
        ByteBuffer reply;
        try {
            reply = handler.tunnelReply(TunnelOutcome.OK, upstream.bound());
        } catch (RuntimeException e) {
            Sockets.close(upstream.channel());
            tunnelFailed(TunnelOutcome.GENERAL_FAILURE, "reply failed: " + e);
            return;
        }
        if (reply != null) {
            out.add(reply);
        }
        state = State.RELAYING;
        deadline.cancel();
        in.flip();
        ByteBuffer earlyData = in.hasRemaining() ? in : null;
        in = null;
        if (upstream.framed()) {
            new FramedRelay(loop, services, record, channel, key, upstream.channel(), upstream.key(),
                    upstream.stream(), out.take(), earlyData, upstream.linkLeftover(), true).start();
        } else {
            new Relay(loop, services, record, channel, key, upstream.channel(), upstream.key(), out.take(), earlyData)
                    .start();
        }
    }

    private void tunnelFailed(TunnelOutcome outcome, String reason) {
        dial = null;
        if (state != State.WAITING) {
            return;
        }
        services.stats().tunnelFailed(outcome.name());
        services.debug("{}: tunnel failed: {}", record, reason);
        record.outcome = outcome.name();
        services.accessLog(record);
        ByteBuffer reply = null;
        try {
            reply = handler.tunnelReply(outcome, null);
        } catch (RuntimeException e) {
            services.debug("{}: reply failed: {}", record, e);
        }
        closeAfter(reply);
    }

    // ---- output and closing ----

    private void flushOut() throws IOException {
        if (out.flush(channel) && state == State.CLOSING) {
            close();
            return;
        }
        updateInterest();
    }

    private void closeAfter(ByteBuffer finalReply) {
        if (finalReply != null) {
            out.add(finalReply);
        }
        state = State.CLOSING;
        record.permit.endHandshake();
        try {
            // Also after an error reply the client gets no more of our reading: RFC 1928 §6 and RFC 9112 say close.
            flushOut();
        } catch (IOException e) {
            close();
        }
    }

    private void updateInterest() {
        if (key == null || !key.isValid() || state == State.RELAYING) {
            return;
        }
        boolean reading = state == State.DETECTING || state == State.HANDSHAKING;
        boolean writing = !out.isEmpty();
        int ops = (reading ? SelectionKey.OP_READ : 0) | (writing ? SelectionKey.OP_WRITE : 0);
        if (key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    private void fail(String reason) {
        if (state == State.CLOSED || state == State.RELAYING) {
            return;
        }
        if (state == State.DETECTING || state == State.HANDSHAKING) {
            services.stats().handshakeFailed(record.protocol + ": " + reason);
        }
        services.debug("{}: closed: {}", record, reason);
        // A client cut off in mid-handshake is told by a reset, so a half-sent request is never taken as complete.
        Sockets.reset(channel);
        finishClose();
    }

    private void close() {
        Sockets.close(channel);
        finishClose();
    }

    private void finishClose() {
        state = State.CLOSED;
        if (dial != null) {
            dial.cancel();
            dial = null;
        }
        if (key != null) {
            key.cancel();
        }
        if (deadline != null) {
            deadline.cancel();
        }
        record.permit.release();
    }


    private void requireHandshaking() {
        if (state != State.HANDSHAKING) {
            throw new IllegalStateException("not in the handshake: " + state);
        }
    }
}
