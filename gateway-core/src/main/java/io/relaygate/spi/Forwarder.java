package io.relaygate.spi;

import java.nio.ByteBuffer;

/**
 * A protocol handler's second phase for protocols that forward messages rather than tunnel bytes (plain HTTP
 * proxying): after {@link HandshakeSession#forward} the forwarder owns the client's connection and opens upstreams
 * as its messages name them, through the gateway, which applies the destination policy, the link, the user's rate
 * limit, the counters and the timeouts as it does for a tunnel.
 * <p>
 * Every method is called on the connection's event loop and must not block. An exception thrown from any method
 * closes this connection only.
 */
public interface Forwarder {

    /**
     * Takes over the connection.
     *
     * @param session  the connection's forwarding services; valid until the connection closes
     * @param buffered the client's bytes read but not consumed by the handshake (its first message), in read mode;
     *                 the forwarder owns it
     */
    void start(ForwardingSession session, ByteBuffer buffered);

    /**
     * The gateway closed the connection for its own reasons (the idle timeout, the user revoked, the gateway
     * stopping): the client and every upstream are already closed; release what the forwarder holds. Not called after
     * the forwarder's own {@link ForwardingSession#close}.
     */
    default void closed(String reason) {
    }
}
