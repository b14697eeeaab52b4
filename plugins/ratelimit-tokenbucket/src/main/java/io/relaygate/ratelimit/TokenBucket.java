package io.relaygate.ratelimit;

import io.relaygate.spi.RateLimiter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket kept as one number: the time at which the bucket will be full again if nothing more is taken (the
 * "theoretical arrival time" of GCRA). Taking {@code n} bytes moves it {@code n / rate} later; the bucket holds at
 * most {@code capacity} bytes, so it never lies more than {@code capacity / rate} before now. A reservation may move
 * it further ahead, into debt, which is what queues waiting callers: each waits until its own bytes are covered. One
 * compare-and-set per grant, no lock, no allocation, no busy wait. Thread-safe.
 */
final class TokenBucket implements RateLimiter.Bucket {

    /** A reservation lasts about this long at the rate: short enough to share fairly and to see rate changes. */
    private static final double RESERVATION_SECONDS = 0.02;
    private static final long MIN_RESERVATION = 1024;

    /** The rate and what follows from it, swapped as one so that a reader never mixes two rates. */
    private record Shape(long rate, double nanosPerByte, long capacityBytes, long capacityNanos, long reservation) {
    }

    private static final Shape UNLIMITED = new Shape(0, 0, 0, 0, Long.MAX_VALUE);

    private final LongSupplier clock;
    private final double capacitySeconds;
    private final long minCapacityBytes;
    /** When the bucket would be full again; at or before now means full, beyond now + capacity means debt. */
    private final AtomicLong fullAt;
    private volatile Shape shape = UNLIMITED;

    /**
     * @param bytesPerSecond   the rate, 0 for unlimited
     * @param capacitySeconds  the burst as a duration of rate
     * @param minCapacityBytes the burst's floor, so that large reads stay efficient at low rates
     * @param clock            {@link System#nanoTime} or a test clock
     */
    TokenBucket(long bytesPerSecond, double capacitySeconds, long minCapacityBytes, LongSupplier clock) {
        this.clock = clock;
        this.capacitySeconds = capacitySeconds;
        this.minCapacityBytes = minCapacityBytes;
        this.fullAt = new AtomicLong(clock.getAsLong());
        rate(bytesPerSecond);
    }

    @Override
    public long tryAcquire(long wanted) {
        Shape s = shape;
        if (s.rate == 0 || wanted <= 0) {
            return Math.max(0, wanted);         // unlimited: the fast path costs one volatile read
        }
        while (true) {
            long now = clock.getAsLong();
            long full = fullAt.get();
            long base = Math.max(full, now);
            long available = (long) ((now + s.capacityNanos - base) / s.nanosPerByte);
            long granted = Math.min(wanted, available);
            // Nothing smaller than a reservation's worth: a caller granted a few bytes at a time would spin on its
            // socket, reading dribbles, where one that reserves sleeps until a useful amount is there.
            if (granted < Math.min(wanted, s.reservation)) {
                return 0;
            }
            if (fullAt.compareAndSet(full, base + nanos(granted, s))) {
                return granted;
            }
        }
    }

    @Override
    public long reserve(long bytes) {
        Shape s = shape;
        if (s.rate == 0 || bytes <= 0) {
            return 0;
        }
        while (true) {
            long now = clock.getAsLong();
            long full = fullAt.get();
            long next = Math.max(full, now) + nanos(bytes, s);
            if (fullAt.compareAndSet(full, next)) {
                // The reserved bytes are covered once the bucket's level, capacity ahead of "full", reaches them.
                return Math.max(0, next - s.capacityNanos - now);
            }
        }
    }

    @Override
    public void refund(long bytes) {
        Shape s = shape;
        if (s.rate == 0 || bytes <= 0) {
            return;
        }
        long back = nanos(bytes, s);
        while (true) {
            long now = clock.getAsLong();
            long full = fullAt.get();
            if (full <= now) {
                return;                         // already full: a bucket holds no more than its capacity
            }
            if (fullAt.compareAndSet(full, Math.max(now, full - back))) {
                return;
            }
        }
    }

    @Override
    public long reservationSize() {
        return shape.reservation;
    }

    @Override
    public void rate(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("rate: " + bytesPerSecond + " (expected: >= 0)");
        }
        Shape old = shape;
        if (old.rate == bytesPerSecond) {
            return;
        }
        Shape next = shapeFor(bytesPerSecond);
        // Keep the bucket's level in bytes across the change, debt included: bytes owed by waiting callers are then
        // paid at the new rate (a raised rate speeds them up), and a burst taken just before a cut is not forgiven.
        while (true) {
            long now = clock.getAsLong();
            long full = fullAt.get();
            long carried = now;
            if (old.rate != 0 && next.rate != 0 && full > now) {
                double level = Math.min(next.capacityBytes, old.capacityBytes - (full - now) / old.nanosPerByte);
                carried = now + (long) Math.ceil((next.capacityBytes - level) * next.nanosPerByte);
            }
            if (fullAt.compareAndSet(full, carried)) {
                break;
            }
        }
        shape = next;
    }

    @Override
    public long rate() {
        return shape.rate;
    }

    /** {@return the burst capacity in bytes at the current rate, 0 when unlimited} */
    long capacity() {
        return shape.capacityBytes;
    }

    private Shape shapeFor(long bytesPerSecond) {
        if (bytesPerSecond == 0) {
            return UNLIMITED;
        }
        double nanosPerByte = 1e9 / bytesPerSecond;
        long capacity = Math.max(minCapacityBytes, (long) (bytesPerSecond * capacitySeconds));
        long reservation = Math.max(MIN_RESERVATION, Math.min(capacity, (long) (bytesPerSecond * RESERVATION_SECONDS)));
        return new Shape(bytesPerSecond, nanosPerByte, capacity, (long) (capacity * nanosPerByte), reservation);
    }

    private static long nanos(long bytes, Shape s) {
        return (long) Math.ceil(bytes * s.nanosPerByte);
    }
}
