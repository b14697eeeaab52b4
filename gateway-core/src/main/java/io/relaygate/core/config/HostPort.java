package io.relaygate.core.config;

import java.net.InetSocketAddress;

/**
 * A host and a port as configuration writes them: {@code 127.0.0.1:1080}, {@code [::1]:0}, {@code example.org:7080}.
 *
 * @param host a host name or IP literal (IPv6 without brackets)
 * @param port 0 to 65535 (0: the OS chooses)
 */
public record HostPort(String host, int port) {

    /**
     * Parses {@code HOST:PORT}.
     *
     * @return the value, or {@code null} if the text is not of that form
     */
    public static HostPort parse(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                return null;
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                return null;
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        if (host.isEmpty() || port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
            return null;
        }
        int number = Integer.parseInt(port);
        return number > 65_535 ? null : new HostPort(host, number);
    }

    /** {@return the numeric host and port of a bound address} */
    public static HostPort of(InetSocketAddress address) {
        return new HostPort(address.getAddress().getHostAddress(), address.getPort());
    }

    /** {@return an unresolved socket address; binding resolves it} */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
