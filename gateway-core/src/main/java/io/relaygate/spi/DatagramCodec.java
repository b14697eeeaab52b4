package io.relaygate.spi;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * How a protocol frames the datagrams of a UDP association, e.g. SOCKS5's UDP request header (RFC 1928 §7): the
 * gateway owns the sockets, the relay, the limits and the counters; the codec only reads and writes the header that
 * names a datagram's destination or source.
 * <p>
 * Called on the association's event loop; must not block. Stateless implementations may be shared.
 */
public interface DatagramCodec {

    /** {@return the longest header {@link #encode} writes} */
    int maxHeaderLength();

    /**
     * Reads the header of a datagram from the client.
     *
     * @param datagram the whole datagram, in read mode; on return its position is at the payload
     * @return where the payload goes
     * @throws IllegalArgumentException the datagram is dropped; the message is a short fixed reason for the counters
     *                                  (e.g. {@code "fragmented"}), never client text
     */
    Destination decode(ByteBuffer datagram);

    /**
     * Writes the header of a datagram for the client, received from {@code source}; the payload follows it.
     *
     * @param out has at least {@link #maxHeaderLength()} bytes remaining
     */
    void encode(InetSocketAddress source, ByteBuffer out);
}
