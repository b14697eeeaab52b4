package io.relaygate.core.tunnel;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/** Where a client's tunnel goes: straight to the destination, or over a link to a remote gateway. Thread-safe. */
public interface Connector {

    /** Starts connecting on {@code loop}; loop only. {@return a handle that abandons the attempt} */
    Attempt connect(EventLoop loop, Destination destination, Callback callback);

    /** An attempt in progress. */
    interface Attempt {
        /** Abandons it without a callback, closing what it opened. Loop only; idempotent. */
        void cancel();
    }

    /** Receives the result on the attempt's loop, exactly once unless cancelled. */
    interface Callback {
        void connected(Upstream upstream);

        void failed(TunnelOutcome outcome, String reason);
    }

    /**
     * A connected upstream, registered with the loop and interested in nothing yet.
     *
     * @param channel      the socket
     * @param key          its key
     * @param bound        the address to report to the client as bound
     * @param stream       0 for a plain socket to the destination; else the link stream that carries the tunnel
     * @param linkLeftover link bytes already read past the stream's OPEN_RESULT, or null
     */
    record Upstream(SocketChannel channel, SelectionKey key, InetSocketAddress bound, int stream,
                    ByteBuffer linkLeftover) {
        boolean framed() {
            return stream != 0;
        }
    }

    /** {@return a connector that dials destinations directly} */
    static Connector direct(Dialer dialer) {
        return (loop, destination, callback) -> dialer.dial(loop, destination, new Dialer.Callback() {
            @Override
            public void connected(SocketChannel channel, SelectionKey key) {
                InetSocketAddress bound;
                try {
                    bound = (InetSocketAddress) channel.getLocalAddress();
                } catch (java.io.IOException e) {
                    Sockets.close(channel);
                    callback.failed(TunnelOutcome.GENERAL_FAILURE, "local address: " + e.getMessage());
                    return;
                }
                callback.connected(new Upstream(channel, key, bound, 0, null));
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                callback.failed(outcome, reason);
            }
        })::cancel;
    }
}
