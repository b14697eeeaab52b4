package io.relaygate.core.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LineProtocol;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The core's own connection lifecycle and relay, through the smallest protocol plugin ({@link LineProtocol}), so
 * that neither SOCKS5 nor HTTP is needed to test them: the handshake's deadline, early data and failure paths, and
 * the relay's half-close, reset and backpressure. After each test nothing is left open and no buffer is held.
 */
@Timeout(60)
class CoreConnectionTest {

    @RegisterExtension
    final Closer closer = new Closer();
    private Gateway gateway;

    private Gateway gateway(String... settings) {
        gateway = TestGateway.start(List.of(new LineProtocol()), settings);
        return gateway;
    }

    /** Clients and origins closed, the gateway must have closed every connection and got every buffer back. */
    @AfterEach
    void nothingLeftBehind() throws Exception {
        closer.close();
        if (gateway != null) {
            try {
                Await.until("every connection closed", Duration.ofSeconds(5),
                        () -> gateway.stats().openConnections() == 0);
                Await.until("every buffer back", Duration.ofSeconds(5), () -> gateway.bufferPool().inUse() == 0);
            } finally {
                gateway.close();
            }
        }
    }

    private Socket open() throws IOException {
        InetSocketAddress address = gateway.address("mixed");
        Socket socket = closer.track(new Socket(address.getAddress(), address.getPort()));
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            line.append((char) c);
        }
        return line.toString();
    }

    @Test
    void halfCloseTravelsEachWayAndTheBytesArriveExactly() throws Exception {
        TestOrigin digest = closer.track(TestOrigin.start(TestOrigin.digestAfterEof()));
        gateway();
        byte[] payload = Bytes.deterministic(3_000_000, 5);
        Socket client = open();
        client.getOutputStream().write(LineProtocol.request("127.0.0.1", digest.port()));
        assertThat(line(client.getInputStream())).isEqualTo("OK");
        client.getOutputStream().write(payload);
        client.shutdownOutput();    // becomes the origin's EOF, which it answers after
        assertThat(Sockets.readToEnd(client)).isEqualTo(Bytes.sha256().digest(payload));
    }

    @Test
    void earlyDataSentWithTheRequestReachesTheDestinationFirst() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        gateway();
        Socket client = open();
        byte[] request = LineProtocol.request("127.0.0.1", echo.port());
        byte[] early = "early bytes".getBytes(StandardCharsets.US_ASCII);
        byte[] both = new byte[request.length + early.length];
        System.arraycopy(request, 0, both, 0, request.length);
        System.arraycopy(early, 0, both, request.length, early.length);
        client.getOutputStream().write(both);      // one write: the handshake and data in the same segment
        assertThat(line(client.getInputStream())).isEqualTo("OK");
        assertThat(client.getInputStream().readNBytes(early.length)).isEqualTo(early);
    }

    @Test
    void aResetByTheDestinationResetsTheClient() throws Exception {
        TestOrigin resetting = closer.track(TestOrigin.start(socket -> {
            socket.getInputStream().read();
            socket.setSoLinger(true, 0);
            socket.close();
        }));
        gateway();
        Socket client = open();
        client.getOutputStream().write(LineProtocol.request("127.0.0.1", resetting.port()));
        assertThat(line(client.getInputStream())).isEqualTo("OK");
        client.getOutputStream().write(1);
        assertThat(Sockets.awaitEnd(client)).isEqualTo(Sockets.End.RESET);
    }

    @Test
    void aClientThatDoesNotReadHoldsOneBufferAndTheDestinationIsHeldBack() throws Exception {
        AtomicLong pushed = new AtomicLong();
        TestOrigin pushing = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            while (pushed.get() < (1L << 30)) {
                out.write(chunk);
                pushed.addAndGet(chunk.length);
            }
        }));
        gateway("reactor.eventLoops", "1");
        Socket client = open();
        client.setReceiveBufferSize(64 * 1024);
        client.getOutputStream().write(LineProtocol.request("127.0.0.1", pushing.port()));
        assertThat(line(client.getInputStream())).isEqualTo("OK");
        // Once the client's socket is full the relay keeps what it could not write, one buffer, and stops reading
        // the destination: only kernel buffers sit between the origin and the client from then on.
        // Steady: the same buffer held and nothing pushed for 200 polls (a relay moving bytes holds one only while it
        // reads and writes, and lets the origin push on).
        long[] last = {-1};
        int[] steady = {0};
        Await.until("the relay holds its one buffer and the origin is held back", Duration.ofSeconds(20), () -> {
            long now = pushed.get();
            steady[0] = now == last[0] && gateway.bufferPool().inUse() == 1 ? steady[0] + 1 : 0;
            last[0] = now;
            return steady[0] >= 200;
        });
        assertThat(pushed.get()).as("held back long before the 1 GiB it would send").isLessThan(64L << 20);
        assertThat(gateway.bufferPool().inUse()).as("never more than that one").isEqualTo(1);
        // A reader resumes the flow.
        long before = pushed.get();
        client.getInputStream().readNBytes(8 << 20);
        assertThat(pushed.get()).isGreaterThan(before);
        client.close();
    }

    @Test
    void downloadsReadIntoBulkBuffersNoMoreAtOnceThanTheTierHolds() throws Exception {
        TestOrigin pushing = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < 1024; i++) {
                out.write(chunk);
            }
        }));
        gateway("reactor.eventLoops", "1", "reactor.bulkBuffers", "1");
        BufferPool bulk = gateway.bufferPool().bulk();
        List<InputStream> clients = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Socket client = open();
            client.setReceiveBufferSize(64 * 1024);
            client.getOutputStream().write(LineProtocol.request("127.0.0.1", pushing.port()));
            assertThat(line(client.getInputStream())).isEqualTo("OK");
            clients.add(client.getInputStream());
        }
        // Two slow readers of two origins that write flat out: both relays read full buffers, so both want a bulk
        // buffer; the tier has one.
        byte[] buffer = new byte[8 * 1024];
        long maxBulk = 0;
        long maxHeld = 0;
        boolean bulkSeen = false;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int round = 0; round < 1024 || !bulkSeen || maxHeld < 2; round++) {     // 8 MiB from each at least
            assertThat(System.nanoTime()).as("a bulk buffer lent within 20 s").isLessThan(until);
            for (InputStream in : clients) {
                in.readNBytes(buffer, 0, buffer.length);
            }
            long lent = bulk.inUse();
            bulkSeen |= lent == 1;
            maxBulk = Math.max(maxBulk, lent);
            maxHeld = Math.max(maxHeld, gateway.bufferPool().inUse());
        }
        assertThat(maxBulk).as("bulk buffers lent at once").isEqualTo(1);
        assertThat(gateway.bufferPool().inUse()).as("one buffer per direction at most").isLessThanOrEqualTo(4);
    }

    @Test
    void aHandshakeThatNeverCompletesIsClosedAtTheDeadline() throws Exception {
        gateway("timeouts.handshake", "300ms");
        Socket client = open();
        client.getOutputStream().write("!127.0.0.1:".getBytes(StandardCharsets.US_ASCII));   // never the newline
        long start = System.nanoTime();
        assertThat(Sockets.awaitEnd(client)).isNotEqualTo(Sockets.End.TIMEOUT);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(200),
                Duration.ofSeconds(5));
        assertThat(gateway.stats().handshakeFailures()).containsKey("line: handshake deadline");
    }

    @Test
    void eachFailedHandshakeGetsItsAnswerAndTheGatewayKeepsServing() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        gateway();
        int closedPort;
        try (ServerSocket nothing = new ServerSocket(0)) {
            closedPort = nothing.getLocalPort();
        }
        try (Socket unknown = open()) {
            unknown.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(Sockets.awaitEnd(unknown)).as("no protocol matches: closed").isNotEqualTo(Sockets.End.TIMEOUT);
        }
        try (Socket bad = open()) {
            bad.getOutputStream().write("!no-port\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(bad.getInputStream())).isEqualTo("NO BAD_LINE");
            assertThat(Sockets.awaitEnd(bad)).isNotEqualTo(Sockets.End.TIMEOUT);
        }
        try (Socket refused = open()) {
            refused.getOutputStream().write(LineProtocol.request("127.0.0.1", closedPort));
            assertThat(line(refused.getInputStream())).isEqualTo("NO CONNECTION_REFUSED");
            assertThat(Sockets.awaitEnd(refused)).isNotEqualTo(Sockets.End.TIMEOUT);
        }
        try (Socket self = open()) {
            self.getOutputStream().write(LineProtocol.request("127.0.0.1", gateway.address("mixed").getPort()));
            assertThat(line(self.getInputStream())).as("never into itself").isEqualTo("NO NOT_ALLOWED");
        }
        try (Socket gone = open()) {
            gone.getOutputStream().write("!127.0".getBytes(StandardCharsets.US_ASCII));
            // the client leaves mid-handshake
        }
        Socket fine = open();
        fine.getOutputStream().write(LineProtocol.request("127.0.0.1", echo.port()));
        assertThat(line(fine.getInputStream())).isEqualTo("OK");
        fine.getOutputStream().write(7);
        assertThat(new DataInputStream(fine.getInputStream()).read()).as("still serving").isEqualTo(7);
        fine.close();
    }
}
