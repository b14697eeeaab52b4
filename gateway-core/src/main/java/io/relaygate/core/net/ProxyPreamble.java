package io.relaygate.core.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the PROXY protocol header a load balancer puts before a client's first byte (HAProxy's proxy-protocol.txt):
 * version 1 (a text line) and version 2 (binary). A reader must not take a byte of the client's own: {@link #needed}
 * says how many more bytes surely belong to the header, so the caller reads exactly that many and never past it.
 * Stateless.
 */
public final class ProxyPreamble {

    private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    /** A version 1 line is at most 107 bytes, CRLF included. */
    public static final int MAX_V1 = 107;
    /** The most a version 2 header may carry after its 16 fixed bytes: addresses and a few TLVs. */
    public static final int MAX_V2_PAYLOAD = 2048;

    private ProxyPreamble() {
    }

    /**
     * What a header said.
     *
     * @param source      the client as the proxy saw it; null for a health check ({@code LOCAL}, {@code UNKNOWN}):
     *                    the connection is the proxy's own
     * @param destination the address the client connected to; null with {@code source}
     */
    public record Header(InetSocketAddress source, InetSocketAddress destination) {
    }

    /**
     * {@return how many more bytes surely belong to the header, given the {@code read} so far (position 0 to
     * limit); 0 once it is complete}
     *
     * @throws IllegalArgumentException if the bytes cannot begin or be a header
     */
    public static int needed(ByteBuffer read) {
        int length = read.remaining();
        int start = read.position();
        int prefix = Math.min(length, 8);
        boolean v1 = startsWith(read, V1, prefix);
        boolean v2 = startsWith(read, V2, prefix);
        if (!v1 && !v2) {
            throw new IllegalArgumentException("no PROXY protocol header");
        }
        if (length < 8) {
            return 8 - length;
        }
        if (v1) {
            if (read.get(start + length - 2) == '\r' && read.get(start + length - 1) == '\n') {
                return 0;
            }
            if (length >= MAX_V1) {
                throw new IllegalArgumentException("a PROXY v1 line longer than " + MAX_V1 + " bytes");
            }
            return 1;           // the line ends somewhere: one byte at a time, never past it
        }
        if (length < 16) {
            return 16 - length;
        }
        if (!startsWith(read, V2, V2.length)) {
            throw new IllegalArgumentException("no PROXY protocol header");
        }
        int payload = read.getShort(start + 14) & 0xFFFF;
        if (payload > MAX_V2_PAYLOAD) {
            throw new IllegalArgumentException("a PROXY v2 header of " + payload + " bytes (at most "
                    + MAX_V2_PAYLOAD + ")");
        }
        return Math.max(0, 16 + payload - length);
    }

    /**
     * Decodes a complete header ({@link #needed} said 0).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Header decode(ByteBuffer header) {
        return startsWith(header, V1, V1.length) ? v1(header) : v2(header);
    }

    private static Header v1(ByteBuffer header) {
        byte[] bytes = new byte[header.remaining()];
        header.duplicate().get(bytes);
        String line = new String(bytes, StandardCharsets.US_ASCII);
        if (!line.endsWith("\r\n") || line.indexOf('\r') != line.length() - 2 || line.indexOf('\n') != line.length() - 1) {
            throw new IllegalArgumentException("a PROXY v1 line must end with its only CRLF");
        }
        String[] parts = line.substring(0, line.length() - 2).split(" ", -1);
        if (parts.length >= 2 && parts[1].equals("UNKNOWN")) {
            return new Header(null, null);
        }
        if (parts.length != 6 || !(parts[1].equals("TCP4") || parts[1].equals("TCP6"))) {
            throw new IllegalArgumentException("a PROXY v1 line: expected PROXY TCP4|TCP6 SOURCE DESTINATION SPORT"
                    + " DPORT, or PROXY UNKNOWN");
        }
        boolean four = parts[1].equals("TCP4");
        InetAddress source = literal(parts[2], four);
        InetAddress destination = literal(parts[3], four);
        return new Header(new InetSocketAddress(source, port(parts[4])),
                new InetSocketAddress(destination, port(parts[5])));
    }

    private static InetAddress literal(String text, boolean four) {
        boolean shape = four ? text.matches("\\d{1,3}(\\.\\d{1,3}){3}") : text.matches("[0-9A-Fa-f:.]{2,45}")
                && text.contains(":");
        InetAddress address = null;
        if (shape) {
            try {
                address = InetAddress.getByName(text);      // a literal: no lookup
            } catch (UnknownHostException e) {
                address = null;
            }
        }
        if (address == null || (four ? !(address instanceof Inet4Address) : !(address instanceof Inet6Address)
                && !text.startsWith("::ffff:"))) {
            throw new IllegalArgumentException("a PROXY v1 address: \"" + LogSafe.of(text) + "\" is not an IPv"
                    + (four ? "4" : "6") + " literal");
        }
        return address;
    }

    private static int port(String text) {
        if (!text.matches("\\d{1,5}") || Integer.parseInt(text) > 65_535) {
            throw new IllegalArgumentException("a PROXY v1 port: \"" + LogSafe.of(text) + "\" (expected: 0 to"
                    + " 65535)");
        }
        return Integer.parseInt(text);
    }

    private static Header v2(ByteBuffer header) {
        int start = header.position();
        int versionCommand = header.get(start + 12) & 0xFF;
        if (versionCommand >> 4 != 2) {
            throw new IllegalArgumentException("a PROXY v2 header of version " + (versionCommand >> 4));
        }
        int command = versionCommand & 0x0F;
        int family = header.get(start + 13) & 0xFF;
        int payload = header.getShort(start + 14) & 0xFFFF;
        if (header.remaining() != 16 + payload) {
            throw new IllegalArgumentException("a PROXY v2 header of " + header.remaining() + " bytes where it says "
                    + (16 + payload));
        }
        if (command == 0) {
            return new Header(null, null);      // LOCAL: the proxy's own connection (a health check)
        }
        if (command != 1) {
            throw new IllegalArgumentException("a PROXY v2 command " + command + " (expected: 0 LOCAL or 1 PROXY)");
        }
        int size = switch (family) {
            case 0x11 -> 4;                     // TCP over IPv4
            case 0x21 -> 16;                    // TCP over IPv6
            case 0x00, 0x31 -> 0;               // unspecified or a UNIX socket: no address to use
            default -> throw new IllegalArgumentException("a PROXY v2 family 0x" + Integer.toHexString(family)
                    + " (expected: TCP over IPv4 or IPv6)");
        };
        if (size == 0) {
            return new Header(null, null);
        }
        if (payload < 2 * size + 4) {
            throw new IllegalArgumentException("a PROXY v2 header too short for its addresses");
        }
        byte[] from = new byte[size];
        byte[] to = new byte[size];
        header.get(start + 16, from).get(start + 16 + size, to);
        int sourcePort = header.getShort(start + 16 + 2 * size) & 0xFFFF;
        int destinationPort = header.getShort(start + 18 + 2 * size) & 0xFFFF;
        try {
            return new Header(new InetSocketAddress(InetAddress.getByAddress(from), sourcePort),
                    new InetSocketAddress(InetAddress.getByAddress(to), destinationPort));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("a PROXY v2 address", e);
        }
    }

    private static boolean startsWith(ByteBuffer read, byte[] signature, int count) {
        int n = Math.min(count, Math.min(signature.length, read.remaining()));
        for (int i = 0; i < n; i++) {
            if (read.get(read.position() + i) != signature[i]) {
                return false;
            }
        }
        return true;
    }

    /** Shortens and cleans text from the wire before it goes into a message. */
    private static final class LogSafe {
        static String of(String text) {
            String clean = text.replaceAll("[^\\x21-\\x7e]", "?");
            return clean.length() > 48 ? clean.substring(0, 48) + "…" : clean;
        }
    }
}
