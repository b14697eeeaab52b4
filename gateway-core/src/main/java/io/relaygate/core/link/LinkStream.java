package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.PortException;
import io.relaygate.core.reactor.BufferPool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One stream of a {@link LinkSession}, as a {@link Port}: what the relay reads are the stream's DATA payloads, what
 * it writes goes out as DATA frames within the credit the peer granted, {@link #shutdownOutput()} is FIN and
 * {@link #reset()} is RST. A failure of the stream's relay stays with the stream; a failure of the link reaches every
 * stream's handler. Confined to the session's loop.
 * <p>
 * Bytes the peer sent that the relay has not taken yet wait here, in pooled buffers, never more than the window this
 * side granted: a stream whose reader stalls holds at most its window and never stops the link.
 */
public final class LinkStream implements Port {

    final int id;
    private final LinkSession session;
    private Handler handler;
    private boolean wantRead;
    private boolean wantWrite;
    boolean finSent;
    boolean finReceived;
    boolean closed;

    /** Bytes this side may still send before the peer grants more. */
    long sendCredit;
    /** Bytes the peer may still send before this side grants more. */
    long receiveLeft;
    /** The window this side grants the peer on this stream: the initial one, grown while the reader keeps up. */
    int receiveWindow;
    /** When this side last granted credit on this stream (or opened it), in loop time. */
    long lastGrantAt;
    /** Bytes the relay took since this side last granted them back. */
    int consumed;
    /** Waiting in the session's write queue. */
    boolean queuedToWrite;
    /** Wants to write but has no credit: a WINDOW wakes it. */
    boolean awaitingCredit;
    /** Waiting for the session to deliver queued bytes or the end. */
    boolean deliveryQueued;

    /** The peer's bytes not read yet, each buffer in read mode; null while none wait. */
    private ArrayDeque<ByteBuffer> inbound;
    int inboundBytes;

    LinkStream(LinkSession session, int id, long sendCredit, int receiveWindow, long openedAt) {
        this.session = session;
        this.id = id;
        this.sendCredit = sendCredit;
        this.receiveWindow = receiveWindow;
        this.receiveLeft = receiveWindow;
        this.lastGrantAt = openedAt;
    }

    @Override
    public void handler(Handler handler) {
        this.handler = handler;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (closed) {
            throw new PortException("link closed", "stream " + id + " is closed");
        }
        return session.read(this, dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (closed || finSent) {
            throw new PortException("link closed", "stream " + id + " cannot be written");
        }
        return session.write(this, src);
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (!finSent && !closed) {
            finSent = true;
            session.fin(this);
        }
    }

    @Override
    public void interest(boolean read, boolean write) {
        wantRead = read;
        wantWrite = write;
        if (closed) {
            return;
        }
        // Every time, not only when it turns on: a relay that stopped reading part-way (its read budget for one
        // event spent) still wants what waits here, and nothing else would tell it.
        if (read) {
            session.readWanted(this);
        }
        if (write) {
            session.writeWanted(this);
        }
    }

    /**
     * Ends the stream: FIN if not sent yet, and the stream is forgotten. A stream closed before the peer ended its
     * side is aborted with RST instead, so that the peer does not send into a stream nobody reads.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (!finReceived) {
            reset();
            return;
        }
        if (!finSent) {
            finSent = true;
            try {
                session.fin(this);
            } catch (IOException e) {
                // the link is closing: it ends the stream anyway
            }
        }
        session.streamClosed(this, false);
    }

    /** Aborts the stream: RST to the peer, and what either side still holds for it is dropped. */
    @Override
    public void reset() {
        if (!closed) {
            session.streamClosed(this, true);
        }
    }

    boolean wantsRead() {
        return wantRead && handler != null && !closed;
    }

    boolean wantsWrite() {
        return wantWrite && handler != null && !closed;
    }

    /** Keeps {@code length} bytes of {@code src} (read mode) for the relay to read later. */
    void enqueue(ByteBuffer src, int length, BufferPool pool) {
        if (inbound == null) {
            inbound = new ArrayDeque<>(2);
        }
        int left = length;
        while (left > 0) {
            ByteBuffer tail = inbound.peekLast();
            if (tail == null || tail.limit() == tail.capacity()) {
                tail = pool.acquire();
                tail.limit(0);
                inbound.add(tail);
            }
            int n = Math.min(left, tail.capacity() - tail.limit());
            int readFrom = tail.position();
            int end = tail.limit();
            tail.limit(end + n).position(end);
            int srcLimit = src.limit();
            src.limit(src.position() + n);
            tail.put(src);
            src.limit(srcLimit);
            tail.position(readFrom);
            left -= n;
        }
        inboundBytes += length;
    }

    /** {@return bytes moved from the queue into {@code dst}} */
    int drain(ByteBuffer dst, BufferPool pool) {
        int moved = 0;
        while (inbound != null && !inbound.isEmpty() && dst.hasRemaining()) {
            ByteBuffer head = inbound.peekFirst();
            int n = Math.min(head.remaining(), dst.remaining());
            int limit = head.limit();
            head.limit(head.position() + n);
            dst.put(head);
            head.limit(limit);
            moved += n;
            if (!head.hasRemaining()) {
                pool.release(inbound.pollFirst());
            }
        }
        inboundBytes -= moved;
        if (inbound != null && inbound.isEmpty()) {
            inbound = null;
        }
        return moved;
    }

    /** Drops what waits to be read. */
    void discard(BufferPool pool) {
        if (inbound != null) {
            for (ByteBuffer buffer : inbound) {
                pool.release(buffer);
            }
            inbound = null;
        }
        inboundBytes = 0;
    }

    /** Tells the handler there is something to read; its failure is the stream's, not the link's. */
    void readable() {
        try {
            handler.readable();
        } catch (IOException | RuntimeException e) {
            handler.failed(e);
        }
    }

    void writable() {
        try {
            handler.writable();
        } catch (IOException | RuntimeException e) {
            handler.failed(e);
        }
    }

    void failed(Throwable cause) {
        if (handler != null) {
            handler.failed(cause);
        }
    }

    @Override
    public String toString() {
        return "stream " + id;
    }
}
