package io.relaygate.core.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Bytes queued for a socket during a handshake (replies, frames), written in order as the socket accepts them.
 * Small and heap-backed; a relay takes what is left over with {@link #take()}. Confined to one loop.
 */
public final class PendingWrites {

    private ByteBuffer pending;     // read mode; null when nothing is queued

    /** Queues a copy of {@code bytes}' remaining content. */
    public void add(ByteBuffer bytes) {
        if (!bytes.hasRemaining()) {
            return;
        }
        if (pending == null || !pending.hasRemaining()) {
            pending = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
        } else {
            pending = ByteBuffer.allocate(pending.remaining() + bytes.remaining()).put(pending).put(bytes).flip();
        }
    }

    /** Writes what the socket takes now. {@return whether nothing is left} */
    public boolean flush(Port port) throws IOException {
        if (pending != null && pending.hasRemaining()) {
            port.write(pending);
        }
        return isEmpty();
    }

    public boolean isEmpty() {
        return pending == null || !pending.hasRemaining();
    }

    /** {@return what is still queued, or null; the queue is empty afterwards} */
    public ByteBuffer take() {
        ByteBuffer rest = isEmpty() ? null : pending;
        pending = null;
        return rest;
    }
}
