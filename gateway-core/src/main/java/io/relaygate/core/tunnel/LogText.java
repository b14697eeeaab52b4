package io.relaygate.core.tunnel;

import java.net.InetSocketAddress;

/** Makes client-supplied text safe for a log line: no line breaks, no control characters, bounded length. */
public final class LogText {

    private static final int MAX = 256;

    private LogText() {
    }

    public static String escape(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX) + 8);
        for (int i = 0; i < text.length() && out.length() < MAX; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\' || c == ' ' || c == '"') {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= MAX) {
            out.append("...");
        }
        return out.toString();
    }

    static String address(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
