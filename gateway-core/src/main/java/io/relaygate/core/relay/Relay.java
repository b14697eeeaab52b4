package io.relaygate.core.relay;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.PortException;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.shaping.Throttle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * Relays one tunnel between two {@link Port}s on one event loop, without locks, whatever the ports are: two sockets
 * (direct), a client socket and a link stream (the local over a link), a link stream and a destination socket (the
 * remote).
 * <p>
 * Each direction reads into a pooled buffer and writes it straight on; when the write cannot complete, the
 * direction keeps that one buffer, stops reading its source and waits for its sink to drain (backpressure), so a
 * tunnel never holds more than one buffer per direction, whatever the peers' speeds, and an idle tunnel holds none.
 * A direction whose last read filled a relay buffer (its source keeps more waiting: a download) reads into a bulk
 * buffer while one is free: fewer system calls and wake-ups of both peers per byte, for a bounded number of
 * tunnels at once.
 * End of stream on one side becomes {@link Port#shutdownOutput()} on the other; the tunnel closes when both
 * directions have ended or at the idle or the half-closed timeout. A revocation (the user disabled, deleted, expired
 * or at their quota; the operator closing a public port) and a failure of either port reset both. At close: the
 * counters, the permit, the user's sessions and the access log line.
 */
public final class Relay {

    /** Reads per readiness event, so one busy tunnel cannot monopolise its loop. */
    private static final int MAX_READS_PER_EVENT = 16;

    private final EventLoop loop;
    private final RelayServices services;
    private final TunnelRecord record;
    private final Port client;
    private final Port upstream;
    /** The principal the tunnel is charged to, or null. */
    private final Shaping.Meter meter;
    private final Direction up;
    private final Direction down;
    private final TunnelLife life;
    private Timer halfClosedTimer;
    private boolean closed;
    private Runnable onClosed;
    private LongAdder alsoUp;
    private LongAdder alsoDown;

    /**
     * @param client      the side the tunnel was asked for from: its bytes count as "up"
     * @param initialDown bytes for the client before anything from upstream (the handshake's reply), or null
     * @param initialUp   bytes for upstream before anything from the client (the client's early data), or null
     */
    public Relay(EventLoop loop, RelayServices services, TunnelRecord record, Port client, Port upstream,
                 ByteBuffer initialDown, ByteBuffer initialUp) {
        this.loop = loop;
        this.services = services;
        this.record = record;
        this.client = client;
        this.upstream = upstream;
        this.meter = services.shaping().meterFor(record.user);
        this.up = new Direction(true, client, upstream, initialUp);
        this.down = new Direction(false, upstream, client, initialDown);
        this.life = new TunnelLife(loop, services, record, services.idle().toNanos(), this::end);
    }

    /** Runs {@code task} once the tunnel has ended, its counters final. Loop only, before {@link #start()}. */
    public void whenClosed(Runnable task) {
        this.onClosed = task;
    }

    /** Also counts the tunnel's bytes, as they move, into {@code up} and {@code down}. Loop only, before start. */
    public void countInto(LongAdder up, LongAdder down) {
        this.alsoUp = up;
        this.alsoDown = down;
    }

    /**
     * Ends the tunnel at once, as a revocation does: both ends are reset, so that neither takes what it received
     * for all there was (a download cut short by a disabled account must not look complete). Loop only; idempotent.
     */
    public void terminate(String outcome) {
        if (!closed) {
            client.reset();
            upstream.reset();
            finish(outcome);
        }
    }

    /** Its life ended it: revoked (reset), or quiet for the idle time (closed, as a server's idle timeout). */
    private void end(String outcome) {
        if (TunnelLife.cutShort(outcome)) {
            terminate(outcome);
        } else {
            close(outcome);
        }
    }

    /** Starts moving bytes: the initial ones first. Loop only. */
    public void start() {
        services.stats().tunnelOpened();
        life.start();
        client.handler(new Side(up, down));
        upstream.handler(new Side(down, up));
        try {
            down.flush();
            up.flush();
            if (!closed) {
                interestChanged();
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    /** One port's readiness: it is the source of one direction and the sink of the other. */
    private final class Side implements Port.Handler {
        private final Direction readsFromMe;
        private final Direction writesToMe;

        Side(Direction readsFromMe, Direction writesToMe) {
            this.readsFromMe = readsFromMe;
            this.writesToMe = writesToMe;
        }

        @Override
        public void readable() throws IOException {
            if (!closed) {
                readsFromMe.pump();
            }
            if (!closed) {
                interestChanged();
            }
        }

        @Override
        public void writable() throws IOException {
            if (!closed) {
                writesToMe.flush();
            }
            if (!closed) {
                interestChanged();
            }
        }

        @Override
        public void failed(Throwable cause) {
            Relay.this.failed(cause);
        }
    }

    /** One direction: reads {@code source}, writes {@code sink}. */
    private final class Direction {
        private final boolean isUp;
        private final Port source;
        private final Port sink;
        private final Throttle throttle;
        private final Runnable resume;
        private ByteBuffer pending;
        /** Where {@link #pending} goes back to; null when it is not pooled (the handshake's bytes). */
        private BufferPool pendingPool;
        /** The last read filled a relay buffer: the next one asks for a bulk buffer. */
        private boolean bulk;
        private boolean eof;
        private boolean ended;

        Direction(boolean isUp, Port source, Port sink, ByteBuffer initial) {
            this.isUp = isUp;
            this.source = source;
            this.sink = sink;
            this.throttle = Shaping.throttle(meter, loop, isUp);
            this.resume = this::resume;
            if (initial != null && initial.hasRemaining()) {
                this.pending = initial;
                if (isUp) {
                    count(initial.remaining());     // the client's early data; a handshake reply is not traffic
                }
            }
        }

        boolean wantsRead() {
            return !eof && pending == null && !throttle.isParked();
        }

        boolean wantsWrite() {
            return pending != null;
        }

        /** A parked direction's reservation came through: read what it allows; a failure ends this tunnel only. */
        private void resume() {
            if (closed) {
                return;
            }
            try {
                pump();
                if (!closed) {
                    interestChanged();
                }
            } catch (IOException | RuntimeException e) {
                failed(e);
            }
        }

        void pump() throws IOException {
            if (!wantsRead()) {
                return;
            }
            BufferPool pool = services.pool();
            ByteBuffer buffer = bulk ? pool.bulk().tryAcquire() : null;
            if (buffer != null) {
                pool = pool.bulk();
            }
            int allowed = throttle.grant(pool.bufferSize(), resume);
            if (allowed == 0) {
                if (buffer != null) {
                    pool.release(buffer);
                }
                return;             // parked: no buffer held, read interest off until the resume
            }
            if (buffer == null) {
                buffer = pool.acquire();
            }
            try {
                for (int reads = 1; ; reads++) {
                    buffer.limit(allowed);
                    int n = source.read(buffer);
                    if (n <= 0) {
                        eof = n < 0;
                        break;
                    }
                    bulk = n >= services.pool().bufferSize();
                    throttle.used(n);
                    count(n);
                    life.active();
                    buffer.flip();
                    sink.write(buffer);
                    if (buffer.hasRemaining()) {
                        pending = buffer;
                        pendingPool = pool;
                        buffer = null;
                        return;
                    }
                    buffer.clear();
                    if (n < allowed || reads == MAX_READS_PER_EVENT) {
                        break;      // the source is very likely drained; spare a read that would return 0
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
            releaseBuffer();
            if (eof) {
                end();
            } else {
                pump();     // resume at once rather than after another select
            }
        }

        /** Propagates end of stream: half-closes the sink, and closes the tunnel when both directions have ended. */
        private void end() throws IOException {
            if (ended) {
                return;
            }
            ended = true;
            sink.shutdownOutput();
            Direction other = isUp ? down : up;
            if (other.ended) {
                close("closed");
            } else if (halfClosedTimer == null) {
                halfClosedTimer = loop.schedule(services.halfClosed().toNanos(), () -> close("half-closed timeout"));
            }
        }

        private void count(int n) {
            if (isUp) {
                record.bytesUp += n;
                services.stats().addUp(n);
                if (alsoUp != null) {
                    alsoUp.add(n);
                }
                if (meter != null) {
                    meter.addUp(n);
                }
            } else {
                record.bytesDown += n;
                services.stats().addDown(n);
                if (alsoDown != null) {
                    alsoDown.add(n);
                }
                if (meter != null) {
                    meter.addDown(n);
                }
            }
        }

        void releaseBuffer() {
            if (pending != null && pendingPool != null) {
                pendingPool.release(pending);
            }
            pending = null;
            pendingPool = null;
        }
    }

    private void interestChanged() {
        client.interest(up.wantsRead(), down.wantsWrite());
        upstream.interest(down.wantsRead(), up.wantsWrite());
    }

    /** What a port's failure does: a stop closes cleanly, a known outcome is recorded, anything else resets. */
    private void failed(Throwable cause) {
        if (cause instanceof Shutdown) {
            close("shutdown");
        } else {
            abort(cause instanceof PortException known ? known.outcome() : "reset", cause);
        }
    }

    /** Ends the tunnel cleanly: both sides closed. Idempotent. */
    private void close(String outcome) {
        if (!closed) {
            client.close();
            upstream.close();
            finish(outcome);
        }
    }

    /** Ends the tunnel as broken: the far ends learn it by a reset, never mistaking it for a clean end. */
    private void abort(String outcome, Throwable cause) {
        if (!closed) {
            services.debug("tunnel {} aborted: {}", record, cause);
            client.reset();
            upstream.reset();
            finish(outcome);
        }
    }

    private void finish(String outcome) {
        closed = true;
        up.throttle.close();
        down.throttle.close();
        if (halfClosedTimer != null) {
            halfClosedTimer.cancel();
        }
        up.releaseBuffer();
        down.releaseBuffer();
        services.stats().tunnelClosed();
        life.end(outcome);
        if (onClosed != null) {
            onClosed.run();
        }
    }
}
