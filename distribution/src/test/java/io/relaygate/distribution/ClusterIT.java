package io.relaygate.distribution;

import static io.relaygate.testkit.Rates.measure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.relaygate.ratelimitredis.RedisServer;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestServices;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two built remotes behind Debian's HAProxy ({@code send-proxy-v2}, health checks), sharing their accounts in the
 * machine's PostgreSQL (a schema of this test's own) and their limits in a Redis of this test's own, and one local
 * whose two links land one on each: one user's sixteen downloads hold one rate in total, a rate raised by REST on one
 * remote holds on both within a second, Redis killed and restarted loses no tunnel, a disable on one remote ends the
 * tunnels on both, and after kill -9 of a remote the local's tunnels go through the other. Failsafe runs it beside
 * {@link RateIT}, last, so that its ±5 % bounds measure the limiter and not a busy machine.
 */
@Timeout(240)
@Order(Integer.MAX_VALUE)
class ClusterIT {

    private static final String URL = TestServices.postgresUrl();
    private static final String USER = TestServices.postgresUser();
    private static final String TOKEN = "cluster-it-admin-token-0123456789";
    private static final long MIB = 1L << 20;
    private static final int DOWNLOADS = 16;

    @TempDir
    Path work;
    private final String schema = "relaygate_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        try (Connection c = DriverManager.getConnection(URL, USER, null); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    private GatewayProcess remote(Path config, String name) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--config=" + config, "--data-dir=" + work.resolve(name));
        builder.environment().put("JAVA_OPTS", "-Drelaygate.logs=" + work.resolve(name + "-logs"));
        GatewayProcess remote = GatewayProcess.start(builder, work);
        closing.add(0, remote);
        remote.awaitListener("console");
        return remote;
    }

    /** Makes the link certificate both remotes present, as an operator would; {@return its fingerprint flag} */
    private String linkCertificate(Path dir) throws Exception {
        Process process = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(), "link",
                "fingerprint", "--data-dir=" + dir).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).startsWith("sha256:");
        return "--remote-fingerprint=" + out;
    }

    private HttpResponse<String> api(GatewayProcess remote, String method, String path, String json)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + remote.address("console").getPort() + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN);
        if (json != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@return alice's live tunnels on {@code remote}, from its metrics} */
    private long tunnels(GatewayProcess remote) {
        try {
            Matcher m = Pattern.compile("relaygate_user_tunnels\\{user=\"alice\"} (\\d+)")
                    .matcher(api(remote, "GET", "/metrics", null).body());
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        } catch (Exception e) {
            return -1;
        }
    }

    private boolean fetches(String proxy, String url) {
        try {
            return Curl.run(work, "--max-time", "3", "--socks5-hostname", proxy, url).exit() == 0;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }


    @Test
    void twoRemotesBehindHaproxyHoldOneUserToOneRateAndOneAccount() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, USER, null); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        RedisServer redis = new RedisServer(work).start();
        closing.add(0, redis);
        Path cert = work.resolve("cert");
        String fingerprint = linkCertificate(cert);
        Path config = work.resolve("remote.yaml");
        Files.writeString(config, String.join("\n", "role: remote", "listen: 127.0.0.1:0", "console: 127.0.0.1:0",
                "passwordIterations: 4096", "trustedProxies: [127.0.0.1/32]", "allowDestination: [127.0.0.1/32]",
                "linkTls:", "  certificate: " + cert.resolve("link-cert.pem"), "  key: " + cert.resolve("link-key.pem"),
                "accountStore: postgres", "rateLimiter: redis", "plugins:",
                "  postgres:", "    url: " + URL + "?currentSchema=" + schema, "    user: " + USER,
                "  redis:", "    url: " + redis.url(), "  console:", "    token: " + TOKEN, ""));
        assertThat(new UserCli(work, work.resolve("cli-data"), config).run("s3cret\n", "add", "alice",
                "--password-stdin", "--rate=1MiB")).isZero();
        GatewayProcess first = remote(config, "first");
        GatewayProcess second = remote(config, "second");

        int front = Sockets.freeListenPorts(1).get(0);
        closing.add(0, new Haproxy(work, List.of(
                "global", "    maxconn 256",
                "defaults", "    mode tcp", "    timeout connect 2s", "    timeout client 120s",
                "    timeout server 120s", "    retries 2", "    option redispatch",
                "frontend link", "    bind 127.0.0.1:" + front, "    default_backend remotes",
                "backend remotes", "    balance roundrobin",
                "    server first 127.0.0.1:" + first.address("link").getPort()
                        + " send-proxy-v2 check check-send-proxy inter 500ms fall 1 rise 1",
                "    server second 127.0.0.1:" + second.address("link").getPort()
                        + " send-proxy-v2 check check-send-proxy inter 500ms fall 1 rise 1"), front));

        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + work.resolve("local-data"),
                "--remote=127.0.0.1:" + front, "--user=alice", fingerprint);
        builder.environment().put("GATEWAY_PASSWORD", "s3cret");
        GatewayProcess local = GatewayProcess.start(builder, work);
        closing.add(0, local);
        local.awaitListening();
        String proxy = "127.0.0.1:" + local.address("mixed").getPort();

        HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress());
        closing.add(0, origin);
        List<Download> downloads = new ArrayList<>();
        for (int i = 0; i < DOWNLOADS; i++) {
            Download download = new Download(proxy, i % 2 == 0 ? "socks5h" : "http", origin, 1L << 30);
            closing.add(0, download);
            downloads.add(download);
        }
        LongSupplier total = () -> downloads.stream().mapToLong(Download::received).sum();
        Await.until("alice's tunnels on both remotes", Duration.ofSeconds(20),
                () -> tunnels(first) > 0 && tunnels(second) > 0 && tunnels(first) + tunnels(second) == DOWNLOADS);

        // One rate over both remotes.
        measure(total, 2);
        assertThat(measure(total, 5)).as("16 downloads over two remotes").isCloseTo(MIB, within(MIB * 0.05));

        // Raised by REST on one remote: both follow within a second (the account feed, then each remote's leases).
        HttpResponse<String> raised = api(first, "PUT", "/api/users/alice", "{\"rate\":\"2MiB\"}");
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        measure(total, 1);
        assertThat(measure(total, 4)).as("raised on both").isCloseTo(2 * MIB, within(2 * MIB * 0.05));

        // Redis killed: each remote keeps half the rate; restarted (empty): one rate again. No tunnel is lost.
        redis.kill();
        measure(total, 1.5);
        assertThat(measure(total, 3)).as("each remote at its share").isCloseTo(2 * MIB, within(2 * MIB * 0.1));
        redis.start();
        Await.until("both remotes back on Redis", Duration.ofSeconds(10), () ->
                first.stderr().contains("answers again") && second.stderr().contains("answers again"));
        measure(total, 2);
        assertThat(measure(total, 4)).as("one rate again").isCloseTo(2 * MIB, within(2 * MIB * 0.05));
        assertThat(downloads).as("no tunnel lost").allMatch(Download::running);

        // Disabled through one remote: every tunnel on both ends within a second.
        HttpResponse<String> disabled = api(second, "PUT", "/api/users/alice", "{\"enabled\":false}");
        assertThat(disabled.statusCode()).as(disabled.body()).isEqualTo(200);
        long disabledAt = System.nanoTime();
        Await.until("every download ended", Duration.ofSeconds(5),
                () -> downloads.stream().noneMatch(Download::running));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disabledAt)).as("within a second")
                .isLessThan(1_500);

        // kill -9 of one remote: the local's new tunnels go through the other within 5 s.
        assertThat(api(second, "PUT", "/api/users/alice", "{\"enabled\":true}").statusCode()).isEqualTo(200);
        String url = "http://127.0.0.1:" + origin.port() + "/bytes/100000";
        Await.until("alice enabled again", Duration.ofSeconds(10), () -> fetches(proxy, url));
        first.kill9();
        long killedAt = System.nanoTime();
        Await.until("a tunnel through the remote left", Duration.ofSeconds(10), () -> fetches(proxy, url));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt)).as("within 5 s").isLessThan(5_000);
        Curl.Result after = Curl.run(work, "--socks5-hostname", proxy, url);
        assertThat(after.exit()).as(after.stderr()).isZero();
        assertThat(after.size()).isEqualTo(100_000);
    }
}
