package io.relaygate.core.net;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A TCP socket as a {@link Port}: the key's attachment, turning selector readiness into the handler's calls.
 * Confined to the loop it is registered with.
 */
public final class SocketPort implements Port, IoHandler {

    private final SocketChannel channel;
    private final SelectionKey key;
    private Handler handler;
    private boolean closed;

    private SocketPort(SocketChannel channel, SelectionKey key) {
        this.channel = channel;
        this.key = key;
        key.attach(this);
    }

    /** Registers {@code channel} with {@code loop}, interested in nothing yet. Loop only. */
    public static SocketPort register(EventLoop loop, SocketChannel channel) throws IOException {
        return new SocketPort(channel, loop.register(channel, 0, null));
    }

    /** Takes over {@code key} (e.g. a dial's, once connected). Loop only. */
    public static SocketPort of(SocketChannel channel, SelectionKey key) {
        return new SocketPort(channel, key);
    }

    @Override
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

    /** {@return the address the socket is connected to, or null if it is not} */
    public InetSocketAddress remoteAddress() {
        try {
            return (InetSocketAddress) channel.getRemoteAddress();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return channel.write(srcs);
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void interest(boolean read, boolean write) {
        int ops = (read ? SelectionKey.OP_READ : 0) | (write ? SelectionKey.OP_WRITE : 0);
        if (key.isValid() && key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    @Override
    public void ready(SelectionKey readyKey) throws IOException {
        int ready = readyKey.readyOps();
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            handler.writable();
        }
        if ((ready & SelectionKey.OP_READ) != 0 && !closed && readyKey.isValid()) {
            handler.readable();
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (handler != null) {
            handler.failed(cause);
        } else {
            reset();
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            key.cancel();
            Sockets.close(channel);
        }
    }

    @Override
    public void reset() {
        if (!closed) {
            closed = true;
            key.cancel();
            Sockets.reset(channel);
        }
    }

    @Override
    public String toString() {
        return "SocketPort" + channel;
    }
}
