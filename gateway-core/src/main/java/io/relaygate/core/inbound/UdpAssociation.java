package io.relaygate.core.inbound;

import io.relaygate.core.net.DatagramPort;
import io.relaygate.core.net.Port;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.outbound.DatagramPath;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.DatagramTraffic;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelLife;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.spi.DatagramCodec;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One UDP association (RFC 1928 §7), from the reply that opened it until its control connection closes: a socket
 * for the client on the address family it connected over, datagrams accepted from the client's address only (and
 * from one port, the one it named or the first it sent from), their headers read by the protocol's codec, sent on by
 * a {@link DatagramPath} (directly or over the link), replies wrapped with their source and sent back. Datagrams over
 * the user's rate, over 65,507 bytes or otherwise unfit are dropped and counted, never queued; a datagram is
 * counted as relayed when it is admitted. It ends with its
 * control connection, at the idle timeout, when the path ends, or when the user is revoked. Confined to its loop.
 */
final class UdpAssociation implements DatagramPath.Receiver, DatagramPort.Handler {

    /** The largest UDP payload over IPv4 (65,535 − 8 − 20). */
    static final int MAX_PAYLOAD = 65_507;
    private static final int MAX_RECEIVES_PER_EVENT = 64;

    /** Hears whether the association could be set up. */
    interface Setup {
        void ready(InetSocketAddress relayAddress);

        void failed(TunnelOutcome outcome, String reason);
    }

    private final EventLoop loop;
    private final InboundServices services;
    private final RelayServices relay;
    private final TunnelRecord record;
    private final InetAddress clientAddress;
    private final DatagramCodec codec;
    private final ByteBuffer in = ByteBuffer.allocateDirect(65_536);
    private final ByteBuffer out;
    private final DatagramTraffic traffic;
    private int clientPort;
    private DatagramPort socket;
    private DatagramPath path;
    private Connector.Attempt attempt;
    private Port control;
    private ByteBuffer unsent;
    private final TunnelLife life;
    private boolean started;
    private boolean closed;

    UdpAssociation(EventLoop loop, InboundServices services, TunnelRecord record, InetSocketAddress clientEndpoint,
                   DatagramCodec codec) {
        this.loop = loop;
        this.services = services;
        this.relay = services.relay();
        this.record = record;
        this.clientAddress = record.client().getAddress();
        this.clientPort = clientEndpoint == null ? 0 : clientEndpoint.getPort();
        this.codec = codec;
        this.out = ByteBuffer.allocateDirect(codec.maxHeaderLength() + MAX_PAYLOAD);
        this.life = new TunnelLife(loop, relay, record, services.udp().idle().toNanos(), this::close);
        this.traffic = new DatagramTraffic(loop, relay, record, services.udp().packetBudget(loop.now()), life);
    }

    /** Opens the client's socket on {@code bind}'s address and the path to destinations. Loop only. */
    void open(InetAddress bind, Setup setup) {
        try {
            socket = DatagramPort.open(loop, new InetSocketAddress(bind, 0));
        } catch (IOException e) {
            setup.failed(TunnelOutcome.GENERAL_FAILURE, "no UDP socket: " + e.getMessage());
            return;
        }
        socket.handler(this);
        attempt = services.connector().datagrams(loop, this, new DatagramPath.Callback() {
            @Override
            public void ready(DatagramPath ready) {
                attempt = null;
                if (closed) {
                    ready.close();
                    return;
                }
                path = ready;
                setup.ready(socket.localAddress());
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                attempt = null;
                socket.close();
                setup.failed(outcome, reason);
            }
        });
    }

    /** Abandons a setup in progress. Loop only. */
    void abandon() {
        if (attempt != null) {
            attempt.cancel();
            attempt = null;
        }
        if (path != null) {
            path.close();
        }
        if (socket != null) {
            socket.close();
        }
        closed = true;
    }

    /** Takes over the control connection, whose pending output (the reply) is {@code unsent}. Loop only. */
    void start(Port controlPort, ByteBuffer unsentReply) {
        started = true;
        control = controlPort;
        unsent = unsentReply;
        relay.stats().associationOpened();
        life.start();
        control.handler(new Control());
        try {
            flushReply();
        } catch (IOException e) {
            close("reset");
            return;
        }
        socket.reading(true);
    }

    // ---- the client's datagrams ----

    @Override
    public void readable() throws IOException {
        if (!started) {
            return;
        }
        for (int i = 0; i < MAX_RECEIVES_PER_EVENT && !closed; i++) {
            in.clear();
            InetSocketAddress source = socket.receive(in);
            if (source == null) {
                return;
            }
            in.flip();
            fromClient(source);
        }
    }

    private void fromClient(InetSocketAddress source) {
        if (!source.getAddress().equals(clientAddress) || clientPort != 0 && source.getPort() != clientPort) {
            dropped("foreign source");
            return;
        }
        clientPort = source.getPort();      // the first datagram names the port when the request did not
        Destination destination;
        try {
            destination = codec.decode(in);
        } catch (IllegalArgumentException e) {
            dropped(e.getMessage() == null ? "malformed" : e.getMessage());
            return;
        }
        int size = in.remaining();
        if (size > MAX_PAYLOAD) {
            dropped("too large");
            return;
        }
        if (traffic.admit(size, true)) {
            path.send(destination, in);
        }
    }

    // ---- replies, from the path ----

    @Override
    public void received(InetSocketAddress source, ByteBuffer payload) {
        if (closed || clientPort == 0) {
            dropped("no client yet");
            return;
        }
        if (!traffic.admit(payload.remaining(), false)) {
            return;
        }
        out.clear();
        codec.encode(source, out);
        out.put(payload).flip();
        try {
            if (!socket.send(out, new InetSocketAddress(clientAddress, clientPort))) {
                dropped("socket busy");
                return;
            }
        } catch (IOException e) {
            dropped("send failed");
        }
    }

    @Override
    public void dropped(String reason) {
        traffic.dropped(reason);
    }

    @Override
    public void ended(String reason) {
        close(reason);
    }

    // ---- the control connection: it only keeps the association alive ----

    private void flushReply() throws IOException {
        if (unsent != null) {
            control.write(unsent);
            if (unsent.hasRemaining()) {
                control.interest(true, true);
                return;
            }
            unsent = null;
        }
        control.interest(true, false);
    }

    @Override
    public void failed(Throwable cause) {
        close(cause instanceof Shutdown ? "shutdown" : "socket failed");
    }

    /** The control connection's readiness: what the client sends there is read and discarded until it closes. */
    private final class Control implements Port.Handler {
        private final ByteBuffer discard = ByteBuffer.allocate(256);

        @Override
        public void readable() throws IOException {
            for (int i = 0; i < 16 && !closed; i++) {
                discard.clear();
                int n = control.read(discard);
                if (n < 0) {
                    close("closed");
                    return;
                }
                if (n == 0) {
                    return;
                }
            }
        }

        @Override
        public void writable() throws IOException {
            flushReply();
        }

        @Override
        public void failed(Throwable cause) {
            close(cause instanceof Shutdown ? "shutdown" : "reset");
        }
    }

    // ---- the end ----

    void close(String outcome) {
        if (closed) {
            return;
        }
        closed = true;
        socket.close();
        if (path != null) {
            path.close();
        }
        control.close();
        relay.stats().associationClosed();
        services.udp().release(record.user(), clientAddress);
        life.end(outcome);
    }
}
