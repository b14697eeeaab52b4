package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import io.relaygate.testkit.Sockets;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built remote behind Debian's HAProxy in TCP mode with {@code send-proxy-v2} (and health checks that send a
 * PROXY header of their own): a local's link and a direct SOCKS5 client both come through the balancer, and the
 * remote sees each client's own address, not the balancer's.
 */
@Timeout(120)
class HaproxyIT {

    @TempDir
    Path work;
    private final List<AutoCloseable> processes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable process : processes) {
            process.close();
        }
    }

    private static int freePort() {
        return Sockets.freeListenPorts(1).get(0);
    }

    @Test
    void aLocalsLinkAndADirectClientThroughHaproxyAreServedUnderTheirOwnAddresses() throws Exception {
        Path data = work.resolve("remote-data");
        Path config = work.resolve("remote.yaml");
        Files.writeString(config, String.join("\n", "role: remote", "listen: 127.0.0.1:0",
                "directListen: 127.0.0.1:0", "console: off", "passwordIterations: 4096",
                "trustedProxies: [127.0.0.1/32]", "allowDestination: [127.0.0.1/32]", "dataDir: " + data, ""));
        assertThat(new UserCli(work, data, config).run("s3cret\n", "add", "alice", "--password-stdin")).isZero();
        ProcessBuilder remoteBuilder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--config=" + config);
        remoteBuilder.environment().put("JAVA_OPTS", "-Drelaygate.logs=" + work.resolve("logs"));
        GatewayProcess remote = GatewayProcess.start(remoteBuilder, work);
        processes.add(0, remote);
        remote.awaitListener("direct");

        int linkFront = freePort();
        int directFront = freePort();
        processes.add(0, new Haproxy(work, List.of(
                "global", "    maxconn 256",
                "defaults", "    mode tcp", "    timeout connect 5s", "    timeout client 60s",
                "    timeout server 60s",
                "frontend link", "    bind 127.0.0.1:" + linkFront, "    default_backend remotes_link",
                "frontend direct", "    bind 127.0.0.1:" + directFront, "    default_backend remotes_direct",
                "backend remotes_link", "    server remote1 127.0.0.1:" + remote.address("link").getPort()
                        + " send-proxy-v2 check check-send-proxy inter 1s",
                "backend remotes_direct", "    server remote1 127.0.0.1:" + remote.address("direct").getPort()
                        + " send-proxy-v2 check check-send-proxy inter 1s"), linkFront, directFront));

        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + work.resolve("local-data"),
                "--remote=127.0.0.1:" + linkFront, "--user=alice", remote.fingerprintFlag());
        builder.environment().put("GATEWAY_PASSWORD", "s3cret");
        GatewayProcess local = GatewayProcess.start(builder, work);
        processes.add(0, local);
        local.awaitListening();

        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            long size = 8L << 20;
            String url = "http://127.0.0.1:" + origin.port() + "/bytes/" + size;
            Curl.Result viaLink = Curl.run(work, "--socks5-hostname", "127.0.0.1:"
                    + local.address("mixed").getPort(), url);
            assertThat(viaLink.exit()).as(viaLink.stderr()).isZero();
            assertThat(viaLink.sha256()).isEqualTo(HttpOrigin.expectedSha256(size));
            // The direct client connects from 127.0.0.2: the balancer from 127.0.0.1, which only it may use.
            Curl.Result direct = Curl.run(work, "--interface", "127.0.0.2", "--socks5-hostname",
                    "alice:s3cret@127.0.0.1:" + directFront, url);
            assertThat(direct.exit()).as(direct.stderr()).isZero();
            assertThat(direct.sha256()).isEqualTo(HttpOrigin.expectedSha256(size));
        }
        Path accessLog = work.resolve("logs/access.log");
        Await.until("the direct tunnel in the access log under the client's address", Duration.ofSeconds(10),
                () -> read(accessLog).lines().anyMatch(l -> l.contains("socks5 user=alice client=127.0.0.2:")));
        assertThat(remote.stderr()).doesNotContain("ERROR");
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
