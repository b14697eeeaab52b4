package io.relaygate.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A blocking loopback server with one thread per connection, whose behaviour the test chooses: the destination that
 * tunnels reach. Port 0; closed with {@link #close()}.
 */
public final class TestOrigin implements AutoCloseable {

    /** What the origin does with one accepted connection; throwing just closes it. */
    @FunctionalInterface
    public interface Behaviour {
        void serve(Socket socket) throws Exception;
    }

    private final ServerSocket server;
    private final Behaviour behaviour;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread acceptor;

    private TestOrigin(InetAddress bind, Behaviour behaviour) throws IOException {
        this.server = new ServerSocket(0, 1024, bind);
        this.behaviour = behaviour;
        this.acceptor = new Thread(this::acceptLoop, "test-origin-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts an origin on 127.0.0.1. */
    public static TestOrigin start(Behaviour behaviour) {
        return start(InetAddress.getLoopbackAddress(), behaviour);
    }

    /** Starts an origin on a loopback address of the caller's choice (127.0.0.1 or ::1). */
    public static TestOrigin start(InetAddress loopback, Behaviour behaviour) {
        if (!loopback.isLoopbackAddress()) {
            throw new IllegalArgumentException("tests bind loopback only: " + loopback);
        }
        try {
            return new TestOrigin(loopback, behaviour);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Echoes every byte until EOF, then half-closes. */
    public static Behaviour echo() {
        return socket -> {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            in.transferTo(out);
            socket.shutdownOutput();
        };
    }

    /** Reads to EOF, then answers the 32-byte SHA-256 of what it read and closes (half-close test). */
    public static Behaviour digestAfterEof() {
        return socket -> {
            byte[] digest = Bytes.readAll(socket.getInputStream(), null);
            socket.getOutputStream().write(digest);
            socket.shutdownOutput();
        };
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@return connections accepted so far} */
    public int accepted() {
        return accepted.get();
    }

    /** {@return connections open now} */
    public int openConnections() {
        return open.size();
    }

    /** {@return the first exception a behaviour threw, or null} */
    public Throwable failure() {
        return failure.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(socket);
            Thread worker = new Thread(() -> {
                try (socket) {
                    behaviour.serve(socket);
                } catch (Throwable t) {
                    if (!server.isClosed()) {
                        failure.compareAndSet(null, t);
                    }
                } finally {
                    open.remove(socket);
                }
            }, "test-origin-conn");
            worker.setDaemon(true);
            worker.start();
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing a test server
        }
        for (Socket socket : open) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a test connection
            }
        }
    }
}
