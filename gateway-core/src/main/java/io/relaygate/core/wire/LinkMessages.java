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
import java.util.List;

/** Payloads of OPEN, OPEN_RESULT, REGISTER and REGISTER_RESULT (docs/link-protocol.md, version 2). */
public final class LinkMessages {

    private static final int IPV4 = 1;
    private static final int NAME = 3;
    /** An OPEN's address type for a stream of datagram records ({@link DatagramRecords}), with no address. */
    private static final int DATAGRAMS = 0;
    private static final int IPV6 = 4;

    /** OPEN_RESULT outcome codes, by their position. */
    private static final TunnelOutcome[] OUTCOMES = {TunnelOutcome.OK, TunnelOutcome.LINK_AUTH_FAILED,
        TunnelOutcome.NOT_ALLOWED, TunnelOutcome.HOST_UNREACHABLE, TunnelOutcome.TIMED_OUT,
        TunnelOutcome.NETWORK_UNREACHABLE, TunnelOutcome.CONNECTION_REFUSED, TunnelOutcome.GENERAL_FAILURE};

    /** The code of a refusal for now: the acceptor is going away or at its stream limit; another link may do. */
    private static final int REFUSED_FOR_NOW = 8;
    /** The codes of the user's own limits, after the one for now. */
    private static final int CONNECTION_CAP_REACHED = 9;
    private static final int QUOTA_REACHED = 10;
    /** The most visitor address blocks one REGISTER may carry: it must fit a control frame. */
    public static final int MAX_ALLOW_FROM = 64;
    private static final java.util.regex.Pattern SERVICE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /**
     * An OPEN: the window the opener grants the acceptor on the stream, and where to connect; or, opened by the
     * remote for a visitor of an exposed service, the visitor's address and the service's name.
     *
     * @param service the exposed service the stream is for, or null for a stream to {@code destination}
     */
    public record Open(int window, Destination destination, String service) {
        /** {@return whether the stream is to carry datagrams (a UDP association) rather than a tunnel} */
        public boolean datagrams() {
            return destination == null;
        }
    }

    /**
     * A REGISTER: expose the service {@code name} on a public port of the remote.
     *
     * @param requestedPort the public port asked for, or 0 for any from the pool
     * @param maxVisitors   concurrent visitors at most, or 0 for no cap
     * @param allowFrom     the visitor addresses allowed as CIDR blocks (ports ignored); empty for any
     */
    public record Register(String name, int requestedPort, int maxVisitors, List<Block> allowFrom) {
        public Register {
            allowFrom = List.copyOf(allowFrom);
        }
    }

    /** A block of visitor addresses: {@code network/prefix}. */
    public record Block(InetAddress network, int prefix) {
    }

    /** Why a REGISTER was refused, or why a granted service ended; each with its wire code. */
    public enum RegisterOutcome {
        GRANTED(0, "granted", false),
        POOL_FULL(1, "the remote's port pool is full", true),
        PORT_TAKEN(2, "the port is taken", true),
        OUTSIDE_POOL(3, "the port is outside the remote's pool", false),
        NOT_ALLOWED(4, "this user may not expose ports", false),
        QUOTA_REACHED(5, "this user's public ports are all in use", false),
        INVALID(6, "the registration is invalid", false),
        NAME_IN_USE(7, "a service of that name is registered from another link", true),
        CLOSED(8, "closed by the remote", false),
        REVERSE_OFF(9, "the remote exposes no ports (its reverse.ports is empty)", false);

        private final int code;
        private final String reason;
        private final boolean retry;

        RegisterOutcome(int code, String reason, boolean retry) {
            this.code = code;
            this.reason = reason;
            this.retry = retry;
        }

        /** {@return the wire code} */
        public int code() {
            return code;
        }

        /** {@return what a log line says} */
        public String reason() {
            return reason;
        }

        /** {@return whether the same registration may succeed later, so that the local tries again} */
        public boolean retry() {
            return retry;
        }

        static RegisterOutcome of(int code) throws LinkProtocolException {
            for (RegisterOutcome outcome : values()) {
                if (outcome.code == code) {
                    return outcome;
                }
            }
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "REGISTER_RESULT with outcome " + code);
        }
    }

    /** A REGISTER_RESULT: the outcome for the service {@code name} and, when granted, its public port. */
    public record RegisterResult(String name, RegisterOutcome outcome, int port) {
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
        return open(window, destination, null);
    }

    /** @param service the exposed service a remote opens the stream for, with the visitor as {@code destination} */
    public static byte[] open(int window, Destination destination, String service) {
        ByteBuffer out = ByteBuffer.allocate(4 + 1 + 1 + 255 + 2 + 1 + 255).putInt(window);
        if (destination == null) {
            out.put((byte) DATAGRAMS);
            return java.util.Arrays.copyOf(out.array(), out.position());
        }
        address(out, destination.address(), destination.host());
        out.putShort((short) destination.port());
        if (service != null) {
            name(out, service);
        }
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
            if (type == DATAGRAMS) {
                if (payload.hasRemaining()) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "trailing bytes in OPEN");
                }
                return new Open(window, null, null);
            } else if (type == NAME) {
                byte[] name = new byte[payload.get() & 0xFF];
                payload.get(name);
                destination = Destination.parse(new String(name, StandardCharsets.ISO_8859_1),
                        payload.getShort() & 0xFFFF);
            } else {
                destination = Destination.of(address(payload, type), payload.getShort() & 0xFFFF);
            }
            String service = payload.hasRemaining() ? serviceName(payload) : null;
            if (payload.hasRemaining()) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "trailing bytes in OPEN");
            }
            return new Open(window, destination, service);
        } catch (BufferUnderflowException | IllegalArgumentException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed OPEN");
        }
    }

    public static byte[] openResult(TunnelOutcome outcome, int window, InetSocketAddress bound) {
        int code = outcome == TunnelOutcome.CONNECTION_CAP_REACHED ? CONNECTION_CAP_REACHED
                : outcome == TunnelOutcome.QUOTA_REACHED ? QUOTA_REACHED : 7;
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
            TunnelOutcome outcome = code < OUTCOMES.length ? OUTCOMES[code]
                    : code == CONNECTION_CAP_REACHED ? TunnelOutcome.CONNECTION_CAP_REACHED
                    : code == QUOTA_REACHED ? TunnelOutcome.QUOTA_REACHED : TunnelOutcome.GENERAL_FAILURE;
            if (outcome == TunnelOutcome.OK && window <= 0) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN_RESULT with window "
                        + (window & 0xFFFFFFFFL));
            }
            return new OpenResult(outcome, window, new InetSocketAddress(address, port), code == REFUSED_FOR_NOW);
        } catch (BufferUnderflowException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed OPEN_RESULT");
        }
    }

    public static byte[] register(Register register) {
        ByteBuffer out = ByteBuffer.allocate(1 + 255 + 2 + 4 + 2 + register.allowFrom().size() * 18);
        name(out, register.name());
        out.putShort((short) register.requestedPort()).putInt(register.maxVisitors())
                .putShort((short) register.allowFrom().size());
        for (Block rule : register.allowFrom()) {
            address(out, rule.network(), null);
            out.put((byte) rule.prefix());
        }
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /**
     * @throws LinkProtocolException if malformed: a name that is not {@code [A-Za-z0-9._-]{1,64}}, a negative cap, a
     *                               prefix longer than its address, more than {@link #MAX_ALLOW_FROM} blocks
     */
    public static Register register(ByteBuffer payload) throws LinkProtocolException {
        try {
            String name = serviceName(payload);
            int port = payload.getShort() & 0xFFFF;
            int maxVisitors = payload.getInt();
            int blocks = payload.getShort() & 0xFFFF;
            if (maxVisitors < 0 || blocks > MAX_ALLOW_FROM) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed REGISTER");
            }
            List<Block> allowFrom = new java.util.ArrayList<>(blocks);
            for (int i = 0; i < blocks; i++) {
                InetAddress network = address(payload, payload.get() & 0xFF);
                int prefix = payload.get() & 0xFF;
                if (prefix > network.getAddress().length * 8) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed REGISTER");
                }
                allowFrom.add(new Block(network, prefix));
            }
            if (payload.hasRemaining()) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "trailing bytes in REGISTER");
            }
            return new Register(name, port, maxVisitors, allowFrom);
        } catch (BufferUnderflowException | UnknownHostException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed REGISTER");
        }
    }

    public static byte[] registerResult(RegisterResult result) {
        ByteBuffer out = ByteBuffer.allocate(1 + 255 + 1 + 2);
        name(out, result.name());
        out.put((byte) result.outcome().code()).putShort((short) result.port());
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** @throws LinkProtocolException if malformed */
    public static RegisterResult registerResult(ByteBuffer payload) throws LinkProtocolException {
        try {
            String name = serviceName(payload);
            RegisterOutcome outcome = RegisterOutcome.of(payload.get() & 0xFF);
            int port = payload.getShort() & 0xFFFF;
            if (payload.hasRemaining() || (outcome == RegisterOutcome.GRANTED && port == 0)) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed REGISTER_RESULT");
            }
            return new RegisterResult(name, outcome, port);
        } catch (BufferUnderflowException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed REGISTER_RESULT");
        }
    }

    /** {@return whether {@code name} may name an exposed service: {@code [A-Za-z0-9._-]{1,64}}} */
    public static boolean isServiceName(String name) {
        return name != null && SERVICE_NAME.matcher(name).matches();
    }

    private static void name(ByteBuffer out, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
        out.put((byte) bytes.length).put(bytes);
    }

    private static String serviceName(ByteBuffer in) throws LinkProtocolException {
        byte[] bytes = new byte[in.get() & 0xFF];
        in.get(bytes);
        String name = new String(bytes, StandardCharsets.ISO_8859_1);
        if (!isServiceName(name)) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "a service name that is not [A-Za-z0-9._-]{1,64}");
        }
        return name;
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
