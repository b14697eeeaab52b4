package io.relaygate.core.policy;

import java.net.InetSocketAddress;

/**
 * Makes client-supplied text safe for a log line: no line breaks, no control characters, and none of the invisible
 * or bidirectional formatting characters (U+202E and the like) that could make a line read other than it is;
 * bounded length.
 */
public final class LogText {

    private static final int MAX = 256;

    private LogText() {
    }

    public static String escape(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX) + 8);
        for (int i = 0; i < text.length() && out.length() < MAX; ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (c < 0x20 || c == 0x7f || c == '\\' || c == ' ' || c == '"') {
                out.append(String.format("\\x%02x", c));
            } else if (invisible(c)) {
                out.append(String.format("\\u{%04x}", c));
            } else {
                out.append(Character.toChars(c));
            }
        }
        if (out.length() >= MAX) {
            out.append("...");
        }
        return out.toString();
    }

    /** Format characters (bidirectional controls, zero-width ones), other controls, separators, lone surrogates. */
    private static boolean invisible(int c) {
        return switch (Character.getType(c)) {
            case Character.FORMAT, Character.CONTROL, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED, Character.SPACE_SEPARATOR -> true;
            default -> false;
        };
    }

    public static String address(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
