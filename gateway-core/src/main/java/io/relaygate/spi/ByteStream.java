package io.relaygate.spi;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A non-blocking byte stream a {@link Forwarder} drives itself: its client's connection, or an upstream the gateway
 * opened for it (a socket to the destination, or a stream of the link to a remote gateway). The gateway counts and
 * shapes what is read: the client's bytes as the user's upload, an upstream's as the user's download.
 * <p>
 * Confined to the connection's event loop: call it only there; the {@link Handler} is called there too. Reads and
 * writes move what is possible now and never wait. An {@link IOException} from a call, or a {@link Handler#failed}
 * call, means this stream broke; the forwarder decides what that does to the rest of its connection.
 */
public interface ByteStream {

    /** Readiness of a stream, as asked for with {@link #interest}. Called on the loop; an exception fails the stream. */
    interface Handler {
        /** The stream may have bytes, or end of stream, to read. May be spurious. */
        void readable() throws IOException;

        /** The stream may take bytes again. May be spurious. */
        void writable() throws IOException;

        /** The stream broke (reset, a transport error); the forwarder closes or replaces it. */
        void failed(Throwable cause);
    }

    /** Sets who hears this stream's readiness. */
    void handler(Handler handler);

    /**
     * Reads what is available, and what the user's rate allows, into {@code dst}.
     *
     * @return the number of bytes read, 0 if none may be read now, -1 at the end of the stream
     */
    int read(ByteBuffer dst) throws IOException;

    /** Writes what the stream takes now from {@code src}. {@return the number of bytes written, possibly 0} */
    int write(ByteBuffer src) throws IOException;

    /** Ends this side's output cleanly: the peer reads end of stream after what was written. */
    void shutdownOutput() throws IOException;

    /** Which readiness the handler wants to hear of; cheap to call with unchanged values. */
    void interest(boolean read, boolean write);

    /** Closes cleanly after what was written. Idempotent; never throws. */
    void close();
}
