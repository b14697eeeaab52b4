package io.relaygate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Byte-exact relay in both directions at once: each client and its origin connection send each other a seeded
 * pseudo-random stream of random write sizes while reading the other's, and both ends compare SHA-256 digests.
 */
public final class BothWays {

    /** Opens client {@code id}'s tunnel to the origin. */
    @FunctionalInterface
    public interface Opener {
        Socket open(int id) throws IOException;
    }

    private final int tunnels;
    private final long perDirection;
    private final byte[][] atOrigin;
    /** Counts the origin's digests: a client may finish its download before the origin has digested its upload. */
    private final java.util.concurrent.CountDownLatch originDone;

    /** A transfer of {@code perDirection} bytes each way over each of {@code tunnels} tunnels. */
    public BothWays(int tunnels, long perDirection) {
        this.tunnels = tunnels;
        this.perDirection = perDirection;
        this.atOrigin = new byte[tunnels][];
        this.originDone = new java.util.concurrent.CountDownLatch(tunnels);
    }

    /** {@return the origin's side: it learns the client's id, then streams its own bytes while digesting} */
    public TestOrigin.Behaviour origin() {
        return socket -> {
            int id = new DataInputStream(socket.getInputStream()).readInt();
            Thread writer = new Thread(() -> {
                try {
                    Bytes.writeRandom(socket.getOutputStream(), perDirection, 1_000_000 + id);
                    socket.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            atOrigin[id] = Bytes.readAll(socket.getInputStream(), null);
            originDone.countDown();
            writer.join();
        };
    }

    /** Runs every client at once and asserts both directions of every tunnel byte-exact. */
    public void run(Opener opener) throws InterruptedException, IOException {
        byte[][] sent = new byte[tunnels][];
        byte[][] received = new byte[tunnels][];
        List<Thread> clients = new ArrayList<>();
        // Every tunnel opens before any transfer starts: hundreds of transfers at full speed would otherwise starve
        // the handshakes of the tunnels still opening of CPU, and a test of the relay would fail on the handshake's
        // timeout.
        java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(tunnels);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        for (int i = 0; i < tunnels; i++) {
            int id = i;
            Thread client = new Thread(() -> {
                Socket open;
                try {
                    open = opener.open(id);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                } finally {
                    opened.countDown();
                }
                try (Socket socket = open) {
                    go.await();
                    socket.setSoTimeout(60_000);
                    Thread reader = new Thread(() -> {
                        try {
                            received[id] = Bytes.readAll(socket.getInputStream(), null);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    });
                    reader.start();
                    OutputStream out = socket.getOutputStream();
                    new DataOutputStream(out).writeInt(id);
                    sent[id] = Bytes.writeRandom(out, perDirection, id);
                    socket.shutdownOutput();
                    reader.join();
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            client.start();
            clients.add(client);
        }
        opened.await(120, java.util.concurrent.TimeUnit.SECONDS);
        go.countDown();
        for (Thread client : clients) {
            client.join(120_000);
        }
        originDone.await(30, java.util.concurrent.TimeUnit.SECONDS);
        for (int i = 0; i < tunnels; i++) {
            byte[] expectedDown = Bytes.writeRandom(OutputStream.nullOutputStream(), perDirection, 1_000_000 + i);
            assertThat(received[i]).as("down %d", i).isEqualTo(expectedDown);
            assertThat(atOrigin[i]).as("up %d", i).isEqualTo(sent[i]);
        }
    }
}
