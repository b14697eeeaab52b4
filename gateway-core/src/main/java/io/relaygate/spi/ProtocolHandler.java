package io.relaygate.spi;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The handshake of one client connection, from its first byte to the reply that opens or refuses the tunnel.
 * <p>
 * Every method is called on the connection's event-loop thread and must not block. An exception thrown from any
 * method closes this connection only. The gateway enforces the absolute handshake deadline; the handler never
 * needs a timer.
 */
public interface ProtocolHandler {

    /**
     * Consumes handshake bytes. The handler advances {@code in}'s position past what it consumed; bytes it leaves
     * are kept and offered again, together with the next bytes to arrive. While an asynchronous step it started is
     * pending ({@link HandshakeSession#verifyPassword}, {@link HandshakeSession#openTunnel}) the gateway stops
     * reading and does not call this method. Bytes still unconsumed when the handler calls
     * {@link HandshakeSession#openTunnel} are the client's early data: they are relayed to the destination once it
     * is connected, never parsed as protocol.
     *
     * @param in the unconsumed bytes, in read mode; valid only during this call
     */
    void onBytes(ByteBuffer in);

    /**
     * Encodes the reply that ends the handshake, after {@link HandshakeSession#openTunnel} has an outcome. On
     * {@link TunnelOutcome#OK} the gateway writes it and starts relaying; otherwise it writes it and closes.
     *
     * @param outcome the tunnel's outcome, never {@code null}
     * @param bound   the gateway's address on the destination side; {@code null} unless the outcome is OK
     * @return the reply bytes, in read mode; {@code null} to close without a reply
     */
    ByteBuffer tunnelReply(TunnelOutcome outcome, InetSocketAddress bound);
}
