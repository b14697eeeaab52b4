package io.relaygate.spi;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * What the gateway offers a {@link ProtocolHandler} during one connection's handshake. Implemented by the gateway.
 * <p>
 * Confined to the connection's event-loop thread: call it only from the handler's methods or from the callbacks it
 * receives, which run on that thread too.
 */
public interface HandshakeSession {

    /** {@return the client's address} */
    InetSocketAddress client();

    /** {@return whether clients of this listener must authenticate before a tunnel opens} */
    boolean authenticationRequired();

    /**
     * Queues bytes for the client, e.g. a method selection or an authentication status. They are written in order
     * and before the tunnel's reply.
     *
     * @param bytes the bytes, in read mode; the gateway copies them before returning
     */
    void send(ByteBuffer bytes);

    /**
     * Verifies a client's password against the account store, off the event loop. Reading pauses until the result
     * arrives. After {@link AuthResult#OK} the user is this connection's principal.
     *
     * @param user     the user name as the client sent it; never logged unescaped
     * @param password the password bytes (UTF-8 by convention); the gateway copies them and wipes its copy after
     *                 use, so the caller may wipe the array once this method returns
     * @param result   receives the result later, on this connection's event loop, never within this call
     */
    void verifyPassword(String user, byte[] password, Consumer<AuthResult> result);

    /**
     * Ends the handshake: the gateway checks the destination, resolves and connects (off the loop where it must),
     * then asks the handler for {@link ProtocolHandler#tunnelReply} with the outcome. Call at most once.
     *
     * @param destination where the client wants to go
     */
    void openTunnel(Destination destination);

    /**
     * Ends the handshake as a UDP association (SOCKS5 UDP ASSOCIATE): the gateway binds a datagram relay on the
     * address family of the client's connection, then asks the handler for {@link ProtocolHandler#tunnelReply} with
     * the outcome and the relay's address as {@code bound}. The association lives as long as this connection (and
     * within the idle timeout); datagrams are accepted from the client's address only. Call at most once, instead of
     * {@link #openTunnel}.
     *
     * @param clientEndpoint where the client says its datagrams will come from; a wildcard address or port 0 leaves
     *                       that part to the first datagram
     * @param codec          the datagrams' header
     */
    void associate(InetSocketAddress clientEndpoint, DatagramCodec codec);

    /**
     * Ends the handshake in forwarding mode: {@code forwarder} takes over the connection and opens upstreams as its
     * messages name them. Bytes still unconsumed are handed to it. Call at most once, instead of
     * {@link #openTunnel}; the handler is not called again.
     *
     * @param forwarder the connection's owner from here on
     */
    void forward(Forwarder forwarder);

    /**
     * Refuses the client: writes {@code finalReply} if it is not {@code null}, then closes. No tunnel is opened and
     * no byte is relayed.
     *
     * @param reason     for the debug log and the handshake-failure counters, e.g. {@code "bad version"}
     * @param finalReply the last bytes for the client, in read mode, or {@code null}
     */
    void reject(String reason, ByteBuffer finalReply);
}
