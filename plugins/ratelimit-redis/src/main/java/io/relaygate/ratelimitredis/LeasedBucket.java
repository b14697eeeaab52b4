package io.relaygate.ratelimitredis;

import io.relaygate.spi.RateLimiter;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One principal's tokens on this remote: a lease taken from the cluster's bucket in Redis, granted to the event loops
 * from one {@code long} with a compare-and-set and refilled by the {@link LeaseKeeper}'s thread before it runs out.
 * A reservation may take the lease below zero, into debt; the reserving direction then waits for the time this remote
 * needs to be granted that much at its share of the rate ({@link #pace}). Nothing here blocks or throws.
 */
final class LeasedBucket implements RateLimiter.Bucket {

    /** A reservation lasts about this long at the rate, as with the local token bucket. */
    private static final double RESERVATION_SECONDS = 0.02;
    private static final long MIN_RESERVATION = 1024;
    /** A lease covers about this long at the rate, within {@code leaseSize}: few round trips, little left unused. */
    private static final double LEASE_SECONDS = 0.05;

    /**
     * The rate and what follows from it, swapped as one.
     *
     * @param lease    what one lease asks for; a refill is asked for below half of it
     * @param capacity the cluster-wide burst in bytes, the most Redis can grant at once
     */
    record Shape(long rate, long reservation, long lease, long capacity) {
    }

    private static final Shape UNLIMITED = new Shape(0, Long.MAX_VALUE, 0, 0);

    final String principal;
    private final RedisConfig config;
    /** Queues this bucket for a refill; lock-free. */
    private final Consumer<LeasedBucket> refills;
    /** Bytes leased and not taken yet; below zero, bytes reserved ahead of the leases that will cover them. */
    private final AtomicLong lease = new AtomicLong();
    /** Whether the bucket waits in the keeper's queue, so that a busy loop enqueues it once, not per read. */
    final AtomicBoolean queued = new AtomicBoolean();
    private volatile Shape shape = UNLIMITED;
    /** Bytes per second at which this remote's leases come: the rate, or its share while Redis is away. */
    private volatile long pace;

    // Confined to the keeper's thread.
    /** Whether the keeper will ask again at {@link #retryAt}, after a grant short of the ask. */
    boolean retrying;
    long retryAt;
    /** Whether the bucket is in the keeper's batch being asked for. */
    boolean batched;
    /** The fallback bucket's "full again" time while Redis is away (a GCRA at this remote's share). */
    long fallbackFullAt;

    LeasedBucket(String principal, long bytesPerSecond, RedisConfig config, Consumer<LeasedBucket> refills) {
        this.principal = principal;
        this.config = config;
        this.refills = refills;
        rate(bytesPerSecond);
    }

    @Override
    public long tryAcquire(long wanted) {
        Shape s = shape;
        if (s.rate == 0 || wanted <= 0) {
            return Math.max(0, wanted);
        }
        while (true) {
            long held = lease.get();
            // Never dribbles: a caller granted a few bytes at a time would spin where one that reserves sleeps.
            if (held < Math.min(wanted, s.reservation)) {
                refill();
                return 0;
            }
            long granted = Math.min(wanted, held);
            if (lease.compareAndSet(held, held - granted)) {
                if (held - granted < s.lease / 2) {
                    refill();
                }
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
        long after = lease.addAndGet(-bytes);
        refill();
        if (after >= 0) {
            return 0;
        }
        // Each reservation queues behind the debt before it: it waits until this remote's leases have covered it.
        return (long) Math.ceil(-after * 1e9 / Math.max(1, pace));
    }

    @Override
    public void refund(long bytes) {
        if (bytes > 0 && shape.rate != 0) {
            lease.addAndGet(bytes);
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
        if (shape.rate == bytesPerSecond) {
            return;
        }
        if (bytesPerSecond == 0) {
            shape = UNLIMITED;
            return;
        }
        long capacity = Math.max(config.minBurst(), (long) (bytesPerSecond * config.burstSeconds()));
        long leaseBytes = Math.min(capacity, Math.max(MIN_RESERVATION,
                Math.min(config.leaseSize(), (long) (bytesPerSecond * LEASE_SECONDS))));
        long reservation = Math.min(leaseBytes,
                Math.max(MIN_RESERVATION, (long) (bytesPerSecond * RESERVATION_SECONDS)));
        pace = bytesPerSecond;
        shape = new Shape(bytesPerSecond, reservation, leaseBytes, capacity);
    }

    @Override
    public long rate() {
        return shape.rate;
    }

    Shape shape() {
        return shape;
    }

    /** {@return the bytes held now, negative when in debt} */
    long held() {
        return lease.get();
    }

    void pace(long bytesPerSecond) {
        pace = bytesPerSecond;
    }

    long pace() {
        return pace;
    }

    /**
     * {@return how many bytes to ask the cluster for now: up to a lease above what is held (debt included), at most
     * the burst; 0 while at least half a lease is held}
     */
    long wanted() {
        return wanted(shape);
    }

    /** {@return as {@link #wanted()}, at the rate of {@code s}} */
    long wanted(Shape s) {
        long held = lease.get();
        if (s.rate == 0 || held >= s.lease / 2) {
            return 0;
        }
        return Math.min(s.capacity, s.lease - held);
    }

    /** Adds leased bytes. Keeper's thread. */
    void credit(long bytes) {
        if (bytes > 0) {
            lease.addAndGet(bytes);
        }
    }

    private void refill() {
        if (!queued.get() && queued.compareAndSet(false, true)) {
            refills.accept(this);
        }
    }
}
