package io.relaygate.spi;

import java.nio.ByteBuffer;

/**
 * One inbound protocol on one listener: it recognises its clients and creates a handler for each. Holds parsed
 * configuration only; it is shared by all event loops, so it must be immutable or thread-safe.
 */
public interface ProtocolEndpoint {

    /** The answer of a detector to the first bytes a client sent. */
    enum Detection {
        /** These bytes start this protocol. */
        MATCH,
        /** These bytes cannot start this protocol. */
        NO_MATCH,
        /** More bytes are needed to tell. */
        NEED_MORE
    }

    /**
     * Inspects, but never consumes, the first bytes of a new connection. Called on an event loop; must not block.
     *
     * @param peek the bytes received so far, from its position to its limit; the endpoint must not change the
     *             buffer's position, limit or content
     * @return whether these bytes start this protocol
     */
    Detection detect(ByteBuffer peek);

    /**
     * Creates the handler for one accepted client connection that this endpoint detected.
     * <p>
     * Called on the connection's event-loop thread; the handler is confined to that thread. Must not block.
     * Throwing closes only this connection.
     *
     * @param session the connection's handshake, never {@code null}
     * @return a new handler
     */
    ProtocolHandler newHandler(HandshakeSession session);
}
