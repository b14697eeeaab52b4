package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two real gateway processes, remote and local, on loopback, with curl and raw clients through the local. */
@Timeout(240)
class ChainIT {

    @TempDir
    Path work;
    private Path remoteData;
    private Path config;
    private final List<AutoCloseable> processes = new ArrayList<>();

    @BeforeEach
    void users() throws Exception {
        remoteData = Files.createDirectories(work.resolve("remote-data"));
        config = work.resolve("chain.yaml");
        // Damping off: these tests log in wrongly on purpose, from one address, more often than a person would.
        Files.writeString(config, "passwordIterations: 4096\nlimits:\n  authFailuresBeforeDelay: 0\n");
        user("s3cret\n", "add", "alice", "--password-stdin");
        user("pw\n", "add", "bob", "--password-stdin");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable process : processes) {
            process.close();
        }
    }

    private int user(String stdin, String... args) throws Exception {
        return new UserCli(work, remoteData, config).run(stdin, args);
    }

    private GatewayProcess remote(int port) throws IOException {
        GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:" + port, "--console=off", "--data-dir=" + remoteData, "--config=" + config,
                "--allow-destination=127.0.0.1/32", "--allow-destination=::1/128");
        processes.add(0, remote);
        remote.awaitListening();
        return remote;
    }

    private GatewayProcess local(GatewayProcess remote, String user, String password) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + work.resolve("local-data"),
                "--remote=127.0.0.1:" + remote.address("link").getPort(), "--user=" + user,
                remote.fingerprintFlag());
        builder.environment().put("GATEWAY_PASSWORD", password);
        GatewayProcess local = GatewayProcess.start(builder, work);
        processes.add(0, local);
        local.awaitListening();
        return local;
    }

    @Test
    void curlThroughLocalAndRemoteIsByteExact() throws Exception {
        long size = 256L << 20;
        GatewayProcess remote = remote(0);
        GatewayProcess local = local(remote, "alice", "s3cret");
        String proxy = "127.0.0.1:" + local.address("mixed").getPort();
        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            String expected = HttpOrigin.expectedSha256(size);
            // socks5h: "localhost" is resolved by the remote, not the local.
            Curl.Result socks = Curl.run(work, "--socks5-hostname", proxy, "http://localhost:" + origin.port()
                    + "/bytes/" + size);
            assertThat(socks.exit()).as(socks.stderr()).isZero();
            assertThat(socks.sha256()).isEqualTo(expected);
            Curl.Result connect = Curl.run(work, "-p", "-x", "http://" + proxy, "http://127.0.0.1:" + origin.port()
                    + "/bytes/" + size);
            assertThat(connect.exit()).as(connect.stderr()).isZero();
            assertThat(connect.sha256()).isEqualTo(expected);
        }
    }

    @Test
    void sixtyFourConcurrentTunnelsAreByteExact() throws Exception {
        GatewayProcess remote = remote(0);
        GatewayProcess local = local(remote, "alice", "s3cret");
        try (TestOrigin digest = TestOrigin.start(TestOrigin.digestAfterEof())) {
            List<Thread> clients = new ArrayList<>();
            byte[][] answers = new byte[64][];
            for (int i = 0; i < 64; i++) {
                int id = i;
                Thread client = new Thread(() -> {
                    try (Socket socket = Socks5Client.connect(local.address("mixed"), "127.0.0.1", digest.port())) {
                        socket.setSoTimeout(60_000);
                        Bytes.writeRandom(socket.getOutputStream(), 1 << 20, id);
                        socket.shutdownOutput();
                        answers[id] = Sockets.readToEnd(socket);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                client.start();
                clients.add(client);
            }
            for (Thread client : clients) {
                client.join(120_000);
            }
            for (int i = 0; i < 64; i++) {
                assertThat(answers[i]).as("tunnel %d", i)
                        .isEqualTo(Bytes.writeRandom(java.io.OutputStream.nullOutputStream(), 1 << 20, i));
            }
        }
    }

    @Test
    void wrongCredentialsFailTunnelsAndTheRemoteLogsWhyWithoutThePassword() throws Exception {
        GatewayProcess remote = remote(0);
        GatewayProcess local = local(remote, "alice", "not-the-password");
        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            String proxy = "127.0.0.1:" + local.address("mixed").getPort();
            Curl.Result socks = Curl.run(work, "--socks5-hostname", proxy, "http://127.0.0.1:" + origin.port()
                    + "/bytes/10");
            assertThat(socks.exit()).isEqualTo(97);
            Curl.Result connect = Curl.run(work, "-p", "-x", "http://" + proxy, "http://127.0.0.1:" + origin.port()
                    + "/bytes/10");
            assertThat(connect.exit()).isEqualTo(56);
            assertThat(connect.stderr()).contains("502");
        }
        Await.until("the remote's log line", Duration.ofSeconds(5),
                () -> remote.stderr().contains("authentication failed for user alice (wrong password)"));
        assertThat(remote.stderr()).doesNotContain("not-the-password");
        assertThat(local.stderr()).contains("refused the credentials of user alice").doesNotContain("not-the-password");
        // Unknown and disabled users: the same refusal at the client, the reason only in the remote's log.
        assertThat(user(null, "set", "bob", "--disable")).isZero();
        for (String[] who : new String[][] {{"mallory", "unknown user"}, {"bob", "disabled user"}}) {
            GatewayProcess other = local(remote, who[0], "pw");
            String proxy = "127.0.0.1:" + other.address("mixed").getPort();
            assertThat(Curl.run(work, "--socks5-hostname", proxy, "http://127.0.0.1:9/").exit()).isEqualTo(97);
            Await.until("the remote's log line for " + who[0], Duration.ofSeconds(5),
                    () -> remote.stderr().contains("authentication failed for user " + who[0] + " (" + who[1] + ")"));
        }
        assertThat(remote.stderr()).doesNotContain("pw\n");
    }

    @Test
    void theRemoteKilledClosesTunnelsAndARestartedRemoteServesAgain() throws Exception {
        GatewayProcess remote = remote(0);
        int linkPort = remote.address("link").getPort();
        GatewayProcess local = local(remote, "alice", "s3cret");
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo())) {
            Await.until("a first tunnel", Duration.ofSeconds(5), () -> echoes(local, echo));
            long fdsBefore = openFiles(local.pid());
            long threadsBefore = threads(local.pid());
            try (Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
                tunnel.getOutputStream().write(42);
                assertThat(tunnel.getInputStream().read()).isEqualTo(42);
                long start = System.nanoTime();
                remote.kill9();
                tunnel.setSoTimeout(5_000);
                assertThat(Sockets.awaitEnd(tunnel)).isNotEqualTo(Sockets.End.TIMEOUT);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            }
            remote.awaitExit(10);
            GatewayProcess restarted = remote(linkPort);
            long reopened = System.nanoTime();
            Await.until("a tunnel through the restarted remote", Duration.ofSeconds(5),
                    () -> echoes(local, echo));
            assertThat(Duration.ofNanos(System.nanoTime() - reopened)).isLessThan(Duration.ofSeconds(5));
            assertThat(restarted.stdout()).anyMatch(line -> line.endsWith(":" + linkPort));
            // Nothing leaked on the local's side: its descriptors come back to what they were (the pool refills
            // with backoff, so it may still be short a link or two), and its threads stay within the bounded
            // blocking executor that the refills' key checks ran on (idle ones retire after 30 s).
            Await.until("the local's descriptors back to baseline", Duration.ofSeconds(20),
                    () -> openFiles(local.pid()) <= fdsBefore + 2);
            assertThat(threads(local.pid())).isLessThanOrEqualTo(threadsBefore + 16);
        }
    }

    @Test
    void theLocalKilledClosesItsTunnelsAtTheRemoteWithinASecond() throws Exception {
        GatewayProcess remote = remote(0);
        GatewayProcess local = local(remote, "alice", "s3cret");
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo())) {
            List<Socket> tunnels = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port());
                    tunnels.add(tunnel);
                    tunnel.getOutputStream().write(i);
                    assertThat(tunnel.getInputStream().read()).isEqualTo(i);
                }
                Await.until("eight tunnels at the origin", Duration.ofSeconds(5), () -> echo.openConnections() == 8);
                long start = System.nanoTime();
                local.kill9();
                Await.until("the remote closed what the dead local's streams held", Duration.ofSeconds(5),
                        () -> echo.openConnections() == 0);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            } finally {
                for (Socket tunnel : tunnels) {
                    tunnel.close();
                }
            }
            local.awaitExit(10);
            GatewayProcess again = local(remote, "alice", "s3cret");
            long restarted = System.nanoTime();
            Await.until("a tunnel through the restarted local", Duration.ofSeconds(5), () -> echoes(again, echo));
            assertThat(Duration.ofNanos(System.nanoTime() - restarted)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void usersChangedFromTheCommandLineApplyToTheLiveRemote() throws Exception {
        GatewayProcess remote = remote(0);
        assertThat(user("pw2\n", "add", "carol", "--password-stdin")).isZero();
        GatewayProcess carol = local(remote, "carol", "pw2");
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo())) {
            assertThat(echoes(carol, echo)).as("a user added while the remote runs").isTrue();
            try (Socket tunnel = Socks5Client.connect(carol.address("mixed"), "127.0.0.1", echo.port())) {
                tunnel.getOutputStream().write(1);
                assertThat(tunnel.getInputStream().read()).isEqualTo(1);
                long start = System.nanoTime();
                assertThat(user(null, "set", "carol", "--disable")).isZero();
                tunnel.setSoTimeout(5_000);
                assertThat(Sockets.awaitEnd(tunnel)).isNotEqualTo(Sockets.End.TIMEOUT);
                // The command itself takes a JVM start; the remote's own reaction is the poll interval.
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            }
            Await.until("a disabled user opens nothing more", Duration.ofSeconds(1), () -> !echoes(carol, echo));
            assertThat(user(null, "set", "carol", "--enable")).isZero();
            // After a refusal the local tries a login again at most every 5 s, so the remote's damping is spared.
            Await.until("an enabled user's tunnels work again", Duration.ofSeconds(8), () -> echoes(carol, echo));
            assertThat(user(null, "del", "carol")).isZero();
            // Idle authenticated links of the user close when the remote's change feed sees the deletion.
            Await.until("a deleted user opens nothing more", Duration.ofSeconds(1), () -> !echoes(carol, echo));
        }
    }

    private static long openFiles(long pid) {
        String[] fds = new java.io.File("/proc/" + pid + "/fd").list();
        return fds == null ? Long.MAX_VALUE : fds.length;
    }

    private static long threads(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(line -> line.startsWith("Threads:"))
                    .mapToLong(line -> Long.parseLong(line.substring(8).trim())).findFirst().orElse(Long.MAX_VALUE);
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    private static boolean echoes(GatewayProcess local, TestOrigin echo) {
        try (Socket socket = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
            socket.getOutputStream().write(9);
            return new DataInputStream(socket.getInputStream()).read() == 9;
        } catch (IOException e) {
            return false;
        }
    }
}
