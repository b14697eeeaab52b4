package io.relaygate.spi;

import java.net.InetSocketAddress;

/**
 * What the gateway offers a {@link Forwarder}: its client, upstreams to destinations, and the end of the connection.
 * Implemented by the gateway; confined to the connection's event loop (call it only from the forwarder's methods or
 * the callbacks it receives, which run on that loop too).
 */
public interface ForwardingSession {

    /** {@return the client's connection, counted and shaped as the user's upload} */
    ByteStream client();

    /** {@return the client's address} */
    InetSocketAddress clientAddress();

    /** {@return the authenticated user the connection is charged to, or null} */
    String user();

    /**
     * Opens an upstream to {@code destination} as a tunnel's would be opened: destination policy, resolution off the
     * loop, the connect timeout, over the link when the gateway has a remote. The upstream is closed with the
     * connection if the forwarder has not closed it first.
     *
     * @param callback hears the outcome later, on the loop, exactly once unless the attempt is cancelled
     * @return a handle that abandons the attempt
     */
    Attempt connect(Destination destination, UpstreamCallback callback);

    /** Names the connection's destination in its access log line (the first origin of a forwarding connection). */
    void destination(String destination);

    /**
     * Ends the connection: the client and every upstream closed, cleanly or (when {@code broken}) by a reset.
     * Idempotent.
     *
     * @param outcome for the access log, e.g. {@code "closed"}
     */
    void close(String outcome, boolean broken);

    /** An upstream connect in progress. */
    interface Attempt {
        /** Abandons it without a callback, closing what it opened. Idempotent. */
        void cancel();
    }

    /** The outcome of {@link #connect}. */
    interface UpstreamCallback {
        /** The destination is connected; the stream is interested in nothing yet. */
        void connected(ByteStream upstream);

        /** It could not be: the outcome as a tunnel would have it, and a one-line reason for the client. */
        void failed(TunnelOutcome outcome, String reason);
    }
}
