package io.relaygate.core.policy;

import io.relaygate.core.stats.GatewayStats;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The global cap on open client connections and the cap on connections still in their handshake per source
 * address. Thread-safe: the acceptor takes, the event loops give back.
 */
public final class ConnectionLimits {

    private volatile int maxConnections;
    private volatile int maxHandshakesPerSource;
    private volatile int maxLinksPerUser;
    private final GatewayStats stats;
    private final ConcurrentHashMap<InetAddress, Integer> handshaking = new ConcurrentHashMap<>();
    /** Load balancers whose connections carry a PROXY header: counted per source only once it names the client. */
    private volatile java.util.List<DestinationPolicy.Rule> trustedProxies = java.util.List.of();
    private final Object quiet = new Object();

    public ConnectionLimits(int maxConnections, int maxHandshakesPerSource, int maxLinksPerUser,
                            GatewayStats stats) {
        this.maxConnections = maxConnections;
        this.maxHandshakesPerSource = maxHandshakesPerSource;
        this.maxLinksPerUser = maxLinksPerUser;
        this.stats = stats;
    }

    /**
     * One admitted connection's hold on both caps. Ending the handshake gives back the per-source place, releasing
     * gives back both; each is idempotent, so the connection and then its relay may both release it. Used by one
     * thread at a time: the acceptor hands it to the connection's loop.
     */
    public static final class Permit {
        private final ConnectionLimits limits;
        /** Where the handshake is counted; null for a trusted proxy's connection before its header is read. */
        private InetAddress source;
        private boolean handshaking = true;
        private boolean open = true;

        private Permit(ConnectionLimits limits, InetAddress source) {
            this.limits = limits;
            this.source = source;
        }

        /**
         * Counts the handshake under {@code client}, the address a PROXY header named, instead of where it was.
         * {@return false, counting nothing new, when the client has as many handshakes as it may}
         */
        public boolean moveTo(InetAddress client) {
            if (!handshaking) {
                return true;
            }
            if (!limits.startHandshake(client)) {
                return false;
            }
            if (source != null) {
                limits.handshakeEnded(source);
            }
            source = client;
            return true;
        }

        /** The handshake is over (a tunnel, a refusal or a close): the source may start another. */
        public void endHandshake() {
            if (handshaking) {
                handshaking = false;
                limits.handshakeEnded(source);
            }
        }

        /** The connection has closed. */
        public void release() {
            endHandshake();
            if (open) {
                open = false;
                limits.closed();
            }
        }
    }

    /** Sets the load balancers whose connections are counted per source under the client their header names. */
    public void trustProxies(java.util.List<DestinationPolicy.Rule> proxies) {
        this.trustedProxies = java.util.List.copyOf(proxies);
    }

    /**
     * Changes the caps (a reload): new connections and links are admitted under them; those open stay, counted
     * against the new caps.
     */
    public void reconfigure(int connections, int handshakesPerSource, int linksPerUser) {
        this.maxConnections = connections;
        this.maxHandshakesPerSource = handshakesPerSource;
        this.maxLinksPerUser = linksPerUser;
    }

    /** {@return how many authenticated links one user may hold on the remote at once} */
    public int maxLinksPerUser() {
        return maxLinksPerUser;
    }

    /** {@return the permit of a new connection from {@code source}, or null when a cap refuses it} */
    public Permit tryOpen(InetAddress source) {
        if (stats.connectionOpened() > maxConnections) {
            closed();
            return null;
        }
        if (DestinationPolicy.anyBlockHolds(trustedProxies, source)) {
            return new Permit(this, null);      // one balancer carries many clients: counted per client later
        }
        if (!startHandshake(source)) {
            closed();
            return null;
        }
        return new Permit(this, source);
    }

    private boolean startHandshake(InetAddress source) {
        boolean[] admitted = {false};
        handshaking.compute(source, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= maxHandshakesPerSource) {
                return n;
            }
            admitted[0] = true;
            return current + 1;
        });
        return admitted[0];
    }

    private void handshakeEnded(InetAddress source) {
        if (source != null) {
            handshaking.computeIfPresent(source, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    private void closed() {
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
