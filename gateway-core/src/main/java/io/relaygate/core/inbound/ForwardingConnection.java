package io.relaygate.core.inbound;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelLife;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.shaping.Throttle;
import io.relaygate.spi.ByteStream;
import io.relaygate.spi.Destination;
import io.relaygate.spi.Forwarder;
import io.relaygate.spi.ForwardingSession;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A client connection a plugin's {@link Forwarder} drives after its handshake (plain HTTP proxying): the gateway's
 * half of what a {@link io.relaygate.core.relay.Relay} does for a tunnel, for a connection that opens upstreams one
 * message at a time. It gives the forwarder its client and its upstreams as metered {@link ByteStream}s (counted,
 * shaped by the user's bucket: the client's reads as upload, an upstream's as download), runs the idle timer, follows
 * revocation, and at close releases the permit, reports the traffic and writes the access log line. Confined to its
 * event loop.
 */
final class ForwardingConnection implements ForwardingSession {

    private final EventLoop loop;
    private final RelayServices services;
    private final Connector connector;
    private final TunnelRecord record;
    private final Shaping.Meter meter;
    private final Forwarder forwarder;
    private final Metered client;
    private final List<Metered> upstreams = new ArrayList<>(2);
    private final List<Connector.Attempt> dials = new ArrayList<>(1);
    private final TunnelLife life;
    private boolean closed;

    ForwardingConnection(EventLoop loop, RelayServices services, Connector connector, TunnelRecord record,
                         Port clientPort, Forwarder forwarder, ByteBuffer unsent) {
        this.loop = loop;
        this.services = services;
        this.connector = connector;
        this.record = record;
        this.meter = services.shaping().meterFor(record.user());
        this.forwarder = forwarder;
        this.client = new Metered(clientPort, true);
        this.client.unsent = unsent != null && unsent.hasRemaining() ? unsent : null;
        this.life = new TunnelLife(loop, services, record, services.idle().toNanos(),
                outcome -> closeForGateway(outcome, TunnelLife.cutShort(outcome)));
    }

    /** Hands the connection to the forwarder with the handshake's unconsumed bytes. Loop only. */
    void start(ByteBuffer buffered) {
        services.stats().tunnelOpened();
        life.start();
        if (buffered.hasRemaining()) {
            client.count(buffered.remaining());     // read during the handshake: the first message is traffic too
        }
        try {
            forwarder.start(this, buffered);
        } catch (RuntimeException e) {
            services.debug("{}: forwarder failed: {}", record, e);
            close("forwarder error", true);
        }
    }

    @Override
    public ByteStream client() {
        return client;
    }

    @Override
    public InetSocketAddress clientAddress() {
        return record.client();
    }

    @Override
    public String user() {
        return record.user();
    }

    @Override
    public void destination(String destination) {
        record.destination(destination);
    }

    @Override
    public Attempt connect(Destination destination, UpstreamCallback callback) {
        if (closed) {
            throw new IllegalStateException("the connection is closed");
        }
        Connector.Attempt[] dial = new Connector.Attempt[1];
        dial[0] = connector.connect(loop, destination, new Connector.Callback() {
            @Override
            public void connected(Connector.Upstream upstream) {
                dials.remove(dial[0]);
                if (closed) {
                    upstream.port().close();
                    return;
                }
                Metered stream = new Metered(upstream.port(), false);
                upstreams.add(stream);
                deliver(() -> callback.connected(stream));
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                dials.remove(dial[0]);
                services.stats().tunnelFailed(outcome.name());
                if (!closed) {
                    deliver(() -> callback.failed(outcome, reason));
                }
            }
        });
        dials.add(dial[0]);
        return () -> {
            if (dials.remove(dial[0])) {
                dial[0].cancel();
            }
        };
    }

    @Override
    public void close(String outcome, boolean broken) {
        if (closed) {
            return;
        }
        closed = true;
        for (Connector.Attempt dial : List.copyOf(dials)) {
            dial.cancel();
        }
        dials.clear();
        client.end(broken);
        for (Metered upstream : upstreams) {
            upstream.end(broken);
        }
        upstreams.clear();
        services.stats().tunnelClosed();
        life.end(outcome);
    }

    /**
     * Closes for a reason of the gateway's, then tells the forwarder. A revocation is {@code broken}: the client is
     * reset, so that a response cut short (its end delimited by the close, say) never reads as complete.
     */
    private void closeForGateway(String reason, boolean broken) {
        if (closed) {
            return;
        }
        close(reason, broken);
        try {
            forwarder.closed(reason);
        } catch (RuntimeException e) {
            services.debug("{}: forwarder failed at close: {}", record, e);
        }
    }

    /** Runs a forwarder callback; its exception closes this connection only. */
    private void deliver(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            services.debug("{}: forwarder failed: {}", record, e);
            close("forwarder error", true);
        }
    }

    /**
     * A port as the forwarder sees it: reads go through the user's throttle for their direction and are counted;
     * while the throttle waits for tokens the port's read interest is off and the forwarder hears {@code readable}
     * when they arrive.
     */
    private final class Metered implements ByteStream, Port.Handler {
        private final Port port;
        private final boolean isClient;
        private final Throttle throttle;
        private final Runnable resume;
        private ByteStream.Handler handler;
        private boolean wantRead;
        private boolean wantWrite;
        private boolean ended;
        /** The handshake's output not yet written (the client's only): written before anything else. */
        ByteBuffer unsent;

        Metered(Port port, boolean isClient) {
            this.port = port;
            this.isClient = isClient;
            this.throttle = Shaping.throttle(meter, loop, isClient);
            this.resume = this::resume;
            port.handler(this);
        }

        @Override
        public void handler(ByteStream.Handler handler) {
            this.handler = handler;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (ended || !dst.hasRemaining()) {
                return 0;
            }
            int allowed = throttle.grant(dst.remaining(), resume);
            if (allowed == 0) {
                port.interest(false, wantWrite);
                return 0;
            }
            int limit = dst.limit();
            dst.limit(dst.position() + allowed);
            try {
                int n = port.read(dst);
                if (n > 0) {
                    throttle.used(n);
                    count(n);
                    life.active();
                }
                return n;
            } finally {
                dst.limit(limit);
                throttle.settle();
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (unsent != null) {
                port.write(unsent);
                if (unsent.hasRemaining()) {
                    return 0;
                }
                unsent = null;
            }
            int n = ended ? 0 : port.write(src);
            if (n > 0) {
                life.active();
            }
            return n;
        }

        @Override
        public void shutdownOutput() throws IOException {
            if (!ended) {
                port.shutdownOutput();
            }
        }

        @Override
        public void interest(boolean read, boolean write) {
            wantRead = read;
            wantWrite = write;
            if (!ended) {
                port.interest(read && !throttle.isParked(), write);
            }
        }

        @Override
        public void close() {
            if (!ended) {
                end(false);
                upstreams.remove(this);
            }
        }

        void end(boolean broken) {
            if (ended) {
                return;
            }
            ended = true;
            throttle.close();
            if (broken) {
                port.reset();
            } else {
                port.close();
            }
        }

        void count(int n) {
            if (isClient) {
                record.bytesUp(n);
                services.stats().addUp(n);
                if (meter != null) {
                    meter.addUp(n);
                }
            } else {
                record.bytesDown(n);
                services.stats().addDown(n);
                if (meter != null) {
                    meter.addDown(n);
                }
            }
        }

        private void resume() {
            if (ended || closed) {
                return;
            }
            port.interest(wantRead, wantWrite);
            if (wantRead) {
                try {
                    readable();
                } catch (IOException | RuntimeException e) {
                    failed(e);
                }
            }
        }

        // ---- Port.Handler: the port's readiness, passed on ----

        @Override
        public void readable() throws IOException {
            if (!ended && !closed && handler != null) {
                handler.readable();
            }
        }

        @Override
        public void writable() throws IOException {
            if (!ended && !closed && handler != null) {
                handler.writable();
            }
        }

        @Override
        public void failed(Throwable cause) {
            if (closed || ended) {
                return;
            }
            if (cause instanceof Shutdown) {
                closeForGateway("shutdown", false);
            } else if (handler == null) {
                ForwardingConnection.this.close("reset", true);
            } else {
                try {
                    handler.failed(cause);
                } catch (RuntimeException e) {
                    ForwardingConnection.this.close("forwarder error", true);
                }
            }
        }
    }
}
