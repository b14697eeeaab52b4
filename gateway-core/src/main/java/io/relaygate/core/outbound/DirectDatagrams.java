package io.relaygate.core.outbound;

import io.relaygate.core.net.DatagramPort;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Offload;
import io.relaygate.spi.Destination;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Datagrams sent from one socket of the gateway's own to their destinations, replies received on it from anyone: the
 * far end of a UDP association. Every destination address is checked against the dialer's destination policy; a name
 * is resolved off the loop once and its answer kept for a minute (a name with any refused address is refused, as for
 * tunnels); while it resolves, up to {@value #MAX_WAITING} datagrams wait for it, later ones are dropped. Confined to
 * its loop.
 */
public final class DirectDatagrams implements DatagramPath, DatagramPort.Handler {

    private static final int MAX_NAMES = 256;
    private static final int MAX_RESOLVING = 16;
    private static final int MAX_WAITING = 8;
    private static final long NAME_TTL_NANOS = 60_000_000_000L;
    /** Datagrams received per readiness event, so one busy association cannot monopolise its loop. */
    private static final int MAX_RECEIVES_PER_EVENT = 64;

    /** A name's addresses, or why it has none. */
    private record Answer(List<InetAddress> addresses, String failure, long expiresAt) {
    }

    private final EventLoop loop;
    private final Dialer dialer;
    private final DatagramPort socket;
    private final Receiver receiver;
    private final ByteBuffer in = ByteBuffer.allocateDirect(65_536);
    private final Map<String, Answer> names = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Answer> eldest) {
            return size() > MAX_NAMES;
        }
    };
    private final Map<String, ArrayDeque<ByteBuffer>> resolving = new HashMap<>();
    private boolean closed;

    private DirectDatagrams(EventLoop loop, Dialer dialer, DatagramPort socket, Receiver receiver) {
        this.loop = loop;
        this.dialer = dialer;
        this.socket = socket;
        this.receiver = receiver;
    }

    /** Opens the socket (the wildcard of both families, any port) on {@code loop}, reading at once. Loop only. */
    static DirectDatagrams open(EventLoop loop, Dialer dialer, Receiver receiver) throws IOException {
        DirectDatagrams path = new DirectDatagrams(loop, dialer, DatagramPort.open(loop, null), receiver);
        path.socket.handler(path);
        path.socket.reading(true);
        return path;
    }

    @Override
    public void send(Destination destination, ByteBuffer payload) {
        if (closed) {
            return;
        }
        if (!destination.isName()) {
            sendTo(new InetSocketAddress(destination.address(), destination.port()), payload);
            return;
        }
        String name = destination.host();
        Answer answer = names.get(name);
        if (answer != null && answer.expiresAt - loop.now() > 0) {
            sendTo(destination, answer, payload);
            return;
        }
        ArrayDeque<ByteBuffer> waiting = resolving.get(name);
        if (waiting == null) {
            if (resolving.size() >= MAX_RESOLVING) {
                receiver.dropped("resolving");
                return;
            }
            waiting = new ArrayDeque<>(2);
            resolving.put(name, waiting);
            resolve(name);
        }
        if (waiting.size() >= MAX_WAITING) {
            receiver.dropped("resolving");
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(2 + payload.remaining());
        copy.putShort((short) destination.port()).put(payload).flip();
        waiting.add(copy);
    }

    private void resolve(String name) {
        boolean accepted = Offload.submit(dialer.blocking(), loop, () -> {
            List<InetAddress> result = dialer.resolver().resolve(name);
            if (result.isEmpty()) {
                throw new UnknownHostException("no address");
            }
            return () -> resolved(name, result, null);
        }, e -> resolved(name, List.of(), "unresolved"));
        if (!accepted) {
            resolved(name, List.of(), "resolving");
        }
    }

    private void resolved(String name, List<InetAddress> result, String failure) {
        ArrayDeque<ByteBuffer> waiting = resolving.remove(name);
        if (closed || waiting == null) {
            return;
        }
        Answer answer = new Answer(result, failure, loop.now() + NAME_TTL_NANOS);
        names.put(name, answer);
        for (ByteBuffer datagram : waiting) {
            int port = datagram.getShort() & 0xFFFF;
            sendTo(Destination.parse(name, port), answer, datagram);
        }
    }

    /** Any refused address refuses the name, as for tunnels (RELIABILITY.md B6); else the first address. */
    private void sendTo(Destination destination, Answer answer, ByteBuffer payload) {
        if (answer.failure != null) {
            receiver.dropped(answer.failure);
            return;
        }
        for (InetAddress address : answer.addresses) {
            if (dialer.refusal(destination, new InetSocketAddress(address, destination.port())) != null) {
                receiver.dropped("not allowed");
                return;
            }
        }
        send(new InetSocketAddress(answer.addresses.get(0), destination.port()), payload);
    }

    private void sendTo(InetSocketAddress target, ByteBuffer payload) {
        if (dialer.refusal(Destination.of(target.getAddress(), target.getPort()), target) != null) {
            receiver.dropped("not allowed");
            return;
        }
        send(target, payload);
    }

    private void send(InetSocketAddress target, ByteBuffer payload) {
        try {
            if (!socket.send(payload, target)) {
                receiver.dropped("socket busy");
            }
        } catch (IOException e) {
            receiver.dropped("send failed");     // e.g. no route: that datagram only, the association goes on
        }
    }

    @Override
    public void readable() throws IOException {
        for (int i = 0; i < MAX_RECEIVES_PER_EVENT && !closed; i++) {
            in.clear();
            InetSocketAddress source = socket.receive(in);
            if (source == null) {
                return;
            }
            in.flip();
            receiver.received(source, in);
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (!closed) {
            close();
            receiver.ended("socket failed");
        }
    }

    @Override
    public void close() {
        closed = true;
        resolving.clear();
        socket.close();
    }
}
