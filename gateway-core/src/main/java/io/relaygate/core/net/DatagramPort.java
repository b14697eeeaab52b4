package io.relaygate.core.net;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;

/**
 * An unconnected UDP socket on an event loop: receive with the sender's address, send to any address, hear when
 * datagrams wait. Datagrams are never queued here: a send the kernel does not take now is dropped and says so.
 * Confined to its loop.
 */
public final class DatagramPort implements IoHandler {

    /** What the owner hears. Called on the loop. */
    public interface Handler {
        /** Datagrams may wait to be received. May be spurious. */
        void readable() throws IOException;

        /** The socket broke, or {@link #readable} threw: the owner closes what it owns. */
        void failed(Throwable cause);
    }

    private final DatagramChannel channel;
    private final SelectionKey key;
    private Handler handler;
    private boolean closed;

    private DatagramPort(DatagramChannel channel, SelectionKey key) {
        this.channel = channel;
        this.key = key;
        key.attach(this);
    }

    /**
     * Opens a socket bound to {@code bind} (port 0 for any; null for the wildcard of both families) and registers it
     * with {@code loop}, interested in nothing yet. Loop only.
     */
    public static DatagramPort open(EventLoop loop, InetSocketAddress bind) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            channel.setOption(StandardSocketOptions.SO_SNDBUF, 1 << 20);
            channel.bind(bind);
            return new DatagramPort(channel, loop.register(channel, 0, null));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public void handler(Handler handler) {
        this.handler = handler;
    }

    /** {@return the socket's local address, or null if it has none} */
    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /** Receives one datagram into {@code dst} (truncated to its space). {@return the sender, or null if none waits} */
    public InetSocketAddress receive(ByteBuffer dst) throws IOException {
        return (InetSocketAddress) channel.receive(dst);
    }

    /** Sends {@code src} whole to {@code target}. {@return false if the kernel took nothing now: it is dropped} */
    public boolean send(ByteBuffer src, InetSocketAddress target) throws IOException {
        return channel.send(src, target) > 0 || !src.hasRemaining();
    }

    /** Whether the handler hears of waiting datagrams. */
    public void reading(boolean on) {
        int ops = on ? SelectionKey.OP_READ : 0;
        if (key.isValid() && key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    @Override
    public void ready(SelectionKey readyKey) throws IOException {
        if ((readyKey.readyOps() & SelectionKey.OP_READ) != 0 && !closed) {
            handler.readable();
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (handler != null) {
            handler.failed(cause);
        } else {
            close();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes the socket. Idempotent; never throws. */
    public void close() {
        if (!closed) {
            closed = true;
            key.cancel();
            try {
                channel.close();
            } catch (IOException e) {
                // closing: nothing left to do with it
            }
        }
    }
}
