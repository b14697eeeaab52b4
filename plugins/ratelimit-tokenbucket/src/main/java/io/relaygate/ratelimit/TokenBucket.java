package io.relaygate.ratelimit;

import io.relaygate.spi.RateLimiter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket kept as one number: the time at which the bucket will be full again if nothing more is taken
 * (the "theoretical arrival time" of GCRA, RFC 2697's idea in virtual time). Taking {@code n} bytes moves it
 * {@code n / rate} seconds later; the bucket holds at most {@code capacity} bytes, so that time never runs more than
 * {@code capacity / rate} ahead of now. One compare-and-set per grant, no lock, no allocation, no busy wait: a
 * caller that gets nothing is told how long to wait. Thread-safe.
 */
final class TokenBucket implements RateLimiter.Bucket {

    private static final double NANOS_PER_SECOND = 1e9;

    private final LongSupplier clock;
    private final double capacitySeconds;
    private final long minCapacityBytes;
    /** When the bucket would be full again; at or before now means full. */
    private final AtomicLong fullAt;
    private volatile long rate;
    private volatile double nanosPerByte;
    private volatile long capacityBytes;

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
        long bytesPerSecond = rate;
        if (bytesPerSecond == 0 || wanted <= 0) {
            return Math.max(0, wanted);         // unlimited: the fast path costs a volatile read
        }
        double perByte = nanosPerByte;
        long capacityNanos = (long) (capacityBytes * perByte);
        while (true) {
            long now = clock.getAsLong();
            long full = fullAt.get();
            // Tokens available now: how far "full" lies less than a whole capacity ahead of now.
            long emptyAt = full - capacityNanos;                       // when the bucket was (or will be) empty
            long availableNanos = now - Math.max(emptyAt, now - capacityNanos);
            long available = (long) (availableNanos / perByte);
            long granted = Math.min(wanted, available);
            if (granted <= 0) {
                return 0;
            }
            long next = Math.max(full, now) + (long) Math.ceil(granted * perByte);
            if (fullAt.compareAndSet(full, next)) {
                return granted;
            }
        }
    }

    @Override
    public long nanosUntil(long wanted) {
        long bytesPerSecond = rate;
        if (bytesPerSecond == 0) {
            return 0;
        }
        double perByte = nanosPerByte;
        long want = Math.min(Math.max(1, wanted), capacityBytes);
        long capacityNanos = (long) (capacityBytes * perByte);
        long now = clock.getAsLong();
        long readyAt = fullAt.get() - capacityNanos + (long) Math.ceil(want * perByte);
        return Math.max(0, readyAt - now);
    }

    @Override
    public void rate(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("rate: " + bytesPerSecond + " (expected: >= 0)");
        }
        if (bytesPerSecond > 0) {
            nanosPerByte = NANOS_PER_SECOND / bytesPerSecond;
            capacityBytes = Math.max(minCapacityBytes, (long) (bytesPerSecond * capacitySeconds));
        }
        rate = bytesPerSecond;
    }

    @Override
    public long rate() {
        return rate;
    }

    /** {@return the burst capacity in bytes at the current rate} */
    long capacity() {
        return capacityBytes;
    }
}
