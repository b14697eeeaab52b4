package io.relaygate.socks5;

import io.relaygate.spi.DatagramCodec;
import io.relaygate.spi.Destination;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The UDP request header of RFC 1928 §7: RSV (2, zero) · FRAG (1) · ATYP · DST.ADDR · DST.PORT, then the data.
 * Fragments are not reassembled (FRAG other than 0 is dropped, as the RFC allows an implementation that does not
 * support fragmentation). Stateless.
 */
final class Socks5Datagrams implements DatagramCodec {

    static final Socks5Datagrams CODEC = new Socks5Datagrams();

    private Socks5Datagrams() {
    }

    @Override
    public int maxHeaderLength() {
        return 3 + 1 + 16 + 2;
    }

    @Override
    public Destination decode(ByteBuffer datagram) {
        if (datagram.remaining() < 4 + 1 + 2) {
            throw new IllegalArgumentException("malformed");
        }
        if (datagram.get() != 0 || datagram.get() != 0) {
            throw new IllegalArgumentException("malformed");
        }
        if (datagram.get() != 0) {
            throw new IllegalArgumentException("fragmented");
        }
        byte type = datagram.get();
        int length = switch (type) {
            case Socks5.ATYP_IPV4 -> 4;
            case Socks5.ATYP_IPV6 -> 16;
            case Socks5.ATYP_DOMAIN -> datagram.get() & 0xFF;
            default -> throw new IllegalArgumentException("address type");
        };
        if (datagram.remaining() < length + 2 || type == Socks5.ATYP_DOMAIN && length == 0) {
            throw new IllegalArgumentException("malformed");
        }
        byte[] address = new byte[length];
        datagram.get(address);
        int port = datagram.getShort() & 0xFFFF;
        try {
            if (type == Socks5.ATYP_DOMAIN) {
                return Destination.parse(new String(address, StandardCharsets.ISO_8859_1), port);
            }
            return Destination.of(InetAddress.getByAddress(address), port);
        } catch (IllegalArgumentException | UnknownHostException e) {
            throw new IllegalArgumentException("bad destination");
        }
    }

    @Override
    public void encode(InetSocketAddress source, ByteBuffer out) {
        InetAddress address = source.getAddress();
        out.put((byte) 0).put((byte) 0).put((byte) 0);
        out.put(address instanceof Inet4Address ? Socks5.ATYP_IPV4 : Socks5.ATYP_IPV6).put(address.getAddress());
        out.putShort((short) source.getPort());
    }
}
