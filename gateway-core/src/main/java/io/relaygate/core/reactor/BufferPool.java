package io.relaygate.core.reactor;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import org.jctools.queues.MpmcArrayQueue;

/**
 * Buffers of one size, shared by all event loops: direct for relays (socket I/O without a copy), or heap for TLS
 * records (the JDK's AES-GCM is fastest on arrays). Keeps at most {@code maxPooled} free buffers; when none is free
 * it allocates, and a buffer released into a full pool is left to the garbage collector. Memory in use is bounded by
 * the callers (a relay holds at most one buffer per direction), not by the pool. Thread-safe.
 */
public final class BufferPool {

    private final int bufferSize;
    private final int maxPooled;
    private final boolean direct;
    private final MpmcArrayQueue<ByteBuffer> free;
    private final LongAdder acquired = new LongAdder();
    private final LongAdder released = new LongAdder();

    /**
     * @param bufferSize bytes per buffer
     * @param maxPooled  free buffers kept for reuse; 0 disables pooling
     */
    public BufferPool(int bufferSize, int maxPooled) {
        this(bufferSize, maxPooled, true);
    }

    private BufferPool(int bufferSize, int maxPooled, boolean direct) {
        this.bufferSize = bufferSize;
        this.direct = direct;
        // MpmcArrayQueue needs a capacity of at least 2; a pool of 0 then simply never offers.
        this.maxPooled = maxPooled;
        this.free = new MpmcArrayQueue<>(Math.max(2, maxPooled));
    }

    /** {@return a pool of heap buffers, as {@link #BufferPool(int, int)} makes of direct ones} */
    public static BufferPool heap(int bufferSize, int maxPooled) {
        return new BufferPool(bufferSize, maxPooled, false);
    }

    /** {@return a cleared buffer of {@link #bufferSize()} bytes; release it exactly once} */
    public ByteBuffer acquire() {
        acquired.increment();
        ByteBuffer buffer = free.relaxedPoll();
        if (buffer != null) {
            return buffer;
        }
        return direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
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
