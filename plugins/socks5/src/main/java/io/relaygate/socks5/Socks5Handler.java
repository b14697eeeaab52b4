package io.relaygate.socks5;

import io.relaygate.spi.AuthResult;
import io.relaygate.spi.Destination;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolHandler;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The server side of one SOCKS5 handshake: greeting, optional RFC 1929 authentication, request. Each step waits
 * until its message is complete, so any fragmentation of the client's bytes gives the same result; bytes after the
 * request are left unconsumed, for the gateway to relay once the destination is connected. Confined to the
 * connection's event loop.
 */
final class Socks5Handler implements ProtocolHandler {

    enum State { GREETING, AUTH, AUTH_PENDING, REQUEST, TUNNEL_PENDING, DONE }

    private final HandshakeSession session;
    private State state = State.GREETING;

    Socks5Handler(HandshakeSession session) {
        this.session = session;
    }

    State state() {
        return state;
    }

    @Override
    public void onBytes(ByteBuffer in) {
        boolean progressed = true;
        while (progressed && in.hasRemaining()) {
            progressed = switch (state) {
                case GREETING -> greeting(in);
                case AUTH -> auth(in);
                case REQUEST -> request(in);
                default -> false;   // waiting for the gateway, or done: leave the bytes alone
            };
        }
    }

    /** RFC 1928 §3: VER NMETHODS METHODS. */
    private boolean greeting(ByteBuffer in) {
        int p = in.position();
        if (in.get(p) != Socks5.VERSION) {
            return fail("bad version in greeting", null);     // not SOCKS5: close without a reply
        }
        if (in.remaining() < 2) {
            return false;
        }
        int methods = in.get(p + 1) & 0xFF;
        if (methods == 0) {
            return fail("no methods offered", Socks5.methodSelection(Socks5.METHOD_NONE_ACCEPTABLE));
        }
        if (in.remaining() < 2 + methods) {
            return false;
        }
        boolean noAuth = false;
        boolean userPassword = false;
        for (int i = 0; i < methods; i++) {
            byte method = in.get(p + 2 + i);
            noAuth |= method == Socks5.METHOD_NO_AUTH;
            userPassword |= method == Socks5.METHOD_USER_PASSWORD;
        }
        in.position(p + 2 + methods);
        if (session.authenticationRequired()) {
            // Never fall back to no authentication when it is required (RELIABILITY.md A3).
            if (!userPassword) {
                return fail("no acceptable method", Socks5.methodSelection(Socks5.METHOD_NONE_ACCEPTABLE));
            }
            session.send(Socks5.methodSelection(Socks5.METHOD_USER_PASSWORD));
            state = State.AUTH;
        } else {
            if (!noAuth) {
                return fail("no acceptable method", Socks5.methodSelection(Socks5.METHOD_NONE_ACCEPTABLE));
            }
            session.send(Socks5.methodSelection(Socks5.METHOD_NO_AUTH));
            state = State.REQUEST;
        }
        return true;
    }

    /** RFC 1929 §2: VER ULEN UNAME PLEN PASSWD; ULEN and PLEN are 1 to 255. */
    private boolean auth(ByteBuffer in) {
        int p = in.position();
        if (in.get(p) != Socks5.AUTH_VERSION) {
            // Also the client that skips authentication and sends its request: never served (A12).
            return fail("bad authentication version", Socks5.authStatus(false));
        }
        if (in.remaining() < 2) {
            return false;
        }
        int userLength = in.get(p + 1) & 0xFF;
        if (userLength == 0) {
            return fail("empty user name", Socks5.authStatus(false));
        }
        if (in.remaining() < 3 + userLength) {
            return false;
        }
        int passwordLength = in.get(p + 2 + userLength) & 0xFF;
        if (passwordLength == 0) {
            return fail("empty password", Socks5.authStatus(false));
        }
        if (in.remaining() < 3 + userLength + passwordLength) {
            return false;
        }
        byte[] user = new byte[userLength];
        byte[] password = new byte[passwordLength];
        in.get(p + 2, user);
        in.get(p + 3 + userLength, password);
        in.position(p + 3 + userLength + passwordLength);
        state = State.AUTH_PENDING;
        session.verifyPassword(new String(user, StandardCharsets.UTF_8), password, this::authenticated);
        Arrays.fill(password, (byte) 0);
        return false;
    }

    private void authenticated(AuthResult result) {
        if (result != AuthResult.OK) {
            // RFC 1929 §2: a non-zero status MUST be followed by closing the connection.
            fail(result == AuthResult.REJECTED ? "authentication failed" : "account store unavailable",
                    Socks5.authStatus(false));
            return;
        }
        session.send(Socks5.authStatus(true));
        state = State.REQUEST;
    }

    /** RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT. */
    private boolean request(ByteBuffer in) {
        int p = in.position();
        if (in.get(p) != Socks5.VERSION) {
            return fail("bad version in request", null);
        }
        if (in.remaining() < 5) {
            return false;
        }
        byte command = in.get(p + 1);
        byte reserved = in.get(p + 2);
        byte addressType = in.get(p + 3);
        if (command != Socks5.CMD_CONNECT && command != Socks5.CMD_UDP_ASSOCIATE) {
            return failReply("command not supported", Socks5.REP_COMMAND_NOT_SUPPORTED);
        }
        if (reserved != 0) {
            // RFC 1928 says RSV is 0x00; we reject anything else rather than guess what the client meant (A19).
            return failReply("reserved byte not zero", Socks5.REP_GENERAL_FAILURE);
        }
        int addressLength = switch (addressType) {
            case Socks5.ATYP_IPV4 -> 4;
            case Socks5.ATYP_IPV6 -> 16;
            case Socks5.ATYP_DOMAIN -> 1 + (in.get(p + 4) & 0xFF);
            default -> -1;
        };
        if (addressLength < 0) {
            return failReply("address type not supported", Socks5.REP_ADDRESS_TYPE_NOT_SUPPORTED);
        }
        int length = 4 + addressLength + 2;
        if (in.remaining() < length) {
            return false;
        }
        int port = in.getShort(p + 4 + addressLength) & 0xFFFF;
        if (command == Socks5.CMD_UDP_ASSOCIATE) {
            in.position(p + length);
            state = State.TUNNEL_PENDING;
            session.associate(udpClient(in, p + 4, addressType, addressLength, port), Socks5Datagrams.CODEC);
            return false;
        }
        Destination destination;
        try {
            destination = destination(in, p + 4, addressType, addressLength, port);
        } catch (IllegalArgumentException e) {
            return failReply(port == 0 ? "port 0" : "bad destination name", port == 0 ? Socks5.REP_NOT_ALLOWED
                    : Socks5.REP_HOST_UNREACHABLE);
        }
        in.position(p + length);
        state = State.TUNNEL_PENDING;
        session.openTunnel(destination);    // what follows in 'in' is early data, relayed after the reply
        return false;
    }

    /**
     * RFC 1928 §7: the address and port the client expects to send its datagrams from; zeros (or a name, which no
     * datagram's source can match) leave them to its first datagram.
     */
    private static InetSocketAddress udpClient(ByteBuffer in, int offset, byte addressType, int addressLength,
                                               int port) {
        if (addressType == Socks5.ATYP_DOMAIN) {
            return new InetSocketAddress(port);
        }
        byte[] address = new byte[addressLength];
        in.get(offset, address);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(address), port);
        } catch (UnknownHostException e) {
            return new InetSocketAddress(port);
        }
    }

    private static Destination destination(ByteBuffer in, int offset, byte addressType, int addressLength, int port) {
        if (addressType == Socks5.ATYP_DOMAIN) {
            byte[] name = new byte[addressLength - 1];
            in.get(offset + 1, name);
            // ISO-8859-1 maps every byte to one char, so a non-ASCII byte survives to fail the host-name check.
            return Destination.parse(new String(name, StandardCharsets.ISO_8859_1), port);
        }
        byte[] address = new byte[addressLength];
        in.get(offset, address);
        try {
            return Destination.of(InetAddress.getByAddress(address), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public ByteBuffer tunnelReply(TunnelOutcome outcome, InetSocketAddress bound) {
        state = State.DONE;
        return Socks5.reply(Socks5.replyCode(outcome), outcome == TunnelOutcome.OK ? bound : null);
    }

    private boolean failReply(String reason, byte code) {
        return fail(reason, Socks5.reply(code, null));
    }

    private boolean fail(String reason, ByteBuffer reply) {
        state = State.DONE;
        session.reject(reason, reply);
        return false;
    }
}
