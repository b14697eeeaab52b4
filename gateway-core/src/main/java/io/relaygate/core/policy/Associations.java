package io.relaygate.core.policy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The UDP associations of one gateway's client listener: their settings and their caps per user and per client
 * address, so that one client cannot hold every socket the gateway may open. Thread-safe.
 */
public final class Associations {

    private volatile Duration idle;
    private volatile int maxPerUser;
    private volatile int maxPerSource;
    private volatile int maxPacketsPerSecond;
    private final ConcurrentHashMap<String, Integer> perUser = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<InetAddress, Integer> perSource = new ConcurrentHashMap<>();

    public Associations(Duration idle, int maxPerUser, int maxPerSource, int maxPacketsPerSecond) {
        reconfigure(idle, maxPerUser, maxPerSource, maxPacketsPerSecond);
    }

    /**
     * Changes the settings (a reload): new associations follow them; open ones keep their idle time and budget, and
     * count against the new caps.
     */
    public void reconfigure(Duration idleTimeout, int perUserCap, int perSourceCap, int packetsPerSecond) {
        this.idle = idleTimeout;
        this.maxPerUser = perUserCap;
        this.maxPerSource = perSourceCap;
        this.maxPacketsPerSecond = packetsPerSecond;
    }

    /** {@return a new association's budget of datagrams a second, both directions together} */
    public PacketBudget packetBudget(long now) {
        return new PacketBudget(maxPacketsPerSecond, now);
    }

    public Duration idle() {
        return idle;
    }

    /** {@return why a new association of {@code user} (or null) from {@code source} is refused, or null after taking it} */
    public String take(String user, InetAddress source) {
        if (!increment(perSource, source, maxPerSource)) {
            return "too many associations from this address";
        }
        if (user != null && !increment(perUser, user, maxPerUser)) {
            decrement(perSource, source);
            return "too many associations for this user";
        }
        return null;
    }

    /** Gives back what {@link #take} took. */
    public void release(String user, InetAddress source) {
        decrement(perSource, source);
        if (user != null) {
            decrement(perUser, user);
        }
    }

    private static <K> boolean increment(ConcurrentHashMap<K, Integer> counts, K key, int max) {
        boolean[] taken = {false};
        counts.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            taken[0] = now < max;
            return taken[0] ? now + 1 : (n == null ? null : n);
        });
        return taken[0];
    }

    private static <K> void decrement(ConcurrentHashMap<K, Integer> counts, K key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
}
