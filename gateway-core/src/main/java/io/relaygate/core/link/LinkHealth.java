package io.relaygate.core.link;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the local's link pools publish about their links to the remote, for the console and {@code /api/status}:
 * so a user sees "credentials refused" or "remote unreachable" where tunnels fail. Thread-safe: each pool publishes
 * from its loop, the console reads from anywhere.
 */
public final class LinkHealth {

    /**
     * The links now.
     *
     * @param links          authenticated links up
     * @param streams        tunnels they carry or are opening
     * @param roundTripNanos the shortest round trip the last pings measured, or -1 before any
     * @param lastProblem    the last refusal or error ("credentials refused…", "remote unreachable…"), or null
     * @param lastProblemAt  when it happened, milliseconds since the epoch, or 0
     * @param refusedOpens   streams the remote tried to open that this local refused (it exposes no service)
     */
    public record Snapshot(int links, int streams, long roundTripNanos, String lastProblem, long lastProblemAt,
                           long refusedOpens) {

        /** {@return "connected" with a link up, "failing" after a problem and none up, "connecting" otherwise} */
        public String state() {
            return links > 0 ? "connected" : lastProblem != null ? "failing" : "connecting";
        }
    }

    private record Figures(int links, int streams, long roundTripNanos) {
    }

    private final Map<Object, Figures> byPool = new ConcurrentHashMap<>();
    private volatile String lastProblem;
    private volatile long lastProblemAt;
    private final java.util.concurrent.atomic.LongAdder refusedOpens = new java.util.concurrent.atomic.LongAdder();

    void publish(Object pool, int links, int streams, long roundTripNanos) {
        byPool.put(pool, new Figures(links, streams, roundTripNanos));
    }

    void problem(String reason) {
        lastProblem = reason;
        lastProblemAt = System.currentTimeMillis();
    }

    void refusedOpen() {
        refusedOpens.increment();
    }

    /** {@return the figures of every pool together} */
    public Snapshot snapshot() {
        int links = 0;
        int streams = 0;
        long rtt = -1;
        for (Figures figures : byPool.values()) {
            links += figures.links();
            streams += figures.streams();
            if (figures.roundTripNanos() >= 0 && (rtt < 0 || figures.roundTripNanos() < rtt)) {
                rtt = figures.roundTripNanos();
            }
        }
        return new Snapshot(links, streams, rtt, lastProblem, lastProblemAt, refusedOpens.sum());
    }
}
