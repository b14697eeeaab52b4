package io.relaygate.httpconnect;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/** HTTP CONNECT through a real in-process gateway over loopback sockets. */
@Timeout(60)
class HttpConnectGatewayTest {

    @RegisterExtension
    final Closer closer = new Closer();


    private <T extends AutoCloseable> T track(T resource) {
        return closer.track(resource);
    }

    private Gateway gateway(String... settings) {
        return track(TestGateway.start(List.of(new HttpConnectPlugin()), settings));
    }

    private static Socket open(Gateway gateway) throws IOException {
        Socket socket = new Socket(gateway.address("mixed").getAddress(), gateway.address("mixed").getPort());
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Reads a response head, byte by byte so that nothing after it is consumed. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String connect(String authority, String... headers) {
        StringBuilder head = new StringBuilder("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n");
        for (String header : headers) {
            head.append(header).append("\r\n");
        }
        return head.append("\r\n").toString();
    }

    @Test
    void c15EarlyDataAfterTheHeadIsDeliveredExactlyOnce() throws Exception {
        TestOrigin digest = track(TestOrigin.start(TestOrigin.digestAfterEof()));
        Gateway gateway = gateway();
        byte[] clientHello = Bytes.deterministic(517, 15);
        try (Socket socket = open(gateway)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(connect("127.0.0.1:" + digest.port()).getBytes(StandardCharsets.US_ASCII));
            all.writeBytes(clientHello);
            socket.getOutputStream().write(all.toByteArray());
            socket.getOutputStream().write(new byte[] {1, 2, 3});
            socket.shutdownOutput();
            String head = readHead(socket.getInputStream());
            assertThat(head).isEqualTo("HTTP/1.1 200 Connection established\r\n\r\n");
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            expected.writeBytes(clientHello);
            expected.writeBytes(new byte[] {1, 2, 3});
            assertThat(Sockets.readToEnd(socket)).isEqualTo(Bytes.sha256().digest(expected.toByteArray()));
        }
    }

    @Test
    void c17APipelinedSecondConnectReachesTheOriginAsPayload() throws Exception {
        TestOrigin echo = track(TestOrigin.start(TestOrigin.echo()));
        Gateway gateway = gateway();
        String second = connect("other.test:443");
        try (Socket socket = open(gateway)) {
            socket.getOutputStream().write((connect("127.0.0.1:" + echo.port()) + second)
                    .getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200 ");
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.US_ASCII)).isEqualTo(second);
        }
    }

    @Test
    void c12AfterA407TheConnectionClosesAndTrailingBytesAreNotARequest() throws Exception {
        MemoryAccounts accounts = new MemoryAccounts();
        Gateway gateway = track(TestGateway.start(List.of(new HttpConnectPlugin(), accounts),
                "accountStore", "memory", "plugins.memory.users", "alice:secret,carol:pw:disabled"));
        TestOrigin echo = track(TestOrigin.start(TestOrigin.echo()));
        String target = "127.0.0.1:" + echo.port();
        try (Socket socket = open(gateway)) {
            socket.getOutputStream().write((connect(target) + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 407 ").contains("Proxy-Authenticate: Basic");
            assertThat(response.indexOf("HTTP/1.1", 1)).as("one response only").isEqualTo(-1);
        }
        for (String credentials : new String[] {"alice:wrong", "mallory:secret", "carol:pw"}) {
            try (Socket socket = open(gateway)) {
                socket.getOutputStream().write(connect(target, "Proxy-Authorization: Basic "
                        + Base64.getEncoder().encodeToString(credentials.getBytes())).getBytes());
                assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1))
                        .as(credentials).startsWith("HTTP/1.1 407 ");
            }
        }
        assertThat(echo.accepted()).isZero();
        try (Socket socket = open(gateway)) {
            socket.getOutputStream().write(connect(target, "Proxy-Authorization: Basic "
                    + Base64.getEncoder().encodeToString("alice:secret".getBytes())).getBytes());
            assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200 ");
            socket.getOutputStream().write("hi".getBytes());
            socket.shutdownOutput();
            assertThat(new String(Sockets.readToEnd(socket))).isEqualTo("hi");
        }
    }

    @Test
    void c3A64KiBRequestLineIsAnswered414AndTheGatewayCarriesOn() throws Exception {
        Gateway gateway = gateway();
        TestOrigin echo = track(TestOrigin.start(TestOrigin.echo()));
        try (Socket socket = open(gateway)) {
            try {
                socket.getOutputStream().write(("CONNECT " + "a".repeat(64 * 1024)).getBytes());
            } catch (IOException expected) {
                // the gateway may answer and close before it has read everything
            }
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 414 ");
        }
        assertThat(statusOf(gateway, connect("127.0.0.1:" + echo.port()))).isEqualTo(200);
    }

    @Test
    void failuresMapToStatuses() throws Exception {
        Gateway gateway = gateway("timeouts.connect", "500ms");
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = unused.getLocalPort();
        }
        assertThat(statusOf(gateway, connect("127.0.0.1:" + closedPort))).isEqualTo(502);
        assertThat(statusOf(gateway, connect("127.0.0.1:" + gateway.address("mixed").getPort()))).isEqualTo(403);
        assertThat(statusOf(gateway, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).isEqualTo(400);
        assertThat(statusOf(gateway, "GET http://127.0.0.1:" + closedPort + "/ HTTP/1.1\r\nHost: x\r\n\r\n"))
                .isEqualTo(502);
    }

    @Test
    void aSlowHeadIsCutAtTheAbsoluteDeadline() throws Exception {
        Gateway gateway = gateway("timeouts.handshake", "800ms");
        try (Socket socket = open(gateway)) {
            long start = System.nanoTime();
            Thread dripper = new Thread(() -> {
                try {
                    for (byte b : "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n".getBytes()) {
                        socket.getOutputStream().write(b);
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                } catch (IOException expected) {
                    // closed by the gateway
                }
            });
            dripper.start();
            assertThat(Sockets.awaitEnd(socket)).isNotEqualTo(Sockets.End.TIMEOUT);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(800L, 4000L);
            dripper.join();
        }
        Await.until("closed", Duration.ofSeconds(2), () -> gateway.stats().openConnections() == 0);
    }

    private static int statusOf(Gateway gateway, String request) throws IOException {
        try (Socket socket = open(gateway)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String head = readHead(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 ");
            return Integer.parseInt(head.substring(9, 12));
        }
    }
}
