package io.relaygate.core.shaping;

import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.RateLimiter;

/**
 * One tunnel direction's access to its principal's bucket. Before a read the direction asks {@link #grant}; it reads
 * at most that, reports what it read with {@link #used}, and gives back the rest with {@link #settle}. When the
 * bucket has nothing, the throttle reserves a share, the direction stops reading (clears OP_READ) and a loop timer
 * resumes it when the reservation falls due: a parked direction costs no CPU and holds no buffer. Confined to the
 * tunnel's loop.
 */
public final class Throttle {

    /** For tunnels nobody shapes: always grants all, never parks, never changes, so every loop may share it. */
    public static final Throttle UNLIMITED = new Throttle(null, null);

    private final Shaping.Meter meter;
    private final EventLoop loop;
    /** Bytes taken from the bucket and not read yet. */
    private long allowance;
    /** Whether {@link #allowance} came from a reservation that had to wait. */
    private boolean waited;
    private Timer parked;
    private long parkedAt;

    public Throttle(Shaping.Meter meter, EventLoop loop) {
        this.meter = meter;
        this.loop = loop;
    }

    /**
     * {@return how many bytes the direction may read now, 1 to {@code wanted}; or 0 when it must stop reading until
     * {@code resume} runs on the loop}
     */
    public int grant(int wanted, Runnable resume) {
        if (meter == null) {
            return wanted;
        }
        if (allowance > 0) {
            return (int) Math.min(allowance, wanted);
        }
        if (parked != null) {
            return 0;
        }
        RateLimiter.Bucket bucket = meter.bucket;
        if (bucket == null || bucket.rate() == 0) {
            return wanted;                      // unlimited now; nothing is taken, so nothing is given back
        }
        long granted = bucket.tryAcquire(wanted);
        if (granted > 0) {
            allowance = granted;
            waited = false;
            return (int) granted;
        }
        long share = Math.max(1, Math.min(wanted, bucket.reservationSize()));
        long waitNanos = bucket.reserve(share);
        allowance = share;
        waited = true;
        if (waitNanos <= 0) {
            return (int) share;
        }
        parkedAt = loop.now();
        parked = loop.schedule(waitNanos, () -> {
            parked = null;
            meter.parked(loop.now() - parkedAt);
            resume.run();
        });
        return 0;
    }

    /** Counts {@code n} bytes read under the last grant. */
    public void used(int n) {
        if (allowance > 0) {
            allowance -= Math.min(allowance, n);
            if (waited) {
                meter.shaped(n);
            }
        }
    }

    /** Gives back what the direction was granted and did not read, unless it is waiting for a reservation. */
    public void settle() {
        if (allowance > 0 && parked == null) {
            RateLimiter.Bucket bucket = meter.bucket;
            if (bucket != null) {
                bucket.refund(allowance);
            }
            allowance = 0;
        }
    }

    /** {@return whether the direction is waiting for tokens (its read interest must stay off)} */
    public boolean isParked() {
        return parked != null;
    }

    /** Ends the direction: cancels a pending resume and gives back what it held. */
    public void close() {
        if (parked != null) {
            parked.cancel();
            parked = null;
            meter.parked(loop.now() - parkedAt);
        }
        settle();
    }
}
