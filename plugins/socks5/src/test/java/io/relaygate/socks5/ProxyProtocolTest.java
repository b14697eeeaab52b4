package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.wire.ProxyHeader;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol v1 and v2 on the remote's listeners behind a load balancer: accepted only from
 * {@code trustedProxies}, read before protocol detection, and the client it names is the client for the logs,
 * damping and per-source caps.
 */
@Timeout(60)
class ProxyProtocolTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts().put("alice", "secret", true);

    private Gateway remote(String trusted, String... extra) {
        List<String> settings = new java.util.ArrayList<>(List.of("role", "remote", "accountStore", "memory",
                "directListen", "127.0.0.1:0", "dataDir", data.toString(), "allowDestination", "127.0.0.1/32",
                "trustedProxies", trusted, "timeouts.handshake", "2s", "rateLimiter", "none"));
        settings.addAll(List.of(extra));
        return closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts),
                settings.toArray(String[]::new)));
    }

    private static byte[] v1(String client, int port) {
        return ("PROXY TCP4 " + client + " 127.0.0.1 " + port + " 7080\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] v2(String client, int port) {
        return ProxyHeader.v2(new InetSocketAddress(client, port), new InetSocketAddress("127.0.0.1", 7080));
    }

    /** Sends {@code header} (its two halves apart), then logs in; {@return the RFC 1929 status, -1 if closed} */
    private static int loginThrough(Gateway remote, byte[] header, String password, int echoPort) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", remote.address("direct").getPort())) {
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            try {
                out.write(header, 0, header.length / 2);
                out.flush();
                out.write(header, header.length / 2, header.length - header.length / 2);
                out.write(new byte[] {5, 1, 2});
                out.write(Socks5Client.auth("alice", password));
                in.readFully(new byte[2]);
                in.readUnsignedByte();
            } catch (IOException e) {
                return -1;                      // refused: closed or reset, whenever it came
            }
            int status = in.readUnsignedByte();
            if (status == 0) {
                out.write(Socks5Client.request("127.0.0.1", echoPort));
                assertThat(Socks5Client.readReply(socket).code()).isZero();
                out.write(7);
                assertThat(in.read()).isEqualTo(7);
            }
            return status;
        }
    }

    @Test
    void theClientNamedByAVersionOneOrTwoHeaderIsTheClientOfTheAccessLogAndTheAuthLog() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("127.0.0.1/32");
        try (LogCapture access = LogCapture.of("io.relaygate.access"); LogCapture auth = LogCapture.of(
                "io.relaygate.auth")) {
            assertThat(loginThrough(remote, v2("203.0.113.7", 40001), "secret", echo.port())).isZero();
            assertThat(loginThrough(remote, v1("198.51.100.9", 40002), "secret", echo.port())).isZero();
            assertThat(loginThrough(remote, v2("192.0.2.44", 40003), "wrong", echo.port())).isEqualTo(1);
            Await.until("both tunnels in the access log", Duration.ofSeconds(5),
                    () -> access.lines().size() >= 2);
            assertThat(String.join("\n", access.lines())).contains("client=203.0.113.7:40001",
                    "client=198.51.100.9:40002").doesNotContain("client=127.0.0.1");
            assertThat(auth.linesContaining("from 192.0.2.44:40003: authentication failed for user alice"))
                    .hasSize(1);
        }
    }

    @Test
    void aTrustedProxyMustSendAHeaderAndEachClientBehindItHasItsOwnHandshakeCap() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("127.0.0.0/8", "limits.maxHandshakesPerSource", "2");
        try (Socket bare = Socks5Client.open(remote.address("direct"))) {
            bare.getOutputStream().write(new byte[] {5, 1, 0});
            assertThat(Sockets.awaitEnd(bare)).as("no header: closed without a SOCKS5 answer")
                    .isNotEqualTo(Sockets.End.TIMEOUT);
        }
        try (Socket silent = Socks5Client.open(remote.address("direct"))) {
            assertThat(Sockets.awaitEnd(silent)).as("nothing at all: closed at the handshake deadline")
                    .isNotEqualTo(Sockets.End.TIMEOUT);
        }
        // Two clients behind the balancer hold their handshakes open: a third client still gets in, since the cap
        // is per client, not per balancer; the first client's third does not.
        List<Socket> held = new java.util.ArrayList<>();
        for (String client : List.of("203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2")) {
            Socket socket = closer.track(Socks5Client.open(remote.address("direct")));
            socket.getOutputStream().write(v2(client, 1000 + held.size()));
            socket.getOutputStream().write(5);     // a handshake begun, not finished
            held.add(socket);
        }
        Await.until("four handshakes held", Duration.ofSeconds(5),
                () -> remote.stats().openConnections() == 4);
        assertThat(loginThrough(remote, v2("203.0.113.3", 5000), "secret", echo.port())).isZero();
        assertThat(loginThrough(remote, v2("203.0.113.1", 5001), "secret", echo.port())).as("over its cap")
                .isEqualTo(-1);
        for (Socket socket : held) {
            socket.close();
        }
        Await.until("the held handshakes gave their places back", Duration.ofSeconds(5),
                () -> remote.stats().openConnections() == 0);
        assertThat(loginThrough(remote, v2("203.0.113.1", 5002), "secret", echo.port())).isZero();
    }

    @Test
    void aHeaderFromAnAddressNotTrustedIsRefusedAndPlainClientsThereAreServed() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("10.0.0.0/8");
        assertThat(loginThrough(remote, v2("203.0.113.7", 1), "secret", echo.port())).as("a forged client")
                .isEqualTo(-1);
        assertThat(loginThrough(remote, v1("203.0.113.7", 1), "secret", echo.port())).isEqualTo(-1);
        assertThat(loginThrough(remote, new byte[0], "secret", echo.port())).as("a plain client").isZero();
    }

    @Test
    void garbageAfterTheSignatureClosesThatConnectionOnly() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("127.0.0.1/32");
        for (String bad : List.of("PROXY TCP4 nobody 127.0.0.1 1 2\r\n", "PROXY " + "9".repeat(200),
                "PROXY TCP4 203.0.113.7 127.0.0.1 70000 2\r\n")) {
            assertThat(loginThrough(remote, bad.getBytes(StandardCharsets.US_ASCII), "secret", echo.port()))
                    .as(bad).isEqualTo(-1);
        }
        byte[] huge = v2("203.0.113.7", 1);
        huge[14] = (byte) 0xFF;
        assertThat(loginThrough(remote, huge, "secret", echo.port())).isEqualTo(-1);
        assertThat(loginThrough(remote, v2("203.0.113.7", 2), "secret", echo.port())).as("still serving").isZero();
    }
}
