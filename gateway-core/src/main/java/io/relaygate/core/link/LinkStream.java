package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.PortException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One stream of a {@link LinkSession}, as a {@link Port}: what the relay reads are the stream's DATA payloads, what
 * it writes goes out as DATA frames, {@link #shutdownOutput()} is FIN and {@link #reset()} is RST. A failure of the
 * stream's relay stays with the stream; a failure of the link reaches every stream's handler. Confined to the
 * session's loop.
 */
public final class LinkStream implements Port {

    final int id;
    private final LinkSession session;
    private Handler handler;
    private boolean wantRead;
    private boolean wantWrite;
    private boolean finSent;
    boolean finReceived;
    boolean closed;

    LinkStream(LinkSession session, int id) {
        this.session = session;
        this.id = id;
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
        boolean readTurnedOn = read && !wantRead;
        wantRead = read;
        wantWrite = write;
        if (closed) {
            return;
        }
        if (readTurnedOn) {
            session.readWanted(this);
        }
        if (write) {
            session.writeWanted(this);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
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
    }

    @Override
    public void reset() {
        if (!closed) {
            closed = true;
            session.streamClosed(this, true);
        }
    }

    boolean wantsRead() {
        return wantRead && handler != null;
    }

    boolean wantsWrite() {
        return wantWrite && handler != null;
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
