package io.relaygate.core.net;

import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.stats.GatewayStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PROXY protocol header in front of a connection from a trusted load balancer: read before protocol detection,
 * exactly up to its last byte, then the connection goes on as the client's, under the client's address (damping,
 * per-source caps, policy and access logs). A connection from a trusted address without a valid header is reset; a
 * connection from any other address goes on untouched, so a header it sends is refused as an unknown protocol.
 * Confined to the connection's loop.
 */
public final class ProxyPreface extends HandshakeConnection {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.proxy");

    private final SocketPort socket;
    private final Listener.ConnectionFactory next;
    private final InetSocketAddress proxy;
    private final GatewayStats stats;
    private final ByteBuffer header = ByteBuffer.allocate(16 + ProxyPreamble.MAX_V2_PAYLOAD);

    private ProxyPreface(EventLoop loop, SocketPort port, ConnectionLimits.Permit permit,
                         Listener.ConnectionFactory next,
                         InetSocketAddress proxy, GatewayStats stats) {
        super(loop, port, permit);
        this.socket = port;
        this.next = next;
        this.proxy = proxy;
        this.stats = stats;
    }

    /**
     * {@return a factory that reads the PROXY header of connections from {@code trusted} before handing them to
     * {@code next}; {@code next} itself when nothing is trusted}
     *
     * @param deadline how long the header may take, read as each connection starts
     */
    public static Listener.ConnectionFactory trusting(List<DestinationPolicy.Rule> trusted,
                                                      Listener.ConnectionFactory next,
                                                      LongSupplier deadline, GatewayStats stats) {
        if (trusted.isEmpty()) {
            return next;
        }
        List<DestinationPolicy.Rule> rules = List.copyOf(trusted);
        return (loop, port, client, permit) -> {
            if (DestinationPolicy.anyBlockHolds(rules, client.getAddress())) {
                new ProxyPreface(loop, port, permit, next, client, stats).start(deadline.getAsLong());
            } else {
                next.start(loop, port, client, permit);
            }
        };
    }

    @Override
    protected void onReadable() throws IOException {
        int wanted;
        try {
            wanted = ProxyPreamble.needed(header.duplicate().flip());
        } catch (IllegalArgumentException e) {
            refuse(e.getMessage());
            return;
        }
        // Never past the header: what follows is the client's, for the protocol behind it.
        ByteBuffer window = header.duplicate().limit(header.position() + wanted);
        int n = port.read(window);
        if (n < 0) {
            fail("closed before its PROXY header ended");
            return;
        }
        header.position(window.position());
        ProxyPreamble.Header decoded;
        try {
            if (ProxyPreamble.needed(header.duplicate().flip()) > 0) {
                return;
            }
            decoded = ProxyPreamble.decode(header.duplicate().flip());
        } catch (IllegalArgumentException e) {
            refuse(e.getMessage());
            return;
        }
        InetSocketAddress client = decoded.source() != null ? decoded.source() : proxy;
        ConnectionLimits.Permit permit = permit();
        if (!permit.moveTo(client.getAddress())) {
            stats.handshakeFailed("proxy protocol: too many handshakes from the client");
            fail("too many handshakes from " + client.getAddress().getHostAddress());
            return;
        }
        handOver();
        next.start(loop, socket, client, permit);
    }

    private void refuse(String reason) {
        stats.handshakeFailed("proxy protocol: bad header");
        if (log.isDebugEnabled()) {
            log.debug("connection from {}: {}", proxy, reason);
        }
        fail("bad PROXY header");
    }

    @Override
    protected void deadlinePassed() {
        stats.handshakeFailed("proxy protocol: no header");
        log.debug("connection from {}: no PROXY header in time", proxy);
        fail("no PROXY header in time");
    }
}
