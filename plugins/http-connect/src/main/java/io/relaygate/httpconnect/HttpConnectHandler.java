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

/**
 * The server side of one HTTP proxy request head, parsed strictly by {@link HeadParser}: a CONNECT opens a tunnel
 * (the bytes after the head are left unconsumed for the gateway to relay); an absolute-form request of any other
 * method hands the connection to an {@link HttpForwarder} (plain HTTP proxying). Either way the client authenticates
 * first when the listener requires it. Confined to the connection's event loop.
 */
final class HttpConnectHandler implements ProtocolHandler {

    enum State { HEAD, AUTH_PENDING, TUNNEL_PENDING, FORWARDING, DONE }

    private final HandshakeSession session;
    private final HttpConnectConfig config;
    private final HeadParser parser;
    private State state = State.HEAD;
    private HttpHead head;
    private Destination destination;
    private String proxyAuthorization;

    HttpConnectHandler(HandshakeSession session, HttpConnectConfig config) {
        this.session = session;
        this.config = config;
        this.parser = new HeadParser(true, config.maxRequestLine(), config.maxHeaderBytes(), config.maxHeaderFields());
    }

    State state() {
        return state;
    }

    @Override
    public void onBytes(ByteBuffer in) {
        if (state != State.HEAD) {
            return;
        }
        try {
            head = parser.parse(in);
            if (head == null) {
                return;
            }
            checkHead();
        } catch (HttpException e) {
            fail(e.status(), e.reasonPhrase(), e.getMessage());
            return;
        }
        authenticate();
    }

    /** What a CONNECT and a forwarded request must both satisfy, and what each needs of its own. */
    private void checkHead() throws HttpException {
        if (head.isHttp11() && head.count("host") != 1) {
            throw HttpException.badRequest(head.count("host") == 0 ? "missing Host" : "more than one Host");
        }
        if (head.count("proxy-authorization") > 1) {
            throw HttpException.badRequest("more than one Proxy-Authorization");
        }
        proxyAuthorization = head.first("proxy-authorization");
        if (head.method.equals("CONNECT")) {
            destination = authority(head.target);
            if (destination == null) {
                throw HttpException.badRequest("CONNECT needs host:port (authority-form)");
            }
            if (head.count("transfer-encoding") > 0) {
                throw HttpException.badRequest("a CONNECT request has no content");
            }
            for (HttpHead.Field f : head.fields) {
                if (f.is("content-length") && !f.value().equals("0")) {
                    throw HttpException.badRequest("a CONNECT request has no content");
                }
            }
        } else {
            ForwardTarget.parse(head.method, head.target);      // refused now rather than by the forwarder
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

    private void authenticate() {
        if (!session.authenticationRequired()) {
            proceed();
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
                proceed();
            } else if (result == AuthResult.REJECTED) {
                authenticationRequired("authentication failed");
            } else {
                fail(502, "Bad Gateway", "the account store is unavailable");
            }
        });
        Arrays.fill(credentials[1], (byte) 0);
    }

    private void proceed() {
        if (destination != null) {
            openTunnel();
        } else {
            state = State.FORWARDING;
            session.forward(new HttpForwarder(config, head));
        }
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
            case CONNECTION_CAP_REACHED, QUOTA_REACHED -> HttpResponses.error(429, "Too Many Requests",
                    HttpResponses.userLimit(outcome), null);
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

    private void fail(int status, String reasonPhrase, String reason) {
        state = State.DONE;
        session.reject(status + " " + reason, HttpResponses.error(status, reasonPhrase, reason, null));
    }
}
