package io.relaygate.spi;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * Where a client wants its tunnel to go: an IP address or a host name, and a port. Immutable.
 *
 * @param host    an IP literal (IPv6 without brackets) when {@code address} is set, otherwise a syntactically valid
 *                host name
 * @param address the address when the client gave an IP literal; {@code null} for a name, resolved later
 * @param port    1 to 65535
 */
public record Destination(String host, InetAddress address, int port) {

    /** The longest host name DNS can carry (RFC 1035 §2.3.4, without the trailing dot). */
    public static final int MAX_NAME_LENGTH = 253;

    public Destination {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
    }

    /** {@return a destination at an IP address} */
    public static Destination of(InetAddress address, int port) {
        return new Destination(address.getHostAddress(), address, port);
    }

    /**
     * Parses a host as a client sent it: an IPv4 dotted quad, an IPv6 literal (without brackets) or a host name.
     * The other numeric forms that the C library accepts ({@code 127.1}, {@code 0x7f000001}, {@code 2130706433},
     * {@code 0177.0.0.1} in octal) are read as it reads them (inet_aton), because that is what the client meant and
     * what the destination policy must see; the JDK would read {@code 0177} as decimal 177. A name whose last label
     * is numeric but that no such form explains ({@code 1.2.3.4.5}, {@code 256.1.1.1}) is refused, and so are names
     * that are not valid DNS names, so nothing odd reaches a resolver or a log.
     *
     * @throws IllegalArgumentException if {@code host} is neither an IP literal nor a valid host name, or the port
     *                                  is out of range
     */
    public static Destination parse(String host, int port) {
        InetAddress literal = parseLiteral(host);
        if (literal != null) {
            return of(literal, port);
        }
        if (!isValidHostName(host)) {
            throw new IllegalArgumentException("host: not an IP address or a valid host name");
        }
        if (hasNumericLastLabel(host)) {
            InetAddress numeric = parseInetAton(host.endsWith(".") ? host.substring(0, host.length() - 1) : host);
            if (numeric == null) {
                throw new IllegalArgumentException("host: a numeric address in no form the C library accepts");
            }
            return of(numeric, port);
        }
        return new Destination(host, null, port);
    }

    /** {@return whether the client gave a name, which must be resolved} */
    public boolean isName() {
        return address == null;
    }

    /** {@return host and port as {@code host:port}, IPv6 in brackets} */
    @Override
    public String toString() {
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }

    private static InetAddress parseLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            // Only hex digits, colons and dots can form an IPv6 literal; InetAddress then parses without DNS.
            for (int i = 0; i < host.length(); i++) {
                char c = host.charAt(i);
                if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
                    return null;
                }
            }
            return parseWithoutLookup(host);
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
                return null;
            }
            int value = 0;
            for (int j = 0; j < part.length(); j++) {
                int digit = part.charAt(j) - '0';
                if (digit < 0 || digit > 9) {
                    return null;
                }
                value = value * 10 + digit;
            }
            if (value > 255) {
                return null;
            }
            bytes[i] = (byte) value;
        }
        return parseWithoutLookup(bytes);
    }

    /** Top-level domains are never all-numeric (RFC 3696 §2), so such a name can only be meant as an address. */
    private static boolean hasNumericLastLabel(String name) {
        String trimmed = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        String last = trimmed.substring(trimmed.lastIndexOf('.') + 1);
        if (last.length() > 2 && (last.startsWith("0x") || last.startsWith("0X"))) {
            return last.substring(2).chars().allMatch(c -> Character.digit(c, 16) >= 0);
        }
        return last.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /**
     * inet_aton(3): one to four parts, each decimal, octal (leading 0) or hexadecimal (0x); the last part fills the
     * bytes the others left. {@return the address, or null if the text is no such form}
     */
    static InetAddress parseInetAton(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length > 4) {
            return null;
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            int radix = 10;
            if (part.length() > 1 && (part.startsWith("0x") || part.startsWith("0X"))) {
                radix = 16;
                part = part.substring(2);
            } else if (part.length() > 1 && part.charAt(0) == '0') {
                radix = 8;
                part = part.substring(1);
            }
            if (part.isEmpty() || part.length() > 11) {
                return null;
            }
            long value = 0;
            for (int j = 0; j < part.length(); j++) {
                int digit = Character.digit(part.charAt(j), radix);
                if (digit < 0) {
                    return null;
                }
                value = value * radix + digit;
            }
            values[i] = value;
        }
        long address = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return null;
            }
            address |= values[i] << (24 - 8 * i);
        }
        long last = values[values.length - 1];
        if (last >= 1L << (8 * (4 - (values.length - 1)))) {
            return null;
        }
        address |= last;
        return parseWithoutLookup(new byte[] {(byte) (address >>> 24), (byte) (address >>> 16),
                (byte) (address >>> 8), (byte) address});
    }

    private static InetAddress parseWithoutLookup(Object literal) {
        try {
            return literal instanceof byte[] bytes ? InetAddress.getByAddress(bytes)
                    : InetAddress.getByName((String) literal);   // a literal: no lookup happens
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** RFC 1123 §2.1 host names, plus '_' which real deployments use; no empty labels, 63 bytes per label. */
    static boolean isValidHostName(String name) {
        int length = name.endsWith(".") ? name.length() - 1 : name.length();
        if (length < 1 || length > MAX_NAME_LENGTH) {
            return false;
        }
        int labelLength = 0;
        for (int i = 0; i < length; i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (labelLength == 0 || name.charAt(i - 1) == '-') {
                    return false;
                }
                labelLength = 0;
            } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                    || (c == '-' && labelLength > 0)) {
                if (++labelLength > 63) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return labelLength > 0 && name.charAt(length - 1) != '-';
    }
}
