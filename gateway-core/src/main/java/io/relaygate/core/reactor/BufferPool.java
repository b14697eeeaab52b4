package io.relaygate.core.reactor;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jctools.queues.MpmcArrayQueue;

/**
 * Buffers of one size, shared by all event loops: direct for relays (socket I/O without a copy), or heap for TLS
 * records (the JDK's AES-GCM is fastest on arrays). Keeps at most {@code maxPooled} free buffers; when none is free
 * it allocates, and a buffer released into a full pool is left to the garbage collector. Memory in use is bounded by
 * the callers (a relay holds at most one buffer per direction), not by the pool, except for a {@link #bounded} pool,
 * which lends at most a fixed number at once and refuses more ({@link #tryAcquire()}). A pool may have a bulk tier:
 * larger buffers, bounded in number, for the readers that move the most ({@link #bulk()}). Thread-safe.
 */
public final class BufferPool {

    /** What {@link #bulk()} gives for a pool without a bulk tier: it never lends. */
    private static final BufferPool NEVER_LENDS = new BufferPool(0, 0, true, 0, null);

    private final int bufferSize;
    private final int maxPooled;
    private final boolean direct;
    private final MpmcArrayQueue<ByteBuffer> free;
    private final LongAdder acquired = new LongAdder();
    private final LongAdder released = new LongAdder();
    /** Buffers lent now, counted only by a bounded pool (null otherwise: no shared counter on the hot path). */
    private final AtomicInteger lent;
    private final int maxLent;
    /** The bulk tier, or null. */
    private final BufferPool bulk;

    /**
     * @param bufferSize bytes per buffer
     * @param maxPooled  free buffers kept for reuse; 0 disables pooling
     */
    public BufferPool(int bufferSize, int maxPooled) {
        this(bufferSize, maxPooled, true, -1, null);
    }

    /**
     * @param bufferSize bytes per buffer
     * @param maxPooled  free buffers kept for reuse; 0 disables pooling
     * @param bulk       the bulk tier ({@link #bounded}, its buffers at least as large as these)
     */
    public BufferPool(int bufferSize, int maxPooled, BufferPool bulk) {
        this(bufferSize, maxPooled, true, -1, bulk);
        if (bulk.bufferSize < bufferSize || bulk.lent == null) {
            throw new IllegalArgumentException("a bulk tier is a bounded pool of buffers at least " + bufferSize
                    + " bytes long");
        }
    }

    private BufferPool(int bufferSize, int maxPooled, boolean direct, int maxLent, BufferPool bulk) {
        this.bufferSize = bufferSize;
        this.direct = direct;
        this.maxLent = maxLent;
        this.lent = maxLent < 0 ? null : new AtomicInteger();
        this.bulk = bulk;
        // MpmcArrayQueue needs a capacity of at least 2; a pool of 0 then simply never offers.
        this.maxPooled = maxPooled;
        this.free = new MpmcArrayQueue<>(Math.max(2, maxPooled));
    }

    /** {@return a pool of heap buffers, as {@link #BufferPool(int, int)} makes of direct ones} */
    public static BufferPool heap(int bufferSize, int maxPooled) {
        return new BufferPool(bufferSize, maxPooled, false, -1, null);
    }

    /**
     * {@return a pool of direct buffers that lends at most {@code maxLent} at once, keeping every one it lent for
     * reuse: memory that stays bounded however many callers want one}
     */
    public static BufferPool bounded(int bufferSize, int maxLent) {
        return new BufferPool(bufferSize, maxLent, true, maxLent, null);
    }

    /** {@return the bulk tier, or a pool that never lends when this one has none} */
    public BufferPool bulk() {
        return bulk != null ? bulk : NEVER_LENDS;
    }

    /**
     * {@return a cleared buffer of {@link #bufferSize()} bytes, or null when a {@link #bounded} pool has lent all it
     * may; release it exactly once}
     */
    public ByteBuffer tryAcquire() {
        if (lent != null) {
            int now;
            do {
                now = lent.get();
                if (now >= maxLent) {
                    return null;
                }
            } while (!lent.compareAndSet(now, now + 1));
        }
        return take();
    }

    /** {@return a cleared buffer of {@link #bufferSize()} bytes; release it exactly once. Never refuses} */
    public ByteBuffer acquire() {
        if (lent != null) {
            lent.incrementAndGet();
        }
        return take();
    }

    private ByteBuffer take() {
        acquired.increment();
        ByteBuffer buffer = free.relaxedPoll();
        if (buffer != null) {
            return buffer;
        }
        return direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
    }

    /** Returns a buffer obtained from {@link #acquire()} or {@link #tryAcquire()}. */
    public void release(ByteBuffer buffer) {
        released.increment();
        if (lent != null) {
            lent.decrementAndGet();
        }
        buffer.clear();
        if (maxPooled > 0) {
            free.relaxedOffer(buffer);
        }
    }

    /** {@return bytes per buffer} */
    public int bufferSize() {
        return bufferSize;
    }

    /**
     * {@return buffers acquired and not yet released, this pool's and its bulk tier's; approximate while loops run,
     * exact when quiet}
     */
    public long inUse() {
        return lentHere() + (bulk != null ? bulk.lentHere() : 0);
    }

    /** {@return the bytes of the buffers {@link #inUse()} counts} */
    public long bytesInUse() {
        return lentHere() * bufferSize + (bulk != null ? bulk.lentHere() * bulk.bufferSize : 0);
    }

    private long lentHere() {
        return acquired.sum() - released.sum();
    }
}
