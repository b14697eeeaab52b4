package io.relaygate.core.net;

import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The life of a connection until its handshake hands it on, written once for every handshake the gateway runs (a
 * client's SOCKS5 or CONNECT, both ends of a link): it takes its port, runs an absolute deadline, queues output and
 * writes it as the port takes it, closes after a last reply, and on every way out closes or resets the port,
 * cancels its timers and gives back its permit, exactly once. Subclasses fill in the protocol through small hooks.
 * Confined to its loop.
 */
public abstract class HandshakeConnection implements Port.Handler {

    private enum State { OPEN, CLOSING, HANDED_OVER, CLOSED }

    protected final EventLoop loop;
    protected final Port port;
    /** The connection's place in the caps, or null (an outgoing link holds none). */
    private final ConnectionLimits.Permit permit;
    private final PendingWrites out = new PendingWrites();
    private State state = State.OPEN;
    private boolean reading = true;
    private Timer deadline;

    protected HandshakeConnection(EventLoop loop, Port port, ConnectionLimits.Permit permit) {
        this.loop = loop;
        this.port = port;
        this.permit = permit;
    }

    /** Takes the port, starts the absolute deadline, then calls {@link #started()}. Loop only. */
    public final void start(long deadlineNanos) {
        port.handler(this);
        // Absolute: set once and never extended, so a peer that drips bytes cannot hold the connection longer.
        deadline = loop.schedule(deadlineNanos, this::deadlinePassed);
        updateInterest();
        try {
            started();
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    // ---- hooks ----

    /** The connection runs: e.g. send the first message. */
    protected void started() throws IOException {
    }

    /** The port may be read: read it and go on with the handshake. Called only while open and reading. */
    protected abstract void onReadable() throws IOException;

    /** The deadline passed while the connection was still open or closing; by default it resets. */
    protected void deadlinePassed() {
        fail("handshake deadline");
    }

    /** The port or a hook failed; by default the connection resets. Not called once handed over or closed. */
    protected void onFailure(Throwable cause) {
        fail(cause instanceof Shutdown ? "gateway stopping" : "connection error");
    }

    /**
     * The connection has closed, its port too: release what the subclass holds (a dial, a registration).
     *
     * @param reason why, for the debug log and the counters
     * @param broken whether it ended by {@link #fail} (a reset) rather than cleanly
     */
    protected void closed(String reason, boolean broken) {
    }

    // ---- the port's readiness ----

    @Override
    public final void readable() throws IOException {
        if (state == State.OPEN && reading) {
            onReadable();
        }
    }

    @Override
    public final void writable() throws IOException {
        flush();
    }

    @Override
    public final void failed(Throwable cause) {
        if (state == State.OPEN || state == State.CLOSING) {
            onFailure(cause);
        }
    }

    // ---- what subclasses do ----

    /** {@return whether the handshake is still running: not closing, closed or handed over} */
    protected final boolean isOpen() {
        return state == State.OPEN;
    }

    /** Turns reading the port on or off (off while waiting for an answer off the loop). */
    protected final void reading(boolean on) {
        reading = on;
        updateInterest();
    }

    /** Queues bytes for the peer and writes what the port takes now; ignored once closing. */
    protected final void write(ByteBuffer bytes) {
        if (state != State.OPEN) {
            return;
        }
        out.add(bytes);
        try {
            flush();
        } catch (IOException e) {
            fail("write failed");
        }
    }

    /** The handshake's request is complete: the deadline no longer applies (a dial's own timeouts do). */
    protected final void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel();
        }
    }

    /** {@return the connection's place in the caps, or null; the next owner releases it after a hand-over} */
    protected final ConnectionLimits.Permit permit() {
        return permit;
    }

    /** The peer may start another handshake while this connection goes on. */
    protected final void endHandshake() {
        if (permit != null) {
            permit.endHandshake();
        }
    }

    /** Sends {@code last} (or nothing, if null), then closes; reads nothing more. */
    protected final void closeAfter(ByteBuffer last) {
        if (state != State.OPEN) {
            return;
        }
        if (last != null) {
            out.add(last);
        }
        state = State.CLOSING;
        endHandshake();
        try {
            flush();
        } catch (IOException e) {
            close("write failed");
        }
    }

    /** Closes with a reset, so a half-sent message is never taken as complete. Idempotent. */
    protected final void fail(String reason) {
        if (state == State.OPEN || state == State.CLOSING) {
            port.reset();
            finish(reason, true);
        }
    }

    /** Closes cleanly. Idempotent. */
    protected final void close(String reason) {
        if (state == State.OPEN || state == State.CLOSING) {
            port.close();
            finish(reason, false);
        }
    }

    /**
     * Hands the port to what comes next (a relay, a link session), which sets its own handler: the deadline stops
     * and the permit is no longer this connection's to release.
     *
     * @return the output not yet written, for the next owner to write first, or null
     */
    protected final ByteBuffer handOver() {
        state = State.HANDED_OVER;
        cancelDeadline();
        return out.take();
    }

    private void flush() throws IOException {
        boolean drained = out.flush(port);
        if (drained && state == State.CLOSING) {
            close("closed after the last reply");
            return;
        }
        updateInterest();
    }

    private void updateInterest() {
        if (state == State.OPEN || state == State.CLOSING) {
            port.interest(state == State.OPEN && reading, !out.isEmpty());
        }
    }

    private void finish(String reason, boolean broken) {
        state = State.CLOSED;
        cancelDeadline();
        if (permit != null) {
            permit.release();
        }
        closed(reason, broken);
    }
}
