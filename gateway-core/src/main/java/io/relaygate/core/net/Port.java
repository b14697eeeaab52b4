package io.relaygate.core.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A byte stream between the gateway and one peer, as the relay and the handshakes see it: a socket
 * ({@link SocketPort}), a stream of a link, and (with link version 2) a TLS socket are all ports, so what moves
 * bytes is written once.
 * <p>
 * Non-blocking and confined to one event loop: every method is called on that loop, and the {@link Handler} is
 * called there. Reads and writes move what is possible now and never wait. A failure of the port's transport
 * reaches the handler's {@link Handler#failed}, never a caller on another port.
 */
public interface Port {

    /** Readiness of a port, as asked for with {@link #interest}. Called on the port's loop. */
    interface Handler {
        /** The port may have bytes, or end of stream, to read. May be spurious. */
        void readable() throws IOException;

        /** The port may take bytes again. May be spurious. */
        void writable() throws IOException;

        /**
         * The port broke, or a callback above threw: the handler closes what it owns. The cause is a
         * {@link Shutdown} when the gateway stops, a {@link PortException} when the port knows the outcome to
         * record, any other throwable otherwise.
         */
        void failed(Throwable cause);
    }

    /** Sets who hears this port's readiness; replaces the previous one (a handshake hands its port to a relay). */
    void handler(Handler handler);

    /**
     * Reads what is available into {@code dst}, up to its remaining space.
     *
     * @return the number of bytes read, 0 if none is available now, -1 at the end of the stream
     */
    int read(ByteBuffer dst) throws IOException;

    /** Writes what the port takes now from {@code src}. {@return the number of bytes written, possibly 0} */
    int write(ByteBuffer src) throws IOException;

    /**
     * Writes what the port takes now from {@code srcs}, in order; a socket does it in one system call.
     * {@return the number of bytes written, possibly 0}
     */
    default long write(ByteBuffer[] srcs) throws IOException {
        long written = 0;
        for (ByteBuffer src : srcs) {
            written += write(src);
            if (src.hasRemaining()) {
                break;
            }
        }
        return written;
    }

    /** Ends this side's output cleanly: the peer reads end of stream after what was written. */
    void shutdownOutput() throws IOException;

    /** Which readiness the handler wants to hear of; cheap to call with unchanged values. */
    void interest(boolean read, boolean write);

    /** Closes cleanly after what was written. Idempotent; never throws. */
    void close();

    /** Closes abortively, so the peer learns that the stream broke rather than ended. Idempotent; never throws. */
    void reset();
}
