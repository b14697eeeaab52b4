package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.Gateway;
import io.relaygate.spi.Resolver;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.BothWays;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/** SOCKS5 through a real in-process gateway over loopback sockets: the bad-input and fault rows that need sockets. */
@Timeout(60)
class Socks5GatewayTest {

    @RegisterExtension
    final Closer closer = new Closer();


    private <T extends AutoCloseable> T track(T resource) {
        return closer.track(resource);
    }

    private Gateway gateway(String... settings) {
        return track(io.relaygate.testkit.TestGateway.start(List.of(new Socks5Plugin()), settings));
    }

    private Gateway gateway(Resolver resolver, String... settings) {
        return track(io.relaygate.testkit.TestGateway.start(List.of(new Socks5Plugin()), resolver, settings));
    }

    private TestOrigin echo() {
        return track(TestOrigin.start(TestOrigin.echo()));
    }

    /** The gateway still serves a well-behaved client after whatever the test did. */
    private static void assertServesNext(Gateway gateway, TestOrigin echo) throws IOException {
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", echo.port())) {
            socket.getOutputStream().write("ping".getBytes());
            byte[] answer = new byte[4];
            new DataInputStream(socket.getInputStream()).readFully(answer);
            assertThat(new String(answer)).isEqualTo("ping");
        }
    }

    private static byte[] roundTrip(Socket socket, byte[] payload) throws IOException {
        socket.getOutputStream().write(payload);
        socket.shutdownOutput();
        return Sockets.readToEnd(socket);
    }

    @Test
    void connectsToIpv4Ipv6AndNamesAndRepliesWithTheBoundAddress() throws Exception {
        Gateway gateway = gateway();
        TestOrigin v4 = echo();
        TestOrigin v6 = track(TestOrigin.start(InetAddress.getByName("::1"), TestOrigin.echo()));
        for (String[] target : new String[][] {{"127.0.0.1", "" + v4.port()}, {"::1", "" + v6.port()},
                {"localhost", "" + v4.port()}}) {
            try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
                socket.getOutputStream().write(Socks5Client.greetingAndRequest(target[0], Integer.parseInt(target[1])));
                byte[] selection = new byte[2];
                new DataInputStream(socket.getInputStream()).readFully(selection);
                Socks5Client.Reply reply = Socks5Client.readReply(socket);
                assertThat(reply.code()).as(target[0]).isZero();
                assertThat(reply.bound().getAddress().isLoopbackAddress()).isTrue();
                assertThat(reply.bound().getPort()).isPositive();
                assertThat(roundTrip(socket, "hello".getBytes())).isEqualTo("hello".getBytes());
            }
        }
    }

    @Test
    void relayIsByteExactFor64ConcurrentTunnelsInBothDirectionsAtOnce() throws Exception {
        int tunnels = 64;
        long perDirection = 4L << 20;    // 64 x 4 MiB = 256 MiB each way
        BothWays transfer = new BothWays(tunnels, perDirection);
        TestOrigin origin = track(TestOrigin.start(transfer.origin()));
        Gateway gateway = gateway();
        transfer.run(id -> Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", origin.port()));
        Await.until("all tunnels closed", Duration.ofSeconds(5), () -> gateway.stats().openConnections() == 0);
        assertThat(gateway.stats().bytesUp()).isEqualTo(tunnels * (perDirection + 4));
        assertThat(gateway.stats().bytesDown()).isEqualTo(tunnels * perDirection);
        assertThat(gateway.bufferPool().inUse()).isZero();
    }

    @Test
    void halfCloseStillDeliversTheWholeResponse() throws Exception {
        TestOrigin origin = track(TestOrigin.start(TestOrigin.digestAfterEof()));
        Gateway gateway = gateway();
        for (int i = 0; i < 200; i++) {
            byte[] request = Bytes.deterministic(1 + i * 97, i);
            try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", origin.port())) {
                byte[] answer = roundTrip(socket, request);
                assertThat(answer).isEqualTo(Bytes.sha256().digest(request));
            }
        }
        Await.until("tunnels closed after both FINs", Duration.ofSeconds(2),
                () -> gateway.stats().openConnections() == 0);
    }

    @Test
    void backpressureKeepsAtMostOneBufferPerDirectionWhatever1GiBTheOriginPushes() throws Exception {
        long total = 1L << 30;
        long[] written = {0};
        TestOrigin origin = track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (long left = total; left > 0; left -= chunk.length) {
                out.write(chunk);
                written[0] += chunk.length;
            }
            socket.shutdownOutput();
        }));
        Gateway gateway = gateway();
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", origin.port())) {
            socket.setReceiveBufferSize(64 * 1024);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8 * 1024];
            long read = 0;
            long maxInUse = 0;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < until) {          // a slow reader: 8 KiB per millisecond at most
                read += Math.max(0, in.read(buffer));
                maxInUse = Math.max(maxInUse, gateway.bufferPool().inUse());
                LockSupport.parkNanos(1_000_000);
            }
            assertThat(maxInUse).as("buffers held by the tunnel").isLessThanOrEqualTo(2);
            // Only socket buffers sit between the origin and the slow reader: the origin was held back.
            assertThat(written[0] - read).isLessThan(64L << 20);
            assertThat(written[0]).isLessThan(total / 4);
            long[] rest = {0};
            Bytes.readAll(in, rest);
            assertThat(read + rest[0]).isEqualTo(total);
        }
    }

    @Test
    void a5DripFedHandshakeWithinTheDeadlineSucceeds() throws Exception {
        TestOrigin echo = echo();
        Gateway gateway = gateway("timeouts.handshake", "3s");
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            for (byte b : Socks5Client.greetingAndRequest("127.0.0.1", echo.port())) {
                socket.getOutputStream().write(b);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(60));
            }
            byte[] selection = new byte[2];
            new DataInputStream(socket.getInputStream()).readFully(selection);
            assertThat(Socks5Client.readReply(socket).code()).isZero();
            assertThat(roundTrip(socket, "x".getBytes())).isEqualTo("x".getBytes());
        }
    }

    @Test
    void a7DripFeedCannotExtendTheAbsoluteDeadline() throws Exception {
        Gateway gateway = gateway("timeouts.handshake", "1s");
        TestOrigin echo = echo();
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            long start = System.nanoTime();
            Thread dripper = new Thread(() -> {
                try {
                    socket.getOutputStream().write(new byte[] {5, (byte) 255});
                    for (int i = 0; i < 30; i++) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                        socket.getOutputStream().write(1);
                    }
                } catch (IOException expected) {
                    // the gateway closed the connection
                }
            });
            dripper.start();
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMs).isBetween(1000L, 4000L);
            dripper.join();
        }
        assertServesNext(gateway, echo);
    }

    @Test
    void a4A10SilenceMidHandshakeIsClosedAtTheDeadline() throws Exception {
        Gateway gateway = gateway("timeouts.handshake", "700ms");
        TestOrigin echo = echo();
        for (byte[] partial : new byte[][] {{5, (byte) 0xFF, 0, 1, 2}, {5, 1, 0, 5, 1, 0, 3, 10, 'a'}}) {
            try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
                long start = System.nanoTime();
                socket.getOutputStream().write(partial);
                Sockets.End end = Sockets.awaitEnd(socket);
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(end).isNotEqualTo(Sockets.End.TIMEOUT);
                assertThat(elapsedMs).isBetween(650L, 3000L);
            }
        }
        assertThat(echo.accepted()).isZero();
        assertServesNext(gateway, echo);
    }

    @Test
    void a1OtherProtocolsAreClosedWithoutReplyAndWithoutDialing() throws Exception {
        Gateway gateway = gateway();
        TestOrigin echo = echo();
        for (byte[] greeting : new byte[][] {{4, 1, 0, 80, 127, 0, 0, 1, 0}, {0, 1, 0},
                "GET / HTTP/1.1\r\n\r\n".getBytes()}) {
            try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
                socket.getOutputStream().write(greeting);
                assertThat(Sockets.readToEnd(socket)).isEmpty();
            }
        }
        assertThat(echo.accepted()).isZero();
        assertServesNext(gateway, echo);
    }

    @Test
    void a11WrongUnknownAndDisabledUsersGetFailureStatusAndNothingIsRelayed() throws Exception {
        MemoryAccounts accounts = new MemoryAccounts();
        Gateway gateway = track(io.relaygate.testkit.TestGateway.start(List.of(new Socks5Plugin(), accounts),
                "accountStore", "memory", "plugins.memory.users", "alice:secret,carol:pw:disabled"));
        TestOrigin echo = echo();
        String[][] refused = {{"alice", "wrong"}, {"mallory", "secret"}, {"carol", "pw"}};
        for (String[] credentials : refused) {
            try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
                socket.getOutputStream().write(new byte[] {5, 1, 2});
                socket.getOutputStream().write(Socks5Client.auth(credentials[0], credentials[1]));
                socket.getOutputStream().write(Socks5Client.request("127.0.0.1", echo.port()));
                assertThat(Sockets.readToEnd(socket)).as(credentials[0]).containsExactly(5, 2, 1, 1);
            }
        }
        assertThat(echo.accepted()).isZero();
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {      // A6: all in one segment
            byte[] all = concat(new byte[] {5, 1, 2}, Socks5Client.auth("alice", "secret"),
                    Socks5Client.request("127.0.0.1", echo.port()), "payload".getBytes());
            socket.getOutputStream().write(all);
            byte[] head = new byte[4];
            new DataInputStream(socket.getInputStream()).readFully(head);
            assertThat(head).containsExactly(5, 2, 1, 0);
            assertThat(Socks5Client.readReply(socket).code()).isZero();
            socket.shutdownOutput();
            assertThat(new String(Sockets.readToEnd(socket))).isEqualTo("payload");
        }
        assertThat(accounts.lookups()).isEqualTo(4);
    }

    @Test
    void failuresMapToReplyCodesAndTheGatewayCarriesOn() throws Exception {
        TestOrigin echo = echo();
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = unused.getLocalPort();
        }
        Resolver resolver = host -> switch (host) {
            case "nowhere.test" -> throw new UnknownHostException(host);
            case "slow.test" -> {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(5));
                yield List.of(InetAddress.getLoopbackAddress());
            }
            default -> List.of(InetAddress.getLoopbackAddress());
        };
        Gateway gateway = gateway(resolver, "timeouts.dns", "300ms");
        InetSocketAddress own = gateway.address("mixed");
        assertThat(replyTo(gateway, "127.0.0.1", closedPort)).as("refused").isEqualTo(5);
        assertThat(replyTo(gateway, "nowhere.test", 80)).as("unknown name").isEqualTo(4);
        long start = System.nanoTime();
        assertThat(replyTo(gateway, "slow.test", 80)).as("DNS timeout").isEqualTo(4);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 3000L);
        assertThat(replyTo(gateway, "127.0.0.1", own.getPort())).as("itself").isEqualTo(2);
        assertServesNext(gateway, echo);
        assertThat(gateway.stats().tunnelFailures()).containsKeys("CONNECTION_REFUSED", "HOST_UNREACHABLE",
                "TIMED_OUT", "NOT_ALLOWED");
    }

    @Test
    void d9ASlowLookupDoesNotHoldUpOtherTunnelsOnTheLoop() throws Exception {
        TestOrigin echo = echo();
        CountDownLatch release = new CountDownLatch(1);
        Resolver resolver = host -> {
            if (host.equals("slow.test")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return List.of(InetAddress.getLoopbackAddress());
        };
        Gateway gateway = gateway(resolver, "reactor.eventLoops", "1", "timeouts.dns", "10s");
        try (Socket slow = Socks5Client.open(gateway.address("mixed"))) {
            slow.getOutputStream().write(Socks5Client.greetingAndRequest("slow.test", echo.port()));
            for (int i = 0; i < 20; i++) {
                assertServesNext(gateway, echo);
            }
            release.countDown();
            byte[] selection = new byte[2];
            new DataInputStream(slow.getInputStream()).readFully(selection);
            assertThat(Socks5Client.readReply(slow).code()).isZero();
        }
    }

    @Test
    void d6ADestinationThatNeverAcceptsTimesOut() throws Exception {
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {     // fill the accept queue: further SYNs are dropped
                    Socket filler = new Socket();
                    try {
                        filler.connect(full.getLocalSocketAddress(), 200);
                        fillers.add(filler);
                    } catch (IOException e) {
                        filler.close();
                        break;
                    }
                }
                Gateway gateway = gateway("timeouts.connect", "500ms");
                long start = System.nanoTime();
                assertThat(replyTo(gateway, "127.0.0.1", full.getLocalPort())).isEqualTo(4);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(500L, 4000L);
                Await.until("connection released", Duration.ofSeconds(2),
                        () -> gateway.stats().openConnections() == 0);
            } finally {
                for (Socket filler : fillers) {
                    filler.close();
                }
            }
        }
    }

    @Test
    void d5AndD8IdleAndHalfOpenTunnelsAreReclaimedAtTheIdleTimeout() throws Exception {
        TestOrigin silent = track(TestOrigin.start(socket -> socket.getInputStream().read()));
        Gateway gateway = gateway("timeouts.idle", "600ms");
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", silent.port())) {
            long start = System.nanoTime();
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(550L, 4000L);
        }
        Await.until("origin side closed", Duration.ofSeconds(2), () -> silent.openConnections() == 0);
        Await.until("gateway side closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
    }

    @Test
    void aTunnelHalfClosedForTooLongIsClosedAtTheHalfClosedTimeout() throws Exception {
        // The origin reads up to the client's FIN and then neither writes nor closes.
        CountDownLatch release = new CountDownLatch(1);
        track(release::countDown);
        TestOrigin stubborn = track(TestOrigin.start(socket -> {
            Bytes.readAll(socket.getInputStream(), null);
            release.await(30, TimeUnit.SECONDS);
        }));
        Gateway gateway = gateway("timeouts.halfClosed", "500ms", "timeouts.idle", "30s");
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", stubborn.port())) {
            socket.getOutputStream().write("request".getBytes());
            socket.shutdownOutput();
            long start = System.nanoTime();
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(450L, 4000L);
        }
        Await.until("tunnel closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
    }

    @Test
    void d7AnUpstreamResetClosesTheClientPromptly() throws Exception {
        // The origin resets only once the tunnel is up (the client's first byte says so): a reset during the
        // gateway's connect would be a refused connection, another test.
        TestOrigin resetter = track(TestOrigin.start(socket -> {
            socket.getInputStream().read();
            socket.getOutputStream().write(new byte[256 * 1024]);
            socket.setSoLinger(true, 0);
        }));
        Gateway gateway = gateway();
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", resetter.port())) {
            socket.setSoTimeout(3_000);
            socket.getOutputStream().write(1);
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
        }
        Await.until("tunnel closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
        assertThat(gateway.bufferPool().inUse()).isZero();
    }

    @Test
    void d11OneByteWritesArriveByteExact() throws Exception {
        TestOrigin digest = track(TestOrigin.start(TestOrigin.digestAfterEof()));
        Gateway gateway = gateway();
        byte[] payload = Bytes.deterministic(100_000, 11);
        try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", digest.port())) {
            OutputStream out = socket.getOutputStream();
            for (byte b : payload) {
                out.write(b);
            }
            socket.shutdownOutput();
            assertThat(Sockets.readToEnd(socket)).isEqualTo(Bytes.sha256().digest(payload));
        }
    }

    @Test
    void d2D3ConnectionCapsCloseTheExcessAndRecover() throws Exception {
        TestOrigin echo = echo();
        Gateway gateway = gateway("limits.maxConnections", "4", "limits.maxHandshakesPerSource", "2");
        List<Socket> handshaking = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Socket s = Socks5Client.open(gateway.address("mixed"));
                s.getOutputStream().write(5);
                handshaking.add(s);
            }
            Await.until("two handshakes open", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 2);
            assertClosedAtAccept(gateway);     // a third handshake from one source
            handshaking.forEach(s -> closeQuietly(s));
            handshaking.clear();
            Await.until("handshakes closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
            List<Socket> tunnels = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tunnels.add(Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", echo.port()));
            }
            assertClosedAtAccept(gateway);     // a fifth connection, over the global cap
            assertThat(gateway.stats().refusedConnections()).isEqualTo(2);
            tunnels.forEach(s -> closeQuietly(s));
            Await.until("tunnels closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
            assertServesNext(gateway, echo);
        } finally {
            handshaking.forEach(s -> closeQuietly(s));
        }
    }

    @Test
    void noThreadDescriptorOrBufferLeakAfter10000ShortTunnels() throws Exception {
        TestOrigin echo = echo();
        Gateway gateway = gateway();
        Runnable churn = () -> {
            for (int i = 0; i < 2500; i++) {
                try (Socket socket = Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", echo.port())) {
                    assertThat(roundTrip(socket, new byte[] {1, 2, 3})).containsExactly(1, 2, 3);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }
        };
        churn.run();    // warm up: the blocking pool, the JIT, lazily created threads
        Await.until("quiet", Duration.ofSeconds(5), () -> gateway.stats().openConnections() == 0
                && echo.openConnections() == 0);
        int threads = Thread.activeCount();
        long fds = openFiles();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread worker = new Thread(churn);
            worker.start();
            workers.add(worker);
        }
        for (Thread worker : workers) {
            worker.join();
        }
        Await.until("quiet", Duration.ofSeconds(10), () -> gateway.stats().openConnections() == 0
                && echo.openConnections() == 0 && openFiles() <= fds);
        assertThat(gateway.stats().totalTunnels()).isEqualTo(12_500);
        assertThat(gateway.bufferPool().inUse()).isZero();
        Await.until("threads back to baseline", Duration.ofSeconds(5), () -> Thread.activeCount() <= threads);
    }

    /** The gateway resets a connection over a cap as soon as it accepts it, maybe before connect() returns. */
    private static void assertClosedAtAccept(Gateway gateway) {
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
        } catch (IOException resetDuringConnect) {
            assertThat(resetDuringConnect).hasMessageContaining("reset");
        }
    }

    private static long openFiles() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static int replyTo(Gateway gateway, String host, int port) throws IOException {
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            socket.getOutputStream().write(Socks5Client.greetingAndRequest(host, port));
            byte[] selection = new byte[2];
            new DataInputStream(socket.getInputStream()).readFully(selection);
            int code = Socks5Client.readReply(socket).code();
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
            return code;
        }
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Arrays.stream(parts).forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // test cleanup
        }
    }

    @Test
    void aRefusedConnectThrowsInTheClientHelper() {
        Gateway gateway = gateway();
        assertThatThrownBy(() -> Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", 1))
                .isInstanceOf(IOException.class).hasMessageContaining("reply 5");
    }
}
