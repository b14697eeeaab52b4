package io.relaygate.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** Socket observations for tests. */
public final class Sockets {

    private Sockets() {
    }

    /** How the peer ended a connection. */
    public enum End { EOF, RESET, TIMEOUT }

    /** Reads until the peer closes. {@return everything read} */
    public static byte[] readToEnd(Socket socket) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
        } catch (SocketException e) {
            // a reset after the reply: what was read is what matters
        }
        return out.toByteArray();
    }

    /** Reads and discards until the peer ends the connection or the socket's timeout passes. */
    public static End awaitEnd(Socket socket) {
        byte[] buffer = new byte[8192];
        try {
            InputStream in = socket.getInputStream();
            while (in.read(buffer) >= 0) {
                // discard
            }
            return End.EOF;
        } catch (SocketTimeoutException e) {
            return End.TIMEOUT;
        } catch (IOException e) {
            return End.RESET;
        }
    }

    /**
     * {@return {@code count} loopback ports that are free now, below the usual ephemeral range (32768 and up), so that
     * no outgoing connection takes one before the test listens on it} For a reverse tunnel's pool.
     */
    public static java.util.List<Integer> freeListenPorts(int count) {
        java.util.List<Integer> ports = new java.util.ArrayList<>();
        int start = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000);
        for (int port = start; ports.size() < count && port < 32_768; port++) {
            try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
                probe.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1);
                ports.add(port);
            } catch (IOException taken) {
                // the next one
            }
        }
        if (ports.size() < count) {
            throw new IllegalStateException("no " + count + " free ports between " + start + " and 32767");
        }
        return ports;
    }
}
