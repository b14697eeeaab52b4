package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM: stop accepting at once, let tunnels finish until the drain deadline, close the rest, exit 0. */
@Timeout(120)
class ShutdownIT {

    @TempDir
    Path work;

    @Test
    void transfersInFlightCompleteByteExactAndTheProcessExitsZero() throws Exception {
        long size = 24L << 20;
        CountDownLatch started = new CountDownLatch(8);
        // The origin paces its 24 MiB over about two seconds, so SIGTERM lands mid-transfer.
        try (TestOrigin origin = TestOrigin.start(socket -> {
            new DataInputStream(socket.getInputStream()).readInt();
            started.countDown();
            OutputStream out = socket.getOutputStream();
            Bytes.writeRandom(new PacedStream(out), size, 7);
            socket.shutdownOutput();
        }); GatewayProcess gateway = GatewayProcess.startLocal(work)) {
            List<Thread> clients = new ArrayList<>();
            byte[][] digests = new byte[8][];
            long[][] sizes = new long[8][1];
            for (int i = 0; i < 8; i++) {
                int id = i;
                Thread client = new Thread(() -> {
                    try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", origin.port())) {
                        socket.setSoTimeout(30_000);
                        socket.getOutputStream().write(new byte[] {0, 0, 0, (byte) id});
                        digests[id] = Bytes.readAll(socket.getInputStream(), sizes[id]);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                client.start();
                clients.add(client);
            }
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            gateway.terminate();
            long refusedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            boolean refused = false;
            while (!refused && System.nanoTime() < refusedBy) {
                try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), gateway.address("mixed").getPort())) {
                    LockSupport.parkNanos(5_000_000);
                } catch (ConnectException e) {
                    refused = true;
                } catch (java.net.SocketException e) {
                    // Reset while connecting: the probe was in the backlog of the listening socket as it closed.
                    refused = true;
                }
            }
            assertThat(refused).as("new connections refused after SIGTERM").isTrue();
            for (Thread client : clients) {
                client.join(60_000);
            }
            byte[] expected = Bytes.writeRandom(OutputStream.nullOutputStream(), size, 7);
            for (int i = 0; i < 8; i++) {
                assertThat(sizes[i][0]).as("tunnel %d size", i).isEqualTo(size);
                assertThat(digests[i]).as("tunnel %d digest", i).isEqualTo(expected);
            }
            assertThat(gateway.awaitExit(30)).isZero();
        }
    }

    @Test
    void tunnelsStillOpenAtTheDrainDeadlineAreClosedAndTheProcessExitsZero() throws Exception {
        Path config = work.resolve("drain.yaml");
        Files.writeString(config, "timeouts:\n  drain: 1s\n");
        try (TestOrigin silent = TestOrigin.start(socket -> socket.getInputStream().read());
             GatewayProcess gateway = GatewayProcess.startLocal(work, "--config=" + config);
             Socket idle = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", silent.port())) {
            long start = System.nanoTime();
            gateway.terminate();
            assertThat(Sockets.awaitEnd(idle)).isNotEqualTo(Sockets.End.TIMEOUT);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMs).isBetween(1000L, 8000L);
            assertThat(gateway.awaitExit(30)).isZero();
        }
    }

    /** Sends {@code signal} (e.g. INT, HUP) through the shell's kill builtin, which every POSIX sh has. */
    private static void signal(GatewayProcess gateway, String signal) throws Exception {
        Process kill = new ProcessBuilder("sh", "-c", "kill -" + signal + " " + gateway.pid()).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void termOrIntRightAfterTheListeningLineIsStillANormalStop() throws Exception {
        // The handlers are installed before the gateway starts: no window in which the JVM's defaults (143, 130)
        // apply. A few tries each, as a person pressing Ctrl-C at once would.
        for (String signal : new String[] {"TERM", "INT", "TERM", "INT", "TERM", "INT"}) {
            Path dir = Files.createDirectories(work.resolve(signal + System.nanoTime()));
            try (GatewayProcess gateway = GatewayProcess.startLocal(dir)) {
                signal(gateway, signal);
                assertThat(gateway.awaitExit(30)).as("SIG%s", signal).isZero();
            }
        }
    }

    @Test
    void hupReloadsAndNeverStopsTheGateway() throws Exception {
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo());
             GatewayProcess gateway = GatewayProcess.startLocal(work)) {
            signal(gateway, "HUP");
            io.relaygate.testkit.Await.until("the HUP logged", java.time.Duration.ofSeconds(10),
                    () -> gateway.stderr().contains("SIGHUP: configuration read again; nothing changed"));
            try (Socket tunnel = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", echo.port())) {
                tunnel.getOutputStream().write(9);
                assertThat(tunnel.getInputStream().read()).as("still serving").isEqualTo(9);
            }
            gateway.terminate();
            assertThat(gateway.awaitExit(30)).isZero();
            assertThat(gateway.stderr()).contains("gateway stopped");
        }
    }

    /** Writes in 256 KiB steps, about 3 MiB a second per stream. */
    private static final class PacedStream extends OutputStream {
        private final OutputStream out;
        private long sinceLastPause;

        PacedStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            pace(1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            pace(len);
        }

        private void pace(int n) {
            sinceLastPause += n;
            if (sinceLastPause >= 256 * 1024) {
                sinceLastPause = 0;
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(80));
            }
        }
    }
}
