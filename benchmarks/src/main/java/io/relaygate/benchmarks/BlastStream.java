package io.relaygate.benchmarks;

import java.io.IOException;
import java.net.Socket;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One benchmark thread's stream from a {@link Blaster}, through whatever path a benchmark opens: subclasses are the
 * {@code @State} classes and open {@link #socket} in their own {@code @Setup}.
 */
public abstract class BlastStream {

    Socket socket;
    private final byte[] buffer = new byte[256 * 1024];

    void use(Socket opened) {
        socket = opened;
    }

    /** {@return 0 after reading exactly 1 MiB} */
    long readMiB() throws IOException {
        return Blaster.readMiB(socket.getInputStream(), buffer);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        socket.close();
    }
}
