package io.relaygate.core.wire;

import io.relaygate.spi.Destination;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The records of a datagram stream of the link (a UDP association carried to the remote): each datagram is one
 * record, length (2: of what follows) · address type (1; {@code 1} IPv4, {@code 3} name, {@code 4} IPv6) · address
 * (4, 1+n, 16) · port (2) · payload. From the local the address is the datagram's destination; from the remote, the
 * source of a reply. A record is written whole or not at all, so a full stream drops datagrams and never splits one.
 */
public final class DatagramRecords {

    /** The largest UDP payload over IPv4 (65,535 − 8 − 20). */
    public static final int MAX_PAYLOAD = 65_507;
    /** The longest header: length, type, a 255-byte name, port. */
    public static final int MAX_HEADER = 2 + 1 + 1 + 255 + 2;

    private static final byte IPV4 = 1;
    private static final byte NAME = 3;
    private static final byte IPV6 = 4;

    /** A decoded record; {@code payload} is a view into the input, valid until it is read again. */
    public record Datagram(Destination address, ByteBuffer payload) {
    }

    private DatagramRecords() {
    }

    /**
     * Writes one record into {@code out}. {@return false, writing nothing, if it does not fit whole}
     *
     * @throws IllegalArgumentException the payload is larger than {@link #MAX_PAYLOAD}
     */
    public static boolean encode(ByteBuffer out, Destination address, ByteBuffer payload) {
        if (payload.remaining() > MAX_PAYLOAD) {
            throw new IllegalArgumentException("datagram larger than " + MAX_PAYLOAD + " bytes");
        }
        byte[] name = address.isName() ? address.host().getBytes(StandardCharsets.US_ASCII) : null;
        byte[] ip = name == null ? address.address().getAddress() : null;
        int addressLength = name != null ? 1 + name.length : ip.length;
        int length = 1 + addressLength + 2 + payload.remaining();
        if (out.remaining() < 2 + length) {
            return false;
        }
        out.putShort((short) length);
        if (name != null) {
            out.put(NAME).put((byte) name.length).put(name);
        } else {
            out.put(ip.length == 4 ? IPV4 : IPV6).put(ip);
        }
        out.putShort((short) address.port());
        out.put(payload);
        return true;
    }

    /**
     * Reads one record from {@code in}'s position.
     *
     * @return the record, {@code in} then past it; or null if it is not all there yet ({@code in} unchanged)
     * @throws LinkProtocolException the record is malformed
     */
    public static Datagram decode(ByteBuffer in) throws LinkProtocolException {
        int start = in.position();
        if (in.remaining() < 2) {
            return null;
        }
        int length = in.getShort(start) & 0xFFFF;
        if (in.remaining() < 2 + length) {
            return null;
        }
        int end = start + 2 + length;
        try {
            ByteBuffer record = in.duplicate().position(start + 2).limit(end);
            int type = record.get();
            Destination address;
            if (type == NAME) {
                byte[] name = new byte[record.get() & 0xFF];
                record.get(name);
                address = Destination.parse(new String(name, StandardCharsets.ISO_8859_1), record.getShort() & 0xFFFF);
            } else if (type == IPV4 || type == IPV6) {
                byte[] ip = new byte[type == IPV4 ? 4 : 16];
                record.get(ip);
                address = Destination.of(InetAddress.getByAddress(ip), record.getShort() & 0xFFFF);
            } else {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "datagram record with address type " + type);
            }
            if (record.remaining() > MAX_PAYLOAD) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "datagram record too large");
            }
            in.position(end);
            return new Datagram(address, record.slice());
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed datagram record");
        }
    }
}
