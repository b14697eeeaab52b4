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
     * Numeric forms other than the dotted quad ({@code 127.1}, {@code 0x7f000001}) are host names here, and host
     * names that are not valid DNS names are refused, so nothing odd reaches a resolver or a log.
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
