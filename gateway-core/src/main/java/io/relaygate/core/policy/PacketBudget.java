package io.relaygate.core.policy;

/**
 * At most so many datagrams a second through one UDP association, both directions together: what keeps a small
 * request that elicits large or many replies from making the association a flood (RELIABILITY.md E7), whatever the
 * user's byte rate. A fixed one-second window; confined to the association's loop.
 */
public final class PacketBudget {

    private static final long SECOND_NANOS = 1_000_000_000L;

    private final int perSecond;
    private long windowStart;
    private int used;

    public PacketBudget(int perSecond, long now) {
        this.perSecond = perSecond;
        this.windowStart = now;
    }

    /** {@return whether one more datagram may pass at {@code now} (a loop's nanosecond clock)} */
    public boolean take(long now) {
        if (now - windowStart >= SECOND_NANOS) {
            windowStart = now;
            used = 0;
        }
        if (used >= perSecond) {
            return false;
        }
        used++;
        return true;
    }
}
