package io.relaygate.httpconnect;

import io.relaygate.spi.AuthResult;
import io.relaygate.spi.Destination;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolHandler;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * The server side of one CONNECT request head, parsed strictly (RFC 9112): CRLF line endings only, no obs-fold, no
 * whitespace before a colon, no control bytes, no content, bounded line, head and field count. Lines are checked as
 * they complete, so a client learns of an error without sending the rest. The bytes after the head are left
 * unconsumed for the gateway to relay. Confined to the connection's event loop.
 */
final class HttpConnectHandler implements ProtocolHandler {

    enum State { HEAD, AUTH_PENDING, TUNNEL_PENDING, DONE }

    private final HandshakeSession session;
    private final HttpConnectConfig config;
    private State state = State.HEAD;
    /** Bytes of the head already parsed, counted from the buffer's position (which stays at the head's start). */
    private int parsed;
    private boolean requestLineSeen;
    private int fields;
    private int hostFields;
    private boolean http11;
    private Destination destination;
    private String proxyAuthorization;

    HttpConnectHandler(HandshakeSession session, HttpConnectConfig config) {
        this.session = session;
        this.config = config;
    }

    State state() {
        return state;
    }

    @Override
    public void onBytes(ByteBuffer in) {
        int start = in.position();
        while (state == State.HEAD) {
            int lineStart = start + parsed;
            int lf = indexOf(in, lineStart, (byte) '\n');
            if (lf < 0) {
                checkIncomplete(in, start, lineStart);
                return;
            }
            int next = lf + 1;
            if (!requestLineSeen && next - lineStart > config.maxRequestLine()) {
                fail(414, "URI Too Long", "request line longer than " + config.maxRequestLine() + " bytes");
                return;
            }
            if (next - start > config.maxHeaderBytes()) {
                tooLarge();
                return;
            }
            if (lf == lineStart || in.get(lf - 1) != '\r') {
                badRequest("bare LF line ending");
                return;
            }
            int end = lf - 1;
            parsed = next - start;
            if (indexOf(in, lineStart, end, (byte) '\r') >= 0) {
                badRequest("bare CR");
                return;
            }
            if (!requestLineSeen) {
                if (end > lineStart) {      // RFC 9112 §2.2: empty lines before the request line are ignored
                    requestLine(ascii(in, lineStart, end));
                }
            } else if (end == lineStart) {
                in.position(next);          // the head is complete; what follows is the client's early data
                headComplete();
            } else {
                headerField(in, lineStart, end);
            }
        }
    }

    private void checkIncomplete(ByteBuffer in, int start, int lineStart) {
        if (!requestLineSeen && in.limit() - lineStart > config.maxRequestLine()) {
            fail(414, "URI Too Long", "request line longer than " + config.maxRequestLine() + " bytes");
        } else if (in.limit() - start > config.maxHeaderBytes()) {
            tooLarge();
        }
    }

    /** RFC 9112 §3: method SP request-target SP HTTP-version. */
    private void requestLine(String line) {
        requestLineSeen = true;
        int firstSpace = line.indexOf(' ');
        int secondSpace = firstSpace < 0 ? -1 : line.indexOf(' ', firstSpace + 1);
        if (firstSpace <= 0 || secondSpace < 0 || line.indexOf(' ', secondSpace + 1) >= 0) {
            badRequest("malformed request line");
            return;
        }
        String method = line.substring(0, firstSpace);
        String target = line.substring(firstSpace + 1, secondSpace);
        String version = line.substring(secondSpace + 1);
        if (!isToken(method) || target.isEmpty()) {
            badRequest("malformed request line");
            return;
        }
        if (version.equals("HTTP/1.1")) {
            http11 = true;
        } else if (!version.equals("HTTP/1.0")) {
            if (version.matches("HTTP/[0-9]\\.[0-9]")) {
                fail(505, "HTTP Version Not Supported", "only HTTP/1.1 and HTTP/1.0 are served");
            } else {
                badRequest("malformed HTTP version");
            }
            return;
        }
        if (!method.equals("CONNECT")) {
            // Plain forwarding is not served: never an accidental open forward proxy.
            fail(405, "Method Not Allowed", "this proxy serves CONNECT only", "Allow: CONNECT");
            return;
        }
        destination = authority(target);
        if (destination == null) {
            badRequest("CONNECT needs host:port (authority-form)");
        }
    }

    /** RFC 9110 §9.3.6: the target of CONNECT is host ":" port, an IPv6 literal in brackets. */
    private static Destination authority(String target) {
        String host;
        String port;
        if (target.startsWith("[")) {
            int close = target.indexOf(']');
            if (close < 0 || close + 1 >= target.length() || target.charAt(close + 1) != ':') {
                return null;
            }
            host = target.substring(1, close);
            port = target.substring(close + 2);
        } else {
            int colon = target.indexOf(':');
            if (colon < 0 || target.indexOf(':', colon + 1) >= 0) {
                return null;
            }
            host = target.substring(0, colon);
            port = target.substring(colon + 1);
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        try {
            Destination parsed = Destination.parse(host, Integer.parseInt(port));
            // Brackets hold an IPv6 literal and nothing else; an IPv4-mapped one ([::ffff:127.0.0.1]) is one too,
            // though the JDK hands it back as IPv4: the destination policy then sees the IPv4 address.
            boolean bracketed = target.startsWith("[");
            boolean ipv6Literal = !parsed.isName() && host.indexOf(':') >= 0;
            return bracketed == ipv6Literal ? parsed : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** RFC 9112 §5: field-name ":" OWS field-value OWS, the name a token directly followed by the colon. */
    private void headerField(ByteBuffer in, int start, int end) {
        byte first = in.get(start);
        if (first == ' ' || first == '\t') {
            badRequest("obsolete line folding");
            return;
        }
        int colon = indexOf(in, start, end, (byte) ':');
        if (colon <= start) {
            badRequest(colon < 0 ? "header line without a colon" : "empty header name");
            return;
        }
        String name = ascii(in, start, colon);
        if (!isToken(name)) {
            badRequest("invalid header name");  // includes whitespace before the colon (RFC 9112 §5.1 MUST)
            return;
        }
        int valueStart = colon + 1;
        int valueEnd = end;
        while (valueStart < valueEnd && isWhitespace(in.get(valueStart))) {
            valueStart++;
        }
        while (valueEnd > valueStart && isWhitespace(in.get(valueEnd - 1))) {
            valueEnd--;
        }
        for (int i = valueStart; i < valueEnd; i++) {
            int b = in.get(i) & 0xFF;
            if ((b < 0x20 && b != '\t') || b == 0x7F) {
                badRequest("control character in a header value");
                return;
            }
        }
        if (++fields > config.maxHeaderFields()) {
            tooLarge();
            return;
        }
        String value = ascii(in, valueStart, valueEnd);
        switch (name.toLowerCase(Locale.ROOT)) {
            case "proxy-authorization" -> {
                if (proxyAuthorization != null) {
                    badRequest("more than one Proxy-Authorization");
                    return;
                }
                proxyAuthorization = value;
            }
            case "content-length" -> {
                if (!value.equals("0")) {
                    badRequest("a CONNECT request has no content");
                }
            }
            case "transfer-encoding" -> badRequest("a CONNECT request has no content");
            case "host" -> hostFields++;
            default -> { }
        }
    }

    private void headComplete() {
        if (http11 && hostFields != 1) {
            badRequest(hostFields == 0 ? "missing Host" : "more than one Host");   // RFC 9112 §3.2
            return;
        }
        if (!session.authenticationRequired()) {
            openTunnel();
            return;
        }
        byte[][] credentials = basicCredentials(proxyAuthorization);
        if (credentials == null) {
            authenticationRequired(proxyAuthorization == null ? "authentication required" : "bad credentials format");
            return;
        }
        state = State.AUTH_PENDING;
        session.verifyPassword(new String(credentials[0], StandardCharsets.UTF_8), credentials[1], result -> {
            if (result == AuthResult.OK) {
                openTunnel();
            } else if (result == AuthResult.REJECTED) {
                authenticationRequired("authentication failed");
            } else {
                fail(502, "Bad Gateway", "the account store is unavailable");
            }
        });
        Arrays.fill(credentials[1], (byte) 0);
    }

    private void openTunnel() {
        state = State.TUNNEL_PENDING;
        session.openTunnel(destination);
    }

    /** {@return user and password from a Basic credential (RFC 7617), or null if it is not one} */
    static byte[][] basicCredentials(String header) {
        if (header == null || header.length() < 6 || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(header.substring(6).trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = -1;
        for (int i = 0; i < decoded.length; i++) {
            if (decoded[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= 0 || colon == decoded.length - 1) {
            Arrays.fill(decoded, (byte) 0);
            return null;
        }
        byte[][] result = {Arrays.copyOfRange(decoded, 0, colon), Arrays.copyOfRange(decoded, colon + 1,
                decoded.length)};
        Arrays.fill(decoded, (byte) 0);
        return result;
    }

    @Override
    public ByteBuffer tunnelReply(TunnelOutcome outcome, InetSocketAddress bound) {
        state = State.DONE;
        return switch (outcome) {
            case OK -> HttpResponses.established();
            case CLIENT_AUTH_FAILED -> HttpResponses.error(407, "Proxy Authentication Required",
                    "authentication failed", challenge());
            case LINK_AUTH_FAILED -> HttpResponses.error(502, "Bad Gateway",
                    "the remote gateway refused this gateway's credentials", null);
            case NOT_ALLOWED -> HttpResponses.error(403, "Forbidden", "destination not allowed", null);
            case TIMED_OUT -> HttpResponses.error(504, "Gateway Timeout", "connecting to the destination timed out",
                    null);
            case HOST_UNREACHABLE -> HttpResponses.error(502, "Bad Gateway", "host unreachable or unknown", null);
            case NETWORK_UNREACHABLE -> HttpResponses.error(502, "Bad Gateway", "network unreachable", null);
            case CONNECTION_REFUSED -> HttpResponses.error(502, "Bad Gateway", "connection refused", null);
            default -> HttpResponses.error(502, "Bad Gateway", "the tunnel could not be opened", null);
        };
    }

    private String challenge() {
        return "Proxy-Authenticate: Basic realm=\"" + config.realm() + "\", charset=\"UTF-8\"";
    }

    private void authenticationRequired(String reason) {
        state = State.DONE;
        session.reject(reason, HttpResponses.error(407, "Proxy Authentication Required", reason, challenge()));
    }

    private void tooLarge() {
        fail(431, "Request Header Fields Too Large", "request head larger than " + config.maxHeaderBytes()
                + " bytes or " + config.maxHeaderFields() + " fields");
    }

    private void badRequest(String reason) {
        fail(400, "Bad Request", reason);
    }

    private void fail(int status, String reasonPhrase, String reason) {
        fail(status, reasonPhrase, reason, null);
    }

    private void fail(int status, String reasonPhrase, String reason, String extraHeader) {
        state = State.DONE;
        session.reject(status + " " + reason, HttpResponses.error(status, reasonPhrase, reason, extraHeader));
    }

    private static int indexOf(ByteBuffer in, int from, byte b) {
        return indexOf(in, from, in.limit(), b);
    }

    private static int indexOf(ByteBuffer in, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (in.get(i) == b) {
                return i;
            }
        }
        return -1;
    }

    private static String ascii(ByteBuffer in, int from, int to) {
        byte[] bytes = new byte[to - from];
        in.get(from, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t';
    }

    /** RFC 9110 §5.6.2 token: 1*tchar. */
    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!tchar) {
                return false;
            }
        }
        return true;
    }
}
