package io.relaygate.core.reactor;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import org.jctools.queues.MpmcArrayQueue;

/**
 * Direct buffers of one size, shared by all event loops. Keeps at most {@code maxPooled} free buffers; when none is
 * free it allocates, and a buffer released into a full pool is left to the garbage collector. Memory in use is
 * bounded by the callers (a relay holds at most one buffer per direction), not by the pool. Thread-safe.
 */
public final class BufferPool {

    private final int bufferSize;
    private final int maxPooled;
    private final MpmcArrayQueue<ByteBuffer> free;
    private final LongAdder acquired = new LongAdder();
    private final LongAdder released = new LongAdder();

    /**
     * @param bufferSize bytes per buffer
     * @param maxPooled  free buffers kept for reuse; 0 disables pooling
     */
    public BufferPool(int bufferSize, int maxPooled) {
        this.bufferSize = bufferSize;
        // MpmcArrayQueue needs a capacity of at least 2; a pool of 0 then simply never offers.
        this.maxPooled = maxPooled;
        this.free = new MpmcArrayQueue<>(Math.max(2, maxPooled));
    }

    /** {@return a cleared buffer of {@link #bufferSize()} bytes; release it exactly once} */
    public ByteBuffer acquire() {
        acquired.increment();
        ByteBuffer buffer = free.relaxedPoll();
        return buffer != null ? buffer : ByteBuffer.allocateDirect(bufferSize);
    }

    /** Returns a buffer obtained from {@link #acquire()}. */
    public void release(ByteBuffer buffer) {
        released.increment();
        buffer.clear();
        if (maxPooled > 0) {
            free.relaxedOffer(buffer);
        }
    }

    /** {@return bytes per buffer} */
    public int bufferSize() {
        return bufferSize;
    }

    /** {@return buffers acquired and not yet released; approximate while loops run, exact when quiet} */
    public long inUse() {
        return acquired.sum() - released.sum();
    }
}
