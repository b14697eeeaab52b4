package io.relaygate.core.stats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the whole gateway, written by the event loops and read by anyone (the console, tests). Thread-safe;
 * each value is exact when the gateway is quiet and approximate while it runs.
 */
public final class GatewayStats {

    private final AtomicInteger openConnections = new AtomicInteger();
    private final LongAdder acceptedConnections = new LongAdder();
    private final LongAdder refusedConnections = new LongAdder();
    private final AtomicInteger openTunnels = new AtomicInteger();
    private final LongAdder totalTunnels = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final Map<String, LongAdder> handshakeFailures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> tunnelFailures = new ConcurrentHashMap<>();
    private final AtomicInteger openAssociations = new AtomicInteger();
    private final LongAdder datagramsUp = new LongAdder();
    private final LongAdder datagramsDown = new LongAdder();
    private final Map<String, LongAdder> datagramsDropped = new ConcurrentHashMap<>();

    /** {@return client connections open now, in their handshake or relaying} */
    public int openConnections() {
        return openConnections.get();
    }

    /** {@return client connections accepted since start} */
    public long acceptedConnections() {
        return acceptedConnections.sum();
    }

    /** {@return client connections closed at once because a connection cap was reached} */
    public long refusedConnections() {
        return refusedConnections.sum();
    }

    /** {@return tunnels relaying now} */
    public int openTunnels() {
        return openTunnels.get();
    }

    /** {@return tunnels that reached the relay since start} */
    public long totalTunnels() {
        return totalTunnels.sum();
    }

    /** {@return bytes relayed from clients to destinations} */
    public long bytesUp() {
        return bytesUp.sum();
    }

    /** {@return bytes relayed from destinations to clients} */
    public long bytesDown() {
        return bytesDown.sum();
    }

    /** {@return handshake failures by reason, e.g. {@code "socks5: bad version" → 3}} */
    public Map<String, Long> handshakeFailures() {
        return snapshot(handshakeFailures);
    }

    /** {@return tunnel setups that failed, by outcome, e.g. {@code "CONNECTION_REFUSED" → 2}} */
    public Map<String, Long> tunnelFailures() {
        return snapshot(tunnelFailures);
    }

    /** {@return UDP associations open now} */
    public int openAssociations() {
        return openAssociations.get();
    }

    /** {@return datagrams relayed from clients to destinations} */
    public long datagramsUp() {
        return datagramsUp.sum();
    }

    /** {@return datagrams relayed from destinations to clients} */
    public long datagramsDown() {
        return datagramsDown.sum();
    }

    /** {@return datagrams dropped, by reason, e.g. {@code "fragmented" → 3}} */
    public Map<String, Long> datagramsDropped() {
        return snapshot(datagramsDropped);
    }

    public void associationOpened() {
        openAssociations.incrementAndGet();
    }

    public void associationClosed() {
        openAssociations.decrementAndGet();
    }

    /** Counts one datagram relayed and its payload's bytes. */
    public void datagramUp(int bytes) {
        datagramsUp.increment();
        bytesUp.add(bytes);
    }

    public void datagramDown(int bytes) {
        datagramsDown.increment();
        bytesDown.add(bytes);
    }

    public void datagramDropped(String reason) {
        LongAdder counter = datagramsDropped.get(reason);
        if (counter == null) {
            counter = datagramsDropped.size() >= MAX_REASONS
                    ? datagramsDropped.computeIfAbsent(OTHER_REASON, k -> new LongAdder())
                    : datagramsDropped.computeIfAbsent(reason, k -> new LongAdder());
        }
        counter.increment();
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
        Map<String, Long> copy = new TreeMap<>();
        counters.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    public int connectionOpened() {
        acceptedConnections.increment();
        return openConnections.incrementAndGet();
    }

    public int connectionClosed() {
        return openConnections.decrementAndGet();
    }

    public void connectionRefused() {
        refusedConnections.increment();
    }

    public void tunnelOpened() {
        openTunnels.incrementAndGet();
        totalTunnels.increment();
    }

    public void tunnelClosed() {
        openTunnels.decrementAndGet();
    }

    public void addUp(long n) {
        bytesUp.add(n);
    }

    public void addDown(long n) {
        bytesDown.add(n);
    }

    /**
     * Reasons become label values of {@code /metrics}, where every distinct value is a series kept forever: past this
     * many the rest are counted as {@link #OTHER_REASON}, whatever clients or plugins make the reasons say.
     */
    public static final int MAX_REASONS = 64;
    /** The reason every failure beyond {@link #MAX_REASONS} distinct ones is counted under. */
    public static final String OTHER_REASON = "other";

    public void handshakeFailed(String reason) {
        LongAdder counter = handshakeFailures.get(reason);
        if (counter == null) {
            counter = handshakeFailures.size() >= MAX_REASONS
                    ? handshakeFailures.computeIfAbsent(OTHER_REASON, k -> new LongAdder())
                    : handshakeFailures.computeIfAbsent(reason, k -> new LongAdder());
        }
        counter.increment();
    }

    public void tunnelFailed(String outcome) {
        tunnelFailures.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }
}
