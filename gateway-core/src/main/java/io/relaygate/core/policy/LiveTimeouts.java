package io.relaygate.core.policy;

import java.time.Duration;

/**
 * The timeouts a reload changes: each connection reads them when it starts, so a change applies to new connections
 * and leaves running ones as they began. Thread-safe.
 */
public final class LiveTimeouts {

    private volatile Duration handshake;
    private volatile Duration idle;
    private volatile Duration halfClosed;

    public LiveTimeouts(Duration handshake, Duration idle, Duration halfClosed) {
        set(handshake, idle, halfClosed);
    }

    /** Replaces all three at once. */
    public void set(Duration handshakeTimeout, Duration idleTimeout, Duration halfClosedTimeout) {
        this.handshake = handshakeTimeout;
        this.idle = idleTimeout;
        this.halfClosed = halfClosedTimeout;
    }

    /** {@return how long a client connection may take to finish its handshake} */
    public Duration handshake() {
        return handshake;
    }

    /** {@return how long a tunnel may stay quiet both ways} */
    public Duration idle() {
        return idle;
    }

    /** {@return how long a tunnel may stay with one direction ended} */
    public Duration halfClosed() {
        return halfClosed;
    }
}
