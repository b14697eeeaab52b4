package io.relaygate.core.wire;

import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Payloads of OPEN and OPEN_RESULT (docs/link-protocol.md, version 2). */
public final class LinkMessages {

    private static final int IPV4 = 1;
    private static final int NAME = 3;
    private static final int IPV6 = 4;

    /** OPEN_RESULT outcome codes, by their position. */
    private static final TunnelOutcome[] OUTCOMES = {TunnelOutcome.OK, TunnelOutcome.LINK_AUTH_FAILED,
        TunnelOutcome.NOT_ALLOWED, TunnelOutcome.HOST_UNREACHABLE, TunnelOutcome.TIMED_OUT,
        TunnelOutcome.NETWORK_UNREACHABLE, TunnelOutcome.CONNECTION_REFUSED, TunnelOutcome.GENERAL_FAILURE};

    /** The code of a refusal for now: the acceptor is going away or at its stream limit; another link may do. */
    private static final int REFUSED_FOR_NOW = 8;

    /** An OPEN: the window the opener grants the acceptor on the stream, and where to connect. */
    public record Open(int window, Destination destination) {
    }

    /**
     * An OPEN_RESULT.
     *
     * @param window the window the acceptor grants the opener (when OK)
     * @param bound  the acceptor's bound address (when OK)
     * @param retry  refused for now: the same OPEN may succeed on another link
     */
    public record OpenResult(TunnelOutcome outcome, int window, InetSocketAddress bound, boolean retry) {
    }

    private LinkMessages() {
    }

    public static byte[] open(int window, Destination destination) {
        ByteBuffer out = ByteBuffer.allocate(4 + 1 + 1 + 255 + 2).putInt(window);
        address(out, destination.address(), destination.host());
        out.putShort((short) destination.port());
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** @throws LinkProtocolException if malformed; an invalid name or port 0 is malformed too */
    public static Open open(ByteBuffer payload) throws LinkProtocolException {
        try {
            int window = payload.getInt();
            if (window <= 0) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN with window " + (window & 0xFFFFFFFFL));
            }
            int type = payload.get() & 0xFF;
            Destination destination;
            if (type == NAME) {
                byte[] name = new byte[payload.get() & 0xFF];
                payload.get(name);
                destination = Destination.parse(new String(name, StandardCharsets.ISO_8859_1),
                        payload.getShort() & 0xFFFF);
            } else {
                destination = Destination.of(address(payload, type), payload.getShort() & 0xFFFF);
            }
            if (payload.hasRemaining()) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "trailing bytes in OPEN");
            }
            return new Open(window, destination);
        } catch (BufferUnderflowException | IllegalArgumentException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed OPEN");
        }
    }

    public static byte[] openResult(TunnelOutcome outcome, int window, InetSocketAddress bound) {
        int code = 7;
        for (int i = 0; i < OUTCOMES.length; i++) {
            if (OUTCOMES[i] == outcome) {
                code = i;
            }
        }
        return openResult(code, window, bound);
    }

    /** {@return an OPEN_RESULT that refuses the stream for now} */
    public static byte[] refusedForNow() {
        return openResult(REFUSED_FOR_NOW, 0, null);
    }

    private static byte[] openResult(int code, int window, InetSocketAddress bound) {
        InetAddress address = bound == null ? null : bound.getAddress();
        ByteBuffer out = ByteBuffer.allocate(1 + 4 + 1 + 16 + 2).put((byte) code).putInt(window);
        if (address == null) {
            out.put((byte) IPV4).put(new byte[4]).putShort((short) 0);
        } else {
            address(out, address, null);
            out.putShort((short) bound.getPort());
        }
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** @throws LinkProtocolException if malformed */
    public static OpenResult openResult(ByteBuffer payload) throws LinkProtocolException {
        try {
            int code = payload.get() & 0xFF;
            int window = payload.getInt();
            InetAddress address = address(payload, payload.get() & 0xFF);
            int port = payload.getShort() & 0xFFFF;
            TunnelOutcome outcome = code < OUTCOMES.length ? OUTCOMES[code] : TunnelOutcome.GENERAL_FAILURE;
            if (outcome == TunnelOutcome.OK && window <= 0) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN_RESULT with window "
                        + (window & 0xFFFFFFFFL));
            }
            return new OpenResult(outcome, window, new InetSocketAddress(address, port), code == REFUSED_FOR_NOW);
        } catch (BufferUnderflowException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed OPEN_RESULT");
        }
    }

    private static void address(ByteBuffer out, InetAddress address, String name) {
        if (address == null) {
            byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
            out.put((byte) NAME).put((byte) bytes.length).put(bytes);
        } else {
            out.put((byte) (address instanceof Inet4Address ? IPV4 : IPV6)).put(address.getAddress());
        }
    }

    private static InetAddress address(ByteBuffer in, int type) throws UnknownHostException {
        byte[] bytes = switch (type) {
            case IPV4 -> new byte[4];
            case IPV6 -> new byte[16];
            default -> throw new UnknownHostException("address type " + type);
        };
        in.get(bytes);
        return InetAddress.getByAddress(bytes);
    }
}
