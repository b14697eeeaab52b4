package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/** A port in memory: what the test feeds is read, what is written is kept, up to a budget (backpressure). */
final class MemoryPort implements Port {

    private final ArrayDeque<ByteBuffer> input = new ArrayDeque<>();
    private boolean inputEnded;
    final ByteArrayOutputStream output = new ByteArrayOutputStream();
    /** Write calls that took something, a gathering write counting once (a socket's system calls). */
    int writeCalls;
    /** Bytes the port still takes; a write beyond it is partial, as a full socket buffer makes it. */
    long writeBudget = Long.MAX_VALUE;
    Handler handler;
    boolean wantRead;
    boolean wantWrite;
    boolean closed;
    boolean reset;

    /** Makes {@code bytes} readable and tells the handler, if it reads. */
    void feed(byte[] bytes) throws IOException {
        input.add(ByteBuffer.wrap(bytes));
        if (wantRead && !closed) {
            handler.readable();
        }
    }

    /** Ends the input: the next read returns -1. */
    void end() throws IOException {
        inputEnded = true;
        if (wantRead && !closed) {
            handler.readable();
        }
    }

    /** Lets the port take {@code bytes} more and tells the handler, if it waits to write. */
    void drain(long bytes) throws IOException {
        writeBudget = bytes;
        if (wantWrite && !closed) {
            handler.writable();
        }
    }

    @Override
    public void handler(Handler handler) {
        this.handler = handler;
    }

    @Override
    public int read(ByteBuffer dst) {
        int n = 0;
        while (dst.hasRemaining() && !input.isEmpty()) {
            ByteBuffer head = input.peek();
            int chunk = Math.min(dst.remaining(), head.remaining());
            dst.put(head.slice(head.position(), chunk));
            head.position(head.position() + chunk);
            n += chunk;
            if (!head.hasRemaining()) {
                input.poll();
            }
        }
        return n == 0 && inputEnded ? -1 : n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        int n = (int) Math.min(src.remaining(), writeBudget);
        byte[] bytes = new byte[n];
        src.get(bytes);
        output.write(bytes);
        writeBudget -= n;
        if (n > 0 && !gathering) {
            writeCalls++;
        }
        return n;
    }

    private boolean gathering;

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        gathering = true;
        long n;
        try {
            n = Port.super.write(srcs);
        } finally {
            gathering = false;
        }
        if (n > 0) {
            writeCalls++;
        }
        return n;
    }

    @Override
    public void shutdownOutput() {
    }

    @Override
    public void interest(boolean read, boolean write) {
        wantRead = read;
        wantWrite = write;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public void reset() {
        closed = true;
        reset = true;
    }
}
