package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reverse tunnel in two real processes from the distribution, with curl as the visitor: a local started with
 * {@code --expose} serves an HTTP origin on a public port of the remote; kill -9 of either side, and both back.
 */
@Timeout(240)
class ReverseIT {

    @TempDir
    Path work;
    private Path remoteData;
    private Path config;
    private List<Integer> pool;
    private final List<AutoCloseable> processes = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        remoteData = Files.createDirectories(work.resolve("remote-data"));
        pool = freePorts(3);
        config = work.resolve("remote.yaml");
        Files.writeString(config, "role: remote\npasswordIterations: 4096\nreverse:\n  bind: 127.0.0.1\n  ports: "
                + pool.stream().map(String::valueOf).collect(Collectors.joining(", ")) + "\n  holdFor: 1m\n");
        assertThat(new UserCli(work, remoteData, config).run("s3cret\n", "add", "alice", "--password-stdin",
                "--expose-ports=1")).isZero();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable process : processes) {
            process.close();
        }
    }

    private static List<Integer> freePorts(int count) {
        return io.relaygate.testkit.Sockets.freeListenPorts(count);
    }

    private GatewayProcess remote(int port) throws IOException {
        GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:" + port, "--console=off", "--data-dir=" + remoteData, "--config=" + config);
        processes.add(0, remote);
        remote.awaitListening();
        return remote;
    }

    private GatewayProcess local(GatewayProcess remote, int linkPort, HttpOrigin service) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + work.resolve("local-data"),
                "--remote=127.0.0.1:" + linkPort, "--user=alice", remote.fingerprintFlag(),
                "--expose=web=127.0.0.1:" + service.port());
        builder.environment().put("GATEWAY_PASSWORD", "s3cret");
        GatewayProcess local = GatewayProcess.start(builder, work);
        processes.add(0, local);
        local.awaitListening();
        return local;
    }

    /** {@return the pool's port that accepts connections now, if one does} */
    private Optional<Integer> listening() {
        for (int port : pool) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return Optional.of(port);
            } catch (IOException refused) {
                // not this one
            }
        }
        return Optional.empty();
    }

    /** {@return the local ports of the established connections to {@code port} on this machine (the links)} */
    private static java.util.Set<Integer> linkSourcePorts(int port) {
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st ...: ESTABLISHED is 01
                    if (f.length > 3 && f[2].endsWith(String.format(":%04X", port)) && f[3].equals("01")) {
                        ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
                    }
                }
            } catch (IOException e) {
                // no such table: nothing from it
            }
        }
        return ports;
    }

    private boolean curlGets(int port, long size, String expected) {
        try {
            Curl.Result result = Curl.run(work, "http://127.0.0.1:" + port + "/bytes/" + size);
            return result.exit() == 0 && result.sha256().equals(expected);
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Fetches through the public port; on failure says what curl and both gateways said, for a rare flake. */
    private void assertServes(int port, long size, String expected, GatewayProcess... gateways) throws Exception {
        Curl.Result result = Curl.run(work, "http://127.0.0.1:" + port + "/bytes/" + size);
        if (result.exit() != 0 || !result.sha256().equals(expected)) {
            StringBuilder why = new StringBuilder("curl exit " + result.exit() + ": " + result.stderr());
            for (GatewayProcess gateway : gateways) {
                String log = gateway.stderr();
                why.append("\n--- a gateway's log (end):\n").append(log.substring(Math.max(0, log.length() - 4000)));
            }
            throw new AssertionError(why.toString());
        }
    }

    @Test
    void aServiceWithoutVisitorsKeepsItsLinkPastTheUnusedLinkTime() throws Exception {
        // Links with no stream for timeouts.idleLink are closed, but not the one that holds public ports: its
        // visitors would be refused until the local registered again.
        Files.writeString(config, Files.readString(config) + "timeouts:\n  idleLink: 300ms\n");
        try (HttpOrigin service = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            GatewayProcess remote = remote(0);
            GatewayProcess local = local(remote, remote.address("link").getPort(), service);
            Await.until("a public port", Duration.ofSeconds(10), () -> listening().isPresent());
            int port = listening().orElseThrow();
            // The local's other link carries nothing and no port: the remote closes it as unused each period and
            // the local dials it again. Three such new links (seen in the kernel's table, without a visitor, which
            // would make the link used) prove three periods went by.
            int linkPort = remote.address("link").getPort();
            java.util.Set<Integer> seen = new java.util.HashSet<>(linkSourcePorts(linkPort));
            int before = seen.size();
            Await.until("three unused-link periods", Duration.ofSeconds(15), () -> {
                seen.addAll(linkSourcePorts(linkPort));
                return seen.size() >= before + 3;
            });
            assertThat(remote.stderr()).doesNotContain("the local is away");
            assertThat(listening()).contains(port);
            assertServes(port, 1 << 20, HttpOrigin.expectedSha256(1 << 20), remote, local);
        }
    }

    @Test
    void curlReachesTheServiceBehindTheLocalAndBothSidesComeBackAfterKillNine() throws Exception {
        long size = 32L << 20;
        try (HttpOrigin service = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            String expected = HttpOrigin.expectedSha256(size);
            GatewayProcess remote = remote(0);
            int linkPort = remote.address("link").getPort();
            GatewayProcess local = local(remote, linkPort, service);
            Await.until("a public port", Duration.ofSeconds(10), () -> listening().isPresent());
            int port = listening().orElseThrow();
            assertServes(port, size, expected, remote, local);
            assertThat(local.stderr()).contains("exposed web 127.0.0.1:" + service.port() + " at 127.0.0.1:" + port);

            // The local dies: its port refuses visitors within 5 s; a new local gets the same port back.
            local.kill9();
            long killed = System.nanoTime();
            Await.until("the port refuses visitors", Duration.ofSeconds(5), () -> listening().isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(5));
            local.awaitExit(10);
            GatewayProcess secondLocal = local(remote, linkPort, service);
            Await.until("the same port back", Duration.ofSeconds(10), () -> listening().equals(Optional.of(port)));
            assertThat(curlGets(port, size, expected)).isTrue();

            // The remote dies and comes back on the same link port: the local registers again within 5 s of its
            // return and gets the same port, which the remote kept in its account store.
            remote.kill9();
            remote.awaitExit(10);
            Await.until("the port closed with its remote", Duration.ofSeconds(5), () -> listening().isEmpty());
            GatewayProcess restarted = remote(linkPort);
            long back = System.nanoTime();
            Await.until("the same port after the remote's restart", Duration.ofSeconds(5),
                    () -> listening().equals(Optional.of(port)));
            assertThat(Duration.ofNanos(System.nanoTime() - back)).isLessThan(Duration.ofSeconds(5));
            assertServes(port, size, expected, restarted, secondLocal);
        }
    }
}
