package io.relaygate.core.tunnel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Bytes queued for a socket during a handshake (replies, frames), written in order as the socket accepts them.
 * Small and heap-backed; a relay takes what is left over with {@link #take()}. Confined to one loop.
 */
final class PendingWrites {

    private ByteBuffer pending;     // read mode; null when nothing is queued

    /** Queues a copy of {@code bytes}' remaining content. */
    void add(ByteBuffer bytes) {
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
    boolean flush(SocketChannel channel) throws IOException {
        if (pending != null && pending.hasRemaining()) {
            channel.write(pending);
        }
        return isEmpty();
    }

    boolean isEmpty() {
        return pending == null || !pending.hasRemaining();
    }

    /** {@return what is still queued, or null; the queue is empty afterwards} */
    ByteBuffer take() {
        ByteBuffer rest = isEmpty() ? null : pending;
        pending = null;
        return rest;
    }
}
