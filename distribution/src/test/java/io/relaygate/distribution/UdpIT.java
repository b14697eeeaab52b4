package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import io.relaygate.testkit.Socks5Udp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS over SOCKS5 UDP ASSOCIATE through the built gateway, direct and over a link between two gateway processes,
 * against dnsmasq on loopback: the test kit's RFC 1928 client, and Dante's {@code socksify} running ldns's
 * {@code drill} (a third-party SOCKS5 UDP client; BIND's {@code dig} sends with {@code sendmmsg}, which socksify
 * does not intercept, so its queries bypass any SOCKS server).
 */
@Timeout(120)
class UdpIT {

    /** What dnsmasq answers for {@link #NAME}. */
    private static final byte[] ANSWER = {10, 1, 2, 3};
    private static final String NAME = "test.relaygate";

    @TempDir
    static Path work;
    private static Process dnsmasq;
    private static int dnsPort;
    private static final List<AutoCloseable> gateways = new ArrayList<>();

    @BeforeAll
    static void startDnsmasq() throws Exception {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            dnsPort = probe.getLocalPort();
        }
        dnsmasq = new ProcessBuilder("dnsmasq", "--no-daemon", "--port=" + dnsPort, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--address=/" + NAME + "/10.1.2.3", "--pid-file=" + work.resolve("dnsmasq.pid"))
                .redirectErrorStream(true).redirectOutput(work.resolve("dnsmasq.log").toFile()).start();
        Await.until("dnsmasq answers", Duration.ofSeconds(10), () -> {
            try (DatagramSocket socket = new DatagramSocket()) {
                socket.setSoTimeout(200);
                byte[] query = query(1);
                socket.send(new DatagramPacket(query, query.length, new InetSocketAddress("127.0.0.1", dnsPort)));
                byte[] buffer = new byte[512];
                socket.receive(new DatagramPacket(buffer, buffer.length));
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable gateway : gateways) {
            gateway.close();
        }
        dnsmasq.destroy();
        dnsmasq.waitFor(10, TimeUnit.SECONDS);
    }

    /** {@return a DNS query (RFC 1035) for the A record of {@link #NAME}} */
    static byte[] query(int id) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) (id >> 8), (byte) id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : NAME.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    private static boolean answers(byte[] response, int id) {
        if (response.length < 12 || (response[0] & 0xFF) != (id >> 8 & 0xFF) || (response[1] & 0xFF) != (id & 0xFF)
                || response[7] != 1) {
            return false;
        }
        for (int i = 0; i + 4 <= response.length; i++) {
            if (response[i] == ANSWER[0] && response[i + 1] == ANSWER[1] && response[i + 2] == ANSWER[2]
                    && response[i + 3] == ANSWER[3]) {
                return true;
            }
        }
        return false;
    }

    private static void resolvesThroughTheTestClient(InetSocketAddress proxy) throws IOException {
        try (Socks5Udp udp = Socks5Udp.associate(proxy, null, null)) {
            for (int id = 100; id < 110; id++) {
                udp.send("127.0.0.1", dnsPort, query(id));
                Socks5Udp.Received reply = udp.receive(5_000);
                assertThat(reply).as("an answer to query " + id).isNotNull();
                assertThat(reply.source()).isEqualTo(new InetSocketAddress("127.0.0.1", dnsPort));
                assertThat(answers(reply.data(), id)).as("query " + id + " answered").isTrue();
            }
        }
    }

    private static long udpLinesWithTraffic() throws IOException {
        Path log = GatewayProcess.HOME.resolve("logs/access.log");
        if (!Files.exists(log)) {
            return 0;
        }
        return Files.readAllLines(log).stream().filter(l -> l.contains(" destination=udp ")
                && !l.contains(" up=0 ")).count();
    }

    /** Runs {@code socksify drill} through {@code proxy}, every route through it (no direct routes for the LAN). */
    private static void resolvesThroughSocksify(InetSocketAddress proxy) throws Exception {
        Path conf = work.resolve("dante-" + proxy.getPort() + ".conf");
        Files.writeString(conf, "route {\n  from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = " + proxy.getPort()
                + "\n  proxyprotocol: socks_v5\n  command: connect udpassociate\n  method: none\n}\n");
        long before = udpLinesWithTraffic();
        ProcessBuilder builder = new ProcessBuilder("socksify", "drill", "-p", String.valueOf(dnsPort), NAME,
                "@127.0.0.1").redirectErrorStream(true).redirectOutput(work.resolve("drill.out").toFile());
        builder.environment().put("SOCKS_CONF", conf.toString());
        builder.environment().put("SOCKS_AUTOADD_LANROUTES", "no");
        Process drill = builder.start();
        assertThat(drill.waitFor(30, TimeUnit.SECONDS)).as("drill finished").isTrue();
        String output = Files.readString(work.resolve("drill.out"));
        assertThat(drill.exitValue()).as(output).isZero();
        assertThat(output).contains(NAME + ".").contains("10.1.2.3");
        Await.until("the gateway logged the association with its traffic", Duration.ofSeconds(10),
                () -> {
                    try {
                        return udpLinesWithTraffic() > before;
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    @Test
    void dnsThroughTheLocalGatewayDirect() throws Exception {
        GatewayProcess local = GatewayProcess.startLocal(Files.createDirectories(work.resolve("direct")));
        gateways.add(local);
        resolvesThroughTheTestClient(local.address("mixed"));
        resolvesThroughSocksify(local.address("mixed"));
    }

    @Test
    void dnsOverTheLinkResolvedByTheRemote() throws Exception {
        Path remoteData = Files.createDirectories(work.resolve("remote-data"));
        Path config = work.resolve("chain.yaml");
        Files.writeString(config, "passwordIterations: 4096\n");
        assertThat(new UserCli(work, remoteData, config).run("s3cret\n", "add", "alice", "--password-stdin"))
                .isZero();
        GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + remoteData, "--config=" + config,
                "--allow-destination=127.0.0.1/32");
        gateways.add(remote);
        remote.awaitListening();
        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + work.resolve("local-data"),
                "--remote=127.0.0.1:" + remote.address("link").getPort(), "--user=alice", remote.fingerprintFlag());
        builder.environment().put("GATEWAY_PASSWORD", "s3cret");
        GatewayProcess local = GatewayProcess.start(builder, work);
        gateways.add(0, local);
        local.awaitListening();
        resolvesThroughTheTestClient(local.address("mixed"));
        resolvesThroughSocksify(local.address("mixed"));
    }
}
