package io.relaygate.core.outbound;

import io.relaygate.spi.Destination;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Where a UDP association's datagrams go: straight to their destinations ({@link DirectDatagrams}), or as records of
 * a link stream to the remote gateway, which sends them on. A datagram that cannot go now is dropped and reported,
 * never queued without bound. Confined to the association's event loop.
 */
public interface DatagramPath {

    /** Sends one datagram's payload (its remaining bytes) to {@code destination}, or drops it. */
    void send(Destination destination, ByteBuffer payload);

    /** Closes the path; nothing is received after it. Idempotent. */
    void close();

    /** What the path's owner hears, on the loop. */
    interface Receiver {
        /** A datagram from {@code source}; {@code payload} is valid only during the call. */
        void received(InetSocketAddress source, ByteBuffer payload);

        /** A datagram was dropped; {@code reason} is a fixed word for the counters. */
        void dropped(String reason);

        /** The path ended (its socket broke, its link stream ended); the owner closes the association. */
        void ended(String reason);
    }

    /** The outcome of opening a path. */
    interface Callback {
        void ready(DatagramPath path);

        void failed(io.relaygate.spi.TunnelOutcome outcome, String reason);
    }
}
