package io.relaygate.core.shaping;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.spi.RateLimiter;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Who a tunnel's bytes are charged to, and the bucket that shapes them: on the remote, the tunnel's user (their rate
 * from the account store, kept current by its change feed); on the local, one principal for the whole proxy when
 * {@code rateLimit} is set. Keeps a {@link Meter} per principal for the console and the metrics. Thread-safe.
 */
public final class Shaping {

    /** The principal that stands for the whole local proxy. */
    public static final String LOCAL_PROXY = "(local proxy)";

    private final RateLimiter limiter;
    private final boolean perUser;
    private final Meter overall;
    private final ConcurrentHashMap<String, Meter> users = new ConcurrentHashMap<>();

    private Shaping(RateLimiter limiter, boolean perUser, Meter overall) {
        this.limiter = limiter;
        this.perUser = perUser;
        this.overall = overall;
    }

    /** No shaping and no per-user meters: a local proxy without {@code rateLimit}. */
    public static Shaping none() {
        return new Shaping(null, false, null);
    }

    /** Shapes each user to their own rate; {@code limiter} may be null (meters only, nothing shaped). */
    public static Shaping perUser(RateLimiter limiter) {
        return new Shaping(limiter, true, null);
    }

    /** Shapes every tunnel together to {@code bytesPerSecond}. */
    public static Shaping overall(RateLimiter limiter, long bytesPerSecond) {
        return new Shaping(limiter, false, new Meter(LOCAL_PROXY, limiter.bucket(LOCAL_PROXY, bytesPerSecond)));
    }

    /**
     * Records {@code user}'s rates as the account store gave them at login, before their tunnel opens, or as a change
     * made them: live tunnels follow at once. Any thread.
     *
     * @param rate     bytes per second over both directions, 0 unlimited
     * @param rateUp   bytes per second from the user's clients, beside {@code rate}; 0 for no separate limit
     * @param rateDown bytes per second to the user's clients, beside {@code rate}; 0 for no separate limit
     */
    public void loggedIn(String user, long rate, long rateUp, long rateDown) {
        if (!perUser) {
            return;
        }
        users.compute(user, (name, meter) -> {
            Meter m = meter != null ? meter : new Meter(name, null);
            if (limiter != null) {
                m.bucket = limiter.bucket(name, rate);
                m.upBucket = directionBucket(name + UP, rateUp, m.upBucket);
                m.downBucket = directionBucket(name + DOWN, rateDown, m.downBucket);
            }
            return m;
        });
    }

    /** The suffixes that name a user's own bucket for one direction; user names hold no {@code /}. */
    private static final String UP = "/up";
    private static final String DOWN = "/down";

    private RateLimiter.Bucket directionBucket(String principal, long rate, RateLimiter.Bucket current) {
        if (rate > 0) {
            return limiter.bucket(principal, rate);
        }
        if (current != null) {
            limiter.forget(principal);
        }
        return null;
    }

    /** Applies changed rates to the user's live tunnels at once, if the user has logged in. Any thread. */
    public void rateChanged(String user, long rate, long rateUp, long rateDown) {
        if (perUser && users.containsKey(user)) {
            loggedIn(user, rate, rateUp, rateDown);
        }
    }

    /** Changes the rate of the whole proxy ({@link #overall}); live tunnels follow at once. Otherwise does nothing. */
    public void overallRate(long bytesPerSecond) {
        if (overall != null && overall.bucket != null) {
            overall.bucket.rate(bytesPerSecond);
        }
    }

    /** Drops a deleted user's meter and bucket. Tunnels still open keep theirs until they close. */
    public void deleted(String user) {
        if (perUser) {
            users.remove(user);
            if (limiter != null) {
                limiter.forget(user);
                limiter.forget(user + UP);
                limiter.forget(user + DOWN);
            }
        }
    }

    /** {@return the meter that {@code user}'s tunnel is charged to, or null when nothing is metered} */
    public Meter meterFor(String user) {
        if (!perUser) {
            return overall;
        }
        return user == null ? null : users.computeIfAbsent(user, name -> new Meter(name, null));
    }

    /**
     * {@return one direction's throttle for a tunnel charged to {@code meter} (which may be null)}
     *
     * @param up whether the direction carries the client's bytes
     */
    public static Throttle throttle(Meter meter, EventLoop loop, boolean up) {
        return meter == null || meter.bucket == null ? Throttle.UNLIMITED : new Throttle(meter, loop, up);
    }

    /** {@return the meter of each principal seen since start, by name} */
    public Map<String, Meter> meters() {
        Map<String, Meter> copy = new TreeMap<>(users);
        if (overall != null) {
            copy.put(overall.principal, overall);
        }
        return copy;
    }

    /** {@return whether a rate limiter shapes anything here} */
    public boolean enabled() {
        return limiter != null;
    }

    /**
     * One principal's traffic and shaping, written by the event loops and read by anyone. Each value is exact when
     * the principal is quiet and approximate while its tunnels run.
     */
    public static final class Meter {
        private final String principal;
        private final LongAdder bytesUp = new LongAdder();
        private final LongAdder bytesDown = new LongAdder();
        private final LongAdder parkedNanos = new LongAdder();
        private final LongAdder shapedBytes = new LongAdder();
        private final LongAdder persisted = new LongAdder();
        /** Both directions together; null when nothing shapes the principal. */
        volatile RateLimiter.Bucket bucket;
        /** Each direction's own limit beside the total, or null. */
        volatile RateLimiter.Bucket upBucket;
        volatile RateLimiter.Bucket downBucket;

        Meter(String principal, RateLimiter.Bucket bucket) {
            this.principal = principal;
            this.bucket = bucket;
        }

        /** {@return the user, or {@link #LOCAL_PROXY}} */
        public String principal() {
            return principal;
        }

        /** {@return bytes from the principal's clients to destinations since start} */
        public long bytesUp() {
            return bytesUp.sum();
        }

        /** {@return bytes from destinations to the principal's clients since start} */
        public long bytesDown() {
            return bytesDown.sum();
        }

        /** {@return the time the principal's tunnel directions spent parked for tokens, summed, in nanoseconds} */
        public long parkedNanos() {
            return parkedNanos.sum();
        }

        /** {@return bytes that had to wait for tokens before they were read} */
        public long shapedBytes() {
            return shapedBytes.sum();
        }

        /** {@return the rate in bytes per second that shapes the principal now, 0 when unlimited or unshaped} */
        public long rate() {
            RateLimiter.Bucket b = bucket;
            return b == null ? 0 : b.rate();
        }

        public void addUp(long n) {
            bytesUp.add(n);
        }

        /** {@return the rate of one direction's own limit, 0 when there is none} */
        public long rate(boolean up) {
            RateLimiter.Bucket b = up ? upBucket : downBucket;
            return b == null ? 0 : b.rate();
        }

        /** {@return the bytes of both directions that have been persisted (see {@link #persisted(long)})} */
        public long persisted() {
            return persisted.sum();
        }

        /** Counts bytes of this principal that the account store now holds, so the rest is known to be pending. */
        public void persisted(long bytes) {
            persisted.add(bytes);
        }

        /**
         * Takes {@code bytes} for one datagram from the principal's buckets (the total and the direction's own), all
         * or nothing: a datagram over a rate is dropped, never delayed. {@return whether it may go}
         */
        public boolean admitDatagram(int bytes, boolean up) {
            RateLimiter.Bucket total = limiting(bucket);
            RateLimiter.Bucket own = limiting(up ? upBucket : downBucket);
            if (!takeAll(total, bytes)) {
                return false;
            }
            if (!takeAll(own, bytes)) {
                if (total != null) {
                    total.refund(bytes);
                }
                return false;
            }
            return true;
        }

        private static boolean takeAll(RateLimiter.Bucket b, int bytes) {
            if (b == null) {
                return true;
            }
            long granted = b.tryAcquire(bytes);
            if (granted >= bytes) {
                return true;
            }
            if (granted > 0) {
                b.refund(granted);
            }
            return false;
        }

        /** {@return the bucket if it limits anything now, else null} */
        static RateLimiter.Bucket limiting(RateLimiter.Bucket b) {
            return b == null || b.rate() == 0 ? null : b;
        }

        public void addDown(long n) {
            bytesDown.add(n);
        }

        void parked(long nanos) {
            parkedNanos.add(nanos);
        }

        void shaped(long n) {
            shapedBytes.add(n);
        }
    }
}
