package io.relaygate.core.inbound;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.net.HandshakeConnection;
import io.relaygate.core.net.Listener;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.policy.Associations;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.relay.Relay;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.spi.AuthResult;
import io.relaygate.spi.DatagramCodec;
import io.relaygate.spi.Destination;
import io.relaygate.spi.Forwarder;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolEndpoint.Detection;
import io.relaygate.spi.ProtocolHandler;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * One accepted client from its first byte until the relay takes over or the connection closes: detects the
 * protocol, runs the plugin's handshake under the absolute deadline of {@link HandshakeConnection}, verifies
 * passwords off the loop, asks the connector for the tunnel and writes the reply. Confined to its event loop.
 */
public final class InboundConnection extends HandshakeConnection implements HandshakeSession {

    /** Failed and refused logins: a line each within the damper's per-minute budget, shared with the link's. */
    private static final org.slf4j.Logger authLog = org.slf4j.LoggerFactory.getLogger("io.relaygate.auth");

    /** Handshake bytes buffered at most: above any protocol's own header limit, so the protocol answers first. */
    static final int MAX_HANDSHAKE_BYTES = 64 * 1024;

    private enum Phase { DETECTING, HANDSHAKING, WAITING }

    private final InboundServices services;
    private final RelayServices relay;
    private final boolean authRequired;
    private final InetSocketAddress client;
    private final TunnelRecord record;
    private Phase phase = Phase.DETECTING;
    private ByteBuffer in = ByteBuffer.allocate(512);
    private ProtocolHandler handler;
    private Connector.Attempt dial;
    private UdpAssociation pendingAssociation;

    private InboundConnection(EventLoop loop, SocketPort port, InboundServices services, boolean authRequired,
                              InetSocketAddress client, ConnectionLimits.Permit permit) {
        super(loop, port, permit);
        this.services = services;
        this.relay = services.relay();
        this.authRequired = authRequired;
        this.client = client;
        this.record = new TunnelRecord(client, permit, System.nanoTime());
    }

    /** {@return the listener's factory of client connections} */
    public static Listener.ConnectionFactory factory(InboundServices services, boolean authRequired) {
        return (loop, port, client, permit) -> new InboundConnection(loop, port, services, authRequired, client,
                permit).start(services.handshake().toNanos());
    }

    @Override
    protected void onReadable() throws IOException {
        if (phase == Phase.WAITING) {
            return;
        }
        if (!in.hasRemaining()) {
            if (in.capacity() >= MAX_HANDSHAKE_BYTES) {
                fail("handshake too large");
                return;
            }
            in = ByteBuffer.allocate(Math.min(MAX_HANDSHAKE_BYTES, in.capacity() * 4)).put(in.flip());
        }
        int n = port.read(in);
        if (n < 0) {
            fail("client closed during handshake");
            return;
        }
        if (n > 0) {
            process();
        }
    }

    private void process() {
        if (phase == Phase.DETECTING && !detect()) {
            return;
        }
        if (phase != Phase.HANDSHAKING || in.position() == 0) {
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
        for (Protocol protocol : services.protocols()) {
            Detection detection = protocol.endpoint().detect(peek.duplicate());
            if (detection == Detection.MATCH) {
                record.protocol(protocol.name());
                handler = protocol.endpoint().newHandler(this);
                phase = Phase.HANDSHAKING;
                return true;
            }
            needMore |= detection == Detection.NEED_MORE;
        }
        if (!needMore) {
            fail("unknown protocol");
        }
        return false;
    }

    @Override
    protected void onFailure(Throwable cause) {
        // The reason becomes a metric label: a fixed word, the exception only in the debug log.
        relay.debug("{}: failed: {}", record, cause);
        fail(cause instanceof Shutdown ? "gateway stopping" : "connection error");
    }

    @Override
    protected void closed(String reason, boolean broken) {
        if (broken && phase != Phase.WAITING) {
            relay.stats().handshakeFailed(record.protocol() + ": " + reason);
        }
        relay.debug("{}: closed: {}", record, reason);
        record.releaseAdmission();      // never taken or the tunnel never started: no relay holds it
        if (dial != null) {
            dial.cancel();
            dial = null;
        }
        if (pendingAssociation != null) {
            pendingAssociation.abandon();
            services.udp().release(record.user(), client.getAddress());
            pendingAssociation = null;
        }
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
        write(bytes);
    }

    @Override
    public void verifyPassword(String user, byte[] password, Consumer<AuthResult> result) {
        requireHandshaking();
        phase = Phase.WAITING;
        reading(false);
        AuthDamper damper = services.damper();
        AuthDamper.Verdict verdict = damper.check(client.getAddress(), user);
        if (verdict == AuthDamper.Verdict.REFUSE) {
            relay.stats().handshakeFailed(record.protocol() + ": authentication damped");
            long dropped = damper.logAllowance();
            if (dropped >= 0) {
                authLog.info("{} from {}: too many failed logins, refused without checking{}", record.protocol(),
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
                damper.failed(client.getAddress(), user);
                long dropped = damper.logAllowance();
                if (dropped >= 0) {
                    authLog.info("{} from {}: authentication failed for user {}{}", record.protocol(),
                            LogText.address(client), LogText.escape(user), LogBudget.note(dropped));
                }
            } else if (outcome == AuthResult.OK) {
                damper.succeeded(client.getAddress(), user);
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
        if (!isOpen() || phase != Phase.WAITING) {
            return;     // closed meanwhile
        }
        phase = Phase.HANDSHAKING;
        if (outcome == AuthResult.OK) {
            record.user(user);
        } else {
            relay.stats().handshakeFailed(record.protocol() + ": authentication failed");
            relay.debug("{}: authentication {}", record, outcome);
        }
        result.accept(outcome);
        if (isOpen() && phase == Phase.HANDSHAKING) {
            reading(true);
            process();
        }
    }

    @Override
    public void openTunnel(Destination destination) {
        requireHandshaking();
        phase = Phase.WAITING;
        record.destination(destination.toString());
        reading(false);
        endHandshake();
        // The client's request is complete: from here the dial's own timeouts apply, not the handshake deadline.
        cancelDeadline();
        // Dial after the handler's onBytes has returned: a loopback connect can complete at once, and the handler
        // must not be asked for its reply while it is still parsing.
        loop.execute(() -> startDial(destination));
    }

    private void startDial(Destination destination) {
        if (!isOpen() || overLimit()) {
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
    public void associate(InetSocketAddress clientEndpoint, DatagramCodec codec) {
        requireHandshaking();
        phase = Phase.WAITING;
        record.destination("udp");
        reading(false);
        endHandshake();
        cancelDeadline();
        loop.execute(() -> startAssociation(clientEndpoint, codec));
    }

    private void startAssociation(InetSocketAddress clientEndpoint, DatagramCodec codec) {
        if (!isOpen()) {
            return;
        }
        Associations udp = services.udp();
        if (udp == null) {
            tunnelFailed(TunnelOutcome.COMMAND_NOT_SUPPORTED, "UDP ASSOCIATE is not enabled (udp.enabled)");
            return;
        }
        if (overLimit()) {
            return;
        }
        String refusal = udp.take(record.user(), client.getAddress());
        if (refusal != null) {
            tunnelFailed(TunnelOutcome.NOT_ALLOWED, refusal);
            return;
        }
        InetAddress bind = port instanceof SocketPort socket && socket.localAddress() != null
                ? socket.localAddress().getAddress() : client.getAddress();
        UdpAssociation association = new UdpAssociation(loop, services, record, clientEndpoint, codec);
        pendingAssociation = association;
        association.open(bind, new UdpAssociation.Setup() {
            @Override
            public void ready(InetSocketAddress relayAddress) {
                pendingAssociation = null;
                if (!isOpen()) {
                    association.abandon();
                    udp.release(record.user(), client.getAddress());
                    return;
                }
                ByteBuffer reply;
                try {
                    reply = handler.tunnelReply(TunnelOutcome.OK, relayAddress);
                } catch (RuntimeException e) {
                    association.abandon();
                    udp.release(record.user(), client.getAddress());
                    tunnelFailed(TunnelOutcome.GENERAL_FAILURE, "reply failed: " + e);
                    return;
                }
                if (reply != null) {
                    write(reply);
                }
                in = null;
                association.start(port, handOver());
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                pendingAssociation = null;
                udp.release(record.user(), client.getAddress());
                tunnelFailed(outcome, reason);
            }
        });
    }

    @Override
    public void forward(Forwarder forwarder) {
        requireHandshaking();
        phase = Phase.WAITING;
        reading(false);
        endHandshake();
        // Each message's upstream has the dial's timeouts, and the connection the idle timeout, from here on.
        cancelDeadline();
        loop.execute(() -> startForwarding(forwarder));
    }

    private void startForwarding(Forwarder forwarder) {
        if (!isOpen() || overLimit()) {
            return;
        }
        in.flip();
        ByteBuffer buffered = ByteBuffer.allocate(in.remaining()).put(in).flip();
        in = null;
        ByteBuffer unsent = handOver();
        ForwardingConnection connection = new ForwardingConnection(loop, relay, services.connector(), record, port,
                forwarder, unsent);
        connection.start(buffered);
    }

    @Override
    public void reject(String reason, ByteBuffer finalReply) {
        if (!isOpen()) {
            return;
        }
        relay.stats().handshakeFailed(record.protocol() + ": " + reason);
        relay.debug("{}: rejected: {}", record, reason);
        closeAfter(finalReply);
    }

    // ---- tunnel outcome ----

    /** Takes the tunnel's place under its user's cap and quota; if there is none, answers so. */
    private boolean overLimit() {
        Allowances.Admission refused = relay.admit(record);
        if (refused == null) {
            return false;
        }
        tunnelFailed(refused.refusal(), refused.reason());
        return true;
    }

    private void tunnelConnected(Connector.Upstream upstream) {
        dial = null;
        if (!isOpen()) {
            upstream.port().close();
            return;
        }
        ByteBuffer reply;
        try {
            reply = handler.tunnelReply(TunnelOutcome.OK, upstream.bound());
        } catch (RuntimeException e) {
            upstream.port().close();
            tunnelFailed(TunnelOutcome.GENERAL_FAILURE, "reply failed: " + e);
            return;
        }
        if (reply != null) {
            write(reply);
        }
        in.flip();
        ByteBuffer earlyData = in.hasRemaining() ? in : null;
        in = null;
        ByteBuffer unsent = handOver();
        new Relay(loop, relay, record, port, upstream.port(), unsent, earlyData).start();
    }

    private void tunnelFailed(TunnelOutcome outcome, String reason) {
        dial = null;
        if (!isOpen()) {
            return;
        }
        relay.stats().tunnelFailed(outcome.name());
        relay.debug("{}: tunnel failed: {}", record, reason);
        record.failed(outcome.name());
        relay.accessLog(record);
        ByteBuffer reply = null;
        try {
            reply = handler.tunnelReply(outcome, null);
        } catch (RuntimeException e) {
            relay.debug("{}: reply failed: {}", record, e);
        }
        closeAfter(reply);
    }

    private void requireHandshaking() {
        if (!isOpen() || phase != Phase.HANDSHAKING) {
            throw new IllegalStateException("not in the handshake: " + phase);
        }
    }
}
