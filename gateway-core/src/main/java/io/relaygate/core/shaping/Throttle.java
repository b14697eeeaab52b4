package io.relaygate.core.shaping;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.RateLimiter;

/**
 * One tunnel direction's access to its principal's buckets: the total over both directions and, when the principal
 * has one, the direction's own. Before a read the direction asks {@link #grant}; it reads at most that, reports what
 * it read with {@link #used}, and gives back the rest with {@link #settle}. When a bucket has nothing, the throttle
 * reserves a share from each, the direction stops reading (clears OP_READ) and a loop timer resumes it when the later
 * reservation falls due: a parked direction costs no CPU and holds no buffer. Confined to the tunnel's loop.
 */
public final class Throttle {

    /** For tunnels nobody shapes: always grants all, never parks, never changes, so every loop may share it. */
    public static final Throttle UNLIMITED = new Throttle(null, null, true);

    private final Shaping.Meter meter;
    private final EventLoop loop;
    private final boolean up;
    /** Bytes taken from the buckets and not read yet. */
    private long allowance;
    /** The buckets {@link #allowance} was taken from, to give back to; null when none was. */
    private RateLimiter.Bucket takenTotal;
    private RateLimiter.Bucket takenOwn;
    /** Whether {@link #allowance} came from a reservation that had to wait. */
    private boolean waited;
    private Timer parked;
    private long parkedAt;

    /** @param up whether the direction carries the client's bytes (else the destination's) */
    public Throttle(Shaping.Meter meter, EventLoop loop, boolean up) {
        this.meter = meter;
        this.loop = loop;
        this.up = up;
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
        RateLimiter.Bucket total = Shaping.Meter.limiting(meter.bucket);
        RateLimiter.Bucket own = Shaping.Meter.limiting(up ? meter.upBucket : meter.downBucket);
        if (total == null && own == null) {
            return wanted;                      // unlimited now; nothing is taken, so nothing is given back
        }
        long granted = total == null ? wanted : total.tryAcquire(wanted);
        if (granted > 0 && own != null) {
            long ownGranted = own.tryAcquire(granted);
            if (ownGranted < granted && total != null) {
                total.refund(granted - ownGranted);
            }
            granted = ownGranted;
        }
        takenTotal = total;
        takenOwn = own;
        if (granted > 0) {
            allowance = granted;
            waited = false;
            return (int) granted;
        }
        // Both buckets queue the share: the direction waits for the later of the two.
        long share = Math.max(1, Math.min(wanted, Math.min(reservation(total), reservation(own))));
        long waitNanos = Math.max(total == null ? 0 : total.reserve(share), own == null ? 0 : own.reserve(share));
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

    private static long reservation(RateLimiter.Bucket bucket) {
        return bucket == null ? Long.MAX_VALUE : bucket.reservationSize();
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
            if (takenTotal != null) {
                takenTotal.refund(allowance);
            }
            if (takenOwn != null) {
                takenOwn.refund(allowance);
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
