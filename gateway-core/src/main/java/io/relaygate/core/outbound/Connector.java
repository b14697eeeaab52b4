package io.relaygate.core.outbound;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;

/** Where a client's tunnel goes: straight to the destination, or over a link to a remote gateway. Thread-safe. */
public interface Connector {

    /** Starts connecting on {@code loop}; loop only. {@return a handle that abandons the attempt} */
    Attempt connect(EventLoop loop, Destination destination, Callback callback);

    /**
     * Opens where a UDP association's datagrams go, on {@code loop}; loop only. The callback hears the outcome on
     * the loop, exactly once unless the attempt is cancelled; the receiver then hears of replies.
     */
    Attempt datagrams(EventLoop loop, DatagramPath.Receiver receiver, DatagramPath.Callback callback);

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
     * A connected upstream: a socket to the destination or a stream of a link, interested in nothing yet.
     *
     * @param port  what the relay writes the client's bytes to
     * @param bound the address to report to the client as bound
     */
    record Upstream(Port port, InetSocketAddress bound) {
    }

    /** {@return a connector that dials destinations directly} */
    static Connector direct(Dialer dialer) {
        return new Connector() {
            @Override
            public Attempt connect(EventLoop loop, Destination destination, Callback callback) {
                return dialer.dial(loop, destination, new Dialer.Callback() {
                    @Override
                    public void connected(SocketPort port) {
                        InetSocketAddress bound = port.localAddress();
                        if (bound == null) {
                            port.close();
                            callback.failed(TunnelOutcome.GENERAL_FAILURE, "the socket has no local address");
                            return;
                        }
                        callback.connected(new Upstream(port, bound));
                    }

                    @Override
                    public void failed(TunnelOutcome outcome, String reason) {
                        callback.failed(outcome, reason);
                    }
                })::cancel;
            }

            @Override
            public Attempt datagrams(EventLoop loop, DatagramPath.Receiver receiver, DatagramPath.Callback callback) {
                DirectDatagrams path;
                try {
                    path = dialer.datagrams(loop, receiver);
                } catch (java.io.IOException e) {
                    callback.failed(TunnelOutcome.GENERAL_FAILURE, "no UDP socket: " + e.getMessage());
                    return () -> { };
                }
                callback.ready(path);
                return () -> { };
            }
        };
    }
}
