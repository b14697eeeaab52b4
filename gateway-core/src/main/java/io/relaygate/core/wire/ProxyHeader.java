package io.relaygate.core.wire;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt, section 2.2) that tells a service behind the
 * reverse tunnel who its visitor is. Only the binary version 2, command PROXY, over TCP.
 */
public final class ProxyHeader {

    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int VERSION_2_PROXY = 0x21;
    private static final int TCP_OVER_IPV4 = 0x11;
    private static final int TCP_OVER_IPV6 = 0x21;

    private ProxyHeader() {
    }

    /**
     * {@return the header for a connection from {@code source} to {@code destination}} Two IPv4 addresses give an
     * IPv4 header; otherwise both are written as IPv6 (an IPv4 address as {@code ::ffff:a.b.c.d}).
     */
    public static byte[] v2(InetSocketAddress source, InetSocketAddress destination) {
        InetAddress from = source.getAddress();
        InetAddress to = destination.getAddress();
        boolean v4 = from instanceof Inet4Address && to instanceof Inet4Address;
        int addresses = v4 ? 12 : 36;
        ByteBuffer out = ByteBuffer.allocate(16 + addresses).put(SIGNATURE).put((byte) VERSION_2_PROXY)
                .put((byte) (v4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6)).putShort((short) addresses);
        out.put(v4 ? from.getAddress() : v6(from)).put(v4 ? to.getAddress() : v6(to))
                .putShort((short) source.getPort()).putShort((short) destination.getPort());
        return out.array();
    }

    private static byte[] v6(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 16) {
            return bytes;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
    }

    /**
     * Reads a header written by {@link #v2}: {@code [source, destination]}.
     *
     * @throws IllegalArgumentException if {@code header} is not one
     */
    public static InetSocketAddress[] parse(ByteBuffer header) {
        try {
            byte[] signature = new byte[SIGNATURE.length];
            header.get(signature);
            if (!java.util.Arrays.equals(signature, SIGNATURE) || (header.get() & 0xFF) != VERSION_2_PROXY) {
                throw new IllegalArgumentException("not a PROXY protocol v2 header");
            }
            int family = header.get() & 0xFF;
            int length = header.getShort() & 0xFFFF;
            int size = family == TCP_OVER_IPV4 ? 4 : family == TCP_OVER_IPV6 ? 16 : -1;
            if (size < 0 || length < 2 * size + 4) {
                throw new IllegalArgumentException("PROXY v2 family " + family + ", length " + length);
            }
            byte[] from = new byte[size];
            byte[] to = new byte[size];
            header.get(from).get(to);
            int sourcePort = header.getShort() & 0xFFFF;
            int destinationPort = header.getShort() & 0xFFFF;
            header.position(header.position() + length - 2 * size - 4);
            return new InetSocketAddress[] {new InetSocketAddress(InetAddress.getByAddress(from), sourcePort),
                new InetSocketAddress(InetAddress.getByAddress(to), destinationPort)};
        } catch (java.nio.BufferUnderflowException | UnknownHostException e) {
            throw new IllegalArgumentException("a truncated PROXY protocol v2 header", e);
        }
    }
}
