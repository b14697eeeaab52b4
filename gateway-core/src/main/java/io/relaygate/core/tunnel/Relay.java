package io.relaygate.core.tunnel;

import io.relaygate.core.shaping.Throttle;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * Relays one tunnel's two sockets on one event loop, without locks.
 * <p>
 * Each direction reads into a pooled buffer and writes it straight on; when the write cannot complete, the
 * direction keeps that one buffer, stops reading its source and waits for its sink to drain (backpressure), so a
 * tunnel never holds more than one buffer per direction, whatever the peers' speeds, and an idle tunnel holds none.
 * EOF on one side becomes {@code shutdownOutput()} on the other; the tunnel closes when both directions have ended,
 * or at the half-closed timeout. An I/O error on either side resets both.
 */
final class Relay extends TunnelRelay {

    /** Reads per readiness event, so one busy tunnel cannot monopolise its loop. */
    private static final int MAX_READS_PER_EVENT = 16;

    private final SocketChannel client;
    private final SocketChannel upstream;
    private final SelectionKey clientKey;
    private final SelectionKey upstreamKey;
    private final Direction up;
    private final Direction down;

    /**
     * @param initialDown bytes for the client before anything from upstream (the handshake's reply), or null
     * @param initialUp   bytes for upstream before anything from the client (the client's early data), or null
     */
    Relay(EventLoop loop, TunnelServices services, TunnelRecord record, SocketChannel client,
          SelectionKey clientKey, SocketChannel upstream, SelectionKey upstreamKey, ByteBuffer initialDown,
          ByteBuffer initialUp) {
        super(loop, services, record);
        this.client = client;
        this.upstream = upstream;
        this.clientKey = clientKey;
        this.upstreamKey = upstreamKey;
        this.up = new Direction(true, client, upstream, initialUp);
        this.down = new Direction(false, upstream, client, initialDown);
    }

    void start() {
        opened();
        clientKey.attach(new SideHandler(up, down));
        upstreamKey.attach(new SideHandler(down, up));
        try {
            down.flush();
            up.flush();
            interestChanged();
        } catch (IOException e) {
            abort("reset", e);
        }
    }

    /** The attachment of one socket's key: it is the source of one direction and the sink of the other. */
    private final class SideHandler implements IoHandler {
        private final Direction readsFromMe;
        private final Direction writesToMe;

        SideHandler(Direction readsFromMe, Direction writesToMe) {
            this.readsFromMe = readsFromMe;
            this.writesToMe = writesToMe;
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            int ready = key.readyOps();
            if ((ready & SelectionKey.OP_WRITE) != 0) {
                writesToMe.flush();
            }
            if (!isClosed() && (ready & SelectionKey.OP_READ) != 0) {
                readsFromMe.pump();
            }
            if (!isClosed()) {
                interestChanged();
            }
        }

        @Override
        public void failed(Throwable cause) {
            sideFailed(cause);
        }
    }

    /** One direction: reads {@code source}, writes {@code sink}. */
    private final class Direction {
        private final boolean isUp;
        private final SocketChannel source;
        private final SocketChannel sink;
        private final Throttle throttle;
        private final Runnable resume;
        private ByteBuffer pending;
        private boolean pendingPooled;
        private boolean eof;
        private boolean ended;

        Direction(boolean isUp, SocketChannel source, SocketChannel sink, ByteBuffer initial) {
            this.isUp = isUp;
            this.source = source;
            this.sink = sink;
            this.throttle = isUp ? upThrottle : downThrottle;
            this.resume = resumer(this::pump);
            if (initial != null && initial.hasRemaining()) {
                this.pending = initial;
                if (isUp) {
                    count(initial.remaining());
                }
            }
        }

        boolean wantsRead() {
            return !eof && pending == null && !throttle.isParked();
        }

        boolean wantsWrite() {
            return pending != null;
        }

        void pump() throws IOException {
            if (!wantsRead()) {
                return;
            }
            BufferPool pool = services.pool();
            int allowed = throttle.grant(pool.bufferSize(), resume);
            if (allowed == 0) {
                return;             // parked: no buffer held, read interest off until the resume
            }
            ByteBuffer buffer = pool.acquire();
            try {
                for (int reads = 1; ; reads++) {
                    buffer.limit(allowed);
                    int n = source.read(buffer);
                    if (n <= 0) {
                        eof = n < 0;
                        break;
                    }
                    throttle.used(n);
                    count(n);
                    touch();
                    buffer.flip();
                    sink.write(buffer);
                    if (buffer.hasRemaining()) {
                        pending = buffer;
                        pendingPooled = true;
                        buffer = null;
                        return;
                    }
                    buffer.clear();
                    if (n < allowed || reads == MAX_READS_PER_EVENT) {
                        break;      // the socket is very likely drained; spare a read that would return 0
                    }
                    allowed = throttle.grant(buffer.capacity(), resume);
                    if (allowed == 0) {
                        break;
                    }
                }
            } finally {
                if (buffer != null) {
                    pool.release(buffer);
                }
                throttle.settle();
            }
            if (eof) {
                end();
            }
        }

        void flush() throws IOException {
            if (pending == null) {
                return;
            }
            sink.write(pending);
            if (pending.hasRemaining()) {
                return;
            }
            if (pendingPooled) {
                services.pool().release(pending);
            }
            pending = null;
            pendingPooled = false;
            if (eof) {
                end();
            } else {
                pump();     // resume at once rather than after another select
            }
        }

        /** Propagates EOF: half-closes the sink, and closes the tunnel when the other direction has ended too. */
        private void end() throws IOException {
            if (ended) {
                return;
            }
            ended = true;
            sink.shutdownOutput();
            directionEnded((isUp ? down : up).ended);
        }

        private void count(int n) {
            if (isUp) {
                countUp(n);
            } else {
                countDown(n);
            }
        }

        void releaseBuffer() {
            if (pending != null && pendingPooled) {
                services.pool().release(pending);
            }
            pending = null;
        }
    }

    @Override
    void interestChanged() {
        int clientOps = (up.wantsRead() ? SelectionKey.OP_READ : 0) | (down.wantsWrite() ? SelectionKey.OP_WRITE : 0);
        int upstreamOps = (down.wantsRead() ? SelectionKey.OP_READ : 0) | (up.wantsWrite() ? SelectionKey.OP_WRITE : 0);
        if (clientKey.interestOps() != clientOps) {
            clientKey.interestOps(clientOps);
        }
        if (upstreamKey.interestOps() != upstreamOps) {
            upstreamKey.interestOps(upstreamOps);
        }
    }

    @Override
    void closeSockets(boolean reset) {
        if (reset) {
            Sockets.reset(client);
            Sockets.reset(upstream);
        } else {
            Sockets.close(client);
            Sockets.close(upstream);
        }
        clientKey.cancel();
        upstreamKey.cancel();
    }

    @Override
    void releaseBuffers() {
        up.releaseBuffer();
        down.releaseBuffer();
    }
}
