package io.relaygate.core.tunnel;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The global cap on open client connections and the cap on connections still in their handshake per source
 * address. Thread-safe: the acceptor takes, the event loops give back.
 */
public final class ConnectionLimits {

    private final int maxConnections;
    private final int maxHandshakesPerSource;
    private final GatewayStats stats;
    private final ConcurrentHashMap<InetAddress, Integer> handshaking = new ConcurrentHashMap<>();
    private final Object quiet = new Object();

    public ConnectionLimits(int maxConnections, int maxHandshakesPerSource, GatewayStats stats) {
        this.maxConnections = maxConnections;
        this.maxHandshakesPerSource = maxHandshakesPerSource;
        this.stats = stats;
    }

    /** {@return whether a new connection from {@code source} may open; if so it holds both permits} */
    boolean tryOpen(InetAddress source) {
        if (stats.connectionOpened() > maxConnections) {
            closed();
            return false;
        }
        boolean[] admitted = {false};
        handshaking.compute(source, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= maxHandshakesPerSource) {
                return n;
            }
            admitted[0] = true;
            return current + 1;
        });
        if (!admitted[0]) {
            closed();
        }
        return admitted[0];
    }

    /** Gives back the per-source handshake permit. Call once per connection, when its handshake ends. */
    void handshakeEnded(InetAddress source) {
        handshaking.computeIfPresent(source, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Gives back the global permit. Call once per connection, when it closes. */
    void closed() {
        if (stats.connectionClosed() == 0) {
            synchronized (quiet) {
                quiet.notifyAll();
            }
        }
    }

    /**
     * Waits until no client connection is open, or the timeout passes.
     *
     * @return whether none is open
     */
    public boolean awaitNoConnections(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (quiet) {
            while (stats.openConnections() > 0) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                quiet.wait(left);
            }
        }
        return true;
    }
}
