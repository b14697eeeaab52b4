package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The REST API over real HTTP against a running remote gateway: every endpoint and every error path. */
@Timeout(60)
class RestApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();


    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void usersAreCreatedReadListedUpdatedAndDeletedWithoutSecrets() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        HttpResponse<String> created = console.send("POST", "/api/users",
                "{\"name\":\"alice\",\"password\":\"s3cret-pw\",\"rate\":\"1MiB\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(json(created).get("rate").asLong()).isEqualTo(1 << 20);
        assertThat(json(created).get("enabled").asBoolean()).isTrue();

        assertThat(console.send("POST", "/api/users", "{\"name\":\"bob\",\"password\":\"pw\",\"rate\":2048}")
                .statusCode()).isEqualTo(201);
        HttpResponse<String> list = console.send("GET", "/api/users", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(json(list)).hasSize(2);
        assertThat(list.body()).doesNotContain("s3cret", "password", "salt", "storedKey", "serverKey", "credential");

        HttpResponse<String> one = console.send("GET", "/api/users/bob", null);
        assertThat(json(one).get("rate").asLong()).isEqualTo(2048);
        assertThat(one.body()).doesNotContain("pw\"");

        HttpResponse<String> updated = console.send("PUT", "/api/users/bob",
                "{\"rate\":\"64KiB\",\"enabled\":false,\"password\":\"new-pw\"}");
        assertThat(updated.statusCode()).isEqualTo(200);
        assertThat(json(updated).get("rate").asLong()).isEqualTo(64 * 1024);
        assertThat(json(updated).get("enabled").asBoolean()).isFalse();
        assertThat(console.accounts.find("bob").orElseThrow().credential().verifies("new-pw".getBytes())).isTrue();

        assertThat(console.send("DELETE", "/api/users/bob", null).statusCode()).isEqualTo(204);
        assertThat(console.send("GET", "/api/users/bob", null).statusCode()).isEqualTo(404);
        assertThat(console.send("DELETE", "/api/users/bob", null).statusCode()).isEqualTo(404);
        assertThat(console.send("PUT", "/api/users/bob", "{\"rate\":1}").statusCode()).isEqualTo(404);
        assertThat(json(console.send("GET", "/api/users", null))).hasSize(1);
    }

    @Test
    void expiryQuotaCapAndDirectionalRatesAreSetReadAndClearedWithTheQuotaUseShown() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        HttpResponse<String> created = console.send("POST", "/api/users", "{\"name\":\"erin\",\"password\":\"pw\","
                + "\"rateUp\":\"1MiB\",\"rateDown\":4096,\"maxConnections\":3,\"expires\":\"2099-01-31\","
                + "\"quota\":\"50GiB/month\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode erin = json(created);
        assertThat(erin.get("rateUp").asLong()).isEqualTo(1 << 20);
        assertThat(erin.get("rateDown").asLong()).isEqualTo(4096);
        assertThat(erin.get("maxConnections").asInt()).isEqualTo(3);
        assertThat(erin.get("expires").asText()).isEqualTo("2099-02-01T00:00:00Z");
        assertThat(erin.get("expired").asBoolean()).isFalse();
        assertThat(erin.get("quota").asText()).isEqualTo("50GiB/month");
        assertThat(erin.get("quotaUsed").asLong()).isZero();
        assertThat(erin.get("quotaRemaining").asLong()).isEqualTo(50L << 30);
        assertThat(erin.get("quotaPeriodEnd").asText()).endsWith("-01T00:00:00Z");

        console.accounts.addTraffic(java.time.LocalDate.now(java.time.ZoneOffset.UTC),
                java.util.Map.of("erin", new long[] {1000, 2000}));
        JsonNode used = json(console.send("GET", "/api/users/erin", null));
        assertThat(used.get("quotaUsed").asLong()).isEqualTo(3000);
        assertThat(used.get("quotaRemaining").asLong()).isEqualTo((50L << 30) - 3000);

        JsonNode cleared = json(console.send("PUT", "/api/users/erin", "{\"expires\":\"never\",\"quota\":null,"
                + "\"maxConnections\":0,\"rateUp\":0}"));
        assertThat(cleared.get("expires").isNull()).isTrue();
        assertThat(cleared.get("quota").isNull()).isTrue();
        assertThat(cleared.has("quotaUsed")).isFalse();
        assertThat(cleared.get("maxConnections").asInt()).isZero();
        assertThat(cleared.get("rateDown").asLong()).as("untouched").isEqualTo(4096);

        JsonNode expired = json(console.send("PUT", "/api/users/erin", "{\"expires\":\"2020-01-01T00:00:00Z\"}"));
        assertThat(expired.get("expired").asBoolean()).isTrue();
        HttpResponse<String> bad = console.send("PUT", "/api/users/erin", "{\"quota\":\"10GiB/fortnight\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).get("error").asText()).startsWith("quota: expected");
        assertThat(console.accounts.find("erin").orElseThrow().limits().quota().limited()).as("nothing changed")
                .isFalse();
    }

    @Test
    void aUsersQuotaIsInTheMetricsOnceTheyHaveLoggedIn() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        assertThat(console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\","
                + "\"quota\":\"1GiB/day\"}").statusCode()).isEqualTo(201);
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Socket tunnel = closer.track(console.tunnel("alice", "pw", echo.port()));
        tunnel.getOutputStream().write(new byte[1000]);
        tunnel.getInputStream().readNBytes(1000);
        Await.until("the quota's use in the metrics", Duration.ofSeconds(5), () -> {
            String metrics;
            try {
                metrics = console.send("GET", "/metrics", null).body();
            } catch (Exception e) {
                return false;
            }
            return metrics.contains("relaygate_user_quota_bytes{user=\"alice\"} 1073741824")
                    && metrics.contains("relaygate_user_quota_used_bytes{user=\"alice\"} 2000")
                    && metrics.contains("relaygate_user_quota_remaining_bytes{user=\"alice\"} " + ((1L << 30) - 2000));
        });
    }

    @Test
    void badInputGetsAClear400Or409Or413AndNever500() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        assertThat(console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\"}").statusCode())
                .isEqualTo(201);
        String[][] cases = {
            {"{\"name\":\"alice\",\"password\":\"pw\"}", "409", "exists"},
            {"{\"name\":\"../x\",\"password\":\"pw\"}", "400", "user name"},
            {"{\"name\":\"a' OR '1'='1\",\"password\":\"pw\"}", "400", "user name"},
            {"{\"name\":\"\",\"password\":\"pw\"}", "400", "user name"},
            {"{\"name\":\"carol\",\"password\":\"\"}", "400", "password"},
            {"{\"name\":\"carol\"}", "400", "password"},
            {"{\"name\":\"carol\",\"password\":\"" + "x".repeat(1025) + "\"}", "400", "password"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"rate\":\"fast\"}", "400", "rate"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"rate\":-5}", "400", "rate"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"rate\":1.5}", "400", "rate"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"enabled\":\"yes\"}", "400", "enabled"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"rateUp\":\"fast\"}", "400", "rateUp: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"rateDown\":-1}", "400", "rateDown: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"maxConnections\":-1}", "400", "maxConnections: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"maxConnections\":99999999999}", "400", "maxConnections"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"maxConnections\":\"3\"}", "400", "maxConnections"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"expires\":\"yesterday-ish\"}", "400", "expires: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"expires\":20270131}", "400", "expires: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"quota\":\"5/fortnight\"}", "400", "quota: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"quota\":5}", "400", "quota: expected"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"admin\":true}", "400", "unknown field"},
            {"{\"name\":7,\"password\":\"pw\"}", "400", "name"},
            {"[1,2]", "400", "JSON object"},
            {"{not json", "400", "JSON object"},
            {"", "400", "JSON object"},
            // A lenient parser would store "?" for the surrogate, let the last key win, and ignore the rest.
            {"{\"name\":\"carol\",\"password\":\"\\ud800\"}", "400", "unpaired surrogate"},
            {"{\"name\":\"carol\",\"password\":\"a\\udc00b\"}", "400", "password: an unpaired surrogate"},
            {"{\"name\":\"carol\",\"password\":\"pw\",\"password\":\"other\"}", "400", "Duplicate field"},
            {"{\"name\":\"carol\",\"password\":\"pw\"} {\"rate\":1}", "400", "Trailing token"},
            {"{\"name\":\"carol\",\"password\":\"pw\"}x", "400", "JSON object"},
        };
        for (String[] c : cases) {
            HttpResponse<String> response = console.send("POST", "/api/users", c[0]);
            assertThat(response.statusCode()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
            assertThat(json(response).get("error").asText()).as(c[0]).contains(c[2]);
        }
        assertThat(console.send("PUT", "/api/users/alice", "{}").statusCode()).isEqualTo(400);
        assertThat(console.send("GET", "/api/users/a'%20OR%20'1'='1", null).statusCode()).isEqualTo(400);
        // 10 MiB announced: refused by its size before any of it is read. Only the head is sent, so that the refusal
        // and the close cannot meet unsent body bytes and come back as a reset.
        try (Socket huge = new Socket("127.0.0.1", java.net.URI.create(console.base()).getPort())) {
            huge.setSoTimeout(10_000);
            huge.getOutputStream().write(("POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + ConsoleFixture.TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: " + (10 << 20)
                    + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String head = new String(huge.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 413");
        }
        assertThat(console.send("GET", "/api/users", null).statusCode()).as("still serving").isEqualTo(200);
        assertThat(console.accounts.find("carol")).isEmpty();
        assertThat(console.send("POST", "/api/users", "{\"name\":\"dave\",\"password\":\"p\\ud83d\\ude00w\"}")
                .statusCode()).as("a surrogate pair is a real character").isEqualTo(201);
    }

    @Test
    void randomAndTruncatedBodiesNeverGetA500() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        String valid = "{\"name\":\"u\",\"password\":\"pw\",\"rate\":\"1MiB\",\"enabled\":true}";
        java.util.Random random = new java.util.Random(42);
        String[] paths = {"/api/users", "/api/users/u", "/api/proxy/settings"};
        String[] methods = {"POST", "PUT", "PUT"};
        for (int i = 0; i < 600; i++) {
            StringBuilder body = new StringBuilder(valid.substring(0, random.nextInt(valid.length() + 1)));
            for (int flips = random.nextInt(4); flips > 0 && body.length() > 0; flips--) {
                body.setCharAt(random.nextInt(body.length()), (char) random.nextInt(0x3000));
            }
            if (random.nextInt(10) == 0) {
                body.insert(0, "[".repeat(2000));       // deep nesting
            }
            int route = random.nextInt(paths.length);
            HttpResponse<String> response = console.send(methods[route], paths[route], body.toString());
            assertThat(response.statusCode()).as("%s %s", paths[route], body).isIn(200, 201, 400, 404, 409, 413);
            assertThat(json(response).has("error") || response.statusCode() < 300).isTrue();
        }
        assertThat(console.send("GET", "/api/users", null).statusCode()).isEqualTo(200);

        ConsoleFixture local = closer.track(ConsoleFixture.local(data.resolve("local")));
        String settings = "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":7080,\"user\":\"u\",\"password\":\"pw\"}";
        for (int i = 0; i < 300; i++) {
            StringBuilder body = new StringBuilder(settings.substring(0, random.nextInt(settings.length() + 1)));
            for (int flips = random.nextInt(4); flips > 0 && body.length() > 0; flips--) {
                body.setCharAt(random.nextInt(body.length()), (char) random.nextInt(0x3000));
            }
            HttpResponse<String> response = local.send("PUT", "/api/proxy/settings", body.toString());
            assertThat(response.statusCode()).as("settings %s", body).isIn(200, 400);
        }
        assertThat(local.send("GET", "/api/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    void everyAdminRouteWantsTheToken() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        String[][] routes = {{"GET", "/api/users"}, {"GET", "/api/users/alice"}, {"POST", "/api/users"},
            {"PUT", "/api/users/alice"}, {"DELETE", "/api/users/alice"}, {"GET", "/api/status"},
            {"POST", "/api/proxy/start"}, {"POST", "/api/proxy/stop"}, {"PUT", "/api/proxy/settings"},
            {"POST", "/api/ws-ticket"}, {"GET", "/metrics"}, {"GET", "/api/tunnels"},
            {"DELETE", "/api/tunnels/alice/web"}};
        for (String[] route : routes) {
            String body = route[0].equals("GET") || route[0].equals("DELETE") ? null : "{}";
            assertThat(console.send(route[0], route[1], body, null).statusCode()).as("no token " + route[1])
                    .isEqualTo(401);
            assertThat(console.send(route[0], route[1], body, ConsoleFixture.TOKEN + "x").statusCode())
                    .as("wrong token " + route[1]).isEqualTo(401);
        }
        assertThat(console.send("GET", "/api/openapi.json", null, null).statusCode()).isEqualTo(200);
        assertThat(json(console.send("GET", "/api/openapi.json", null, null)).get("openapi").asText())
                .startsWith("3.");
        HttpResponse<String> page = console.send("GET", "/", null, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>Relaygate console</title>");
        assertThat(page.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void theTokenIsGeneratedOnFirstStartKeptPrivateAndReused() throws Exception {
        Path dataDir = data.resolve("generated");
        String token;
        try (ConsoleFixture console = ConsoleFixture.local(dataDir, "plugins.console.token", "ignored-0123456789")) {
            assertThat(dataDir.resolve("admin.token")).doesNotExist();
        }
        try (ConsoleFixture console = ConsoleFixture.localWithoutToken(dataDir)) {
            Path file = dataDir.resolve("admin.token");
            assertThat(file).exists();
            assertThat(Files.getPosixFilePermissions(file)).containsExactlyInAnyOrder(
                    java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                    java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
            token = Files.readString(file).trim();
            assertThat(token).hasSizeGreaterThanOrEqualTo(32);
            assertThat(console.send("GET", "/api/status", null, token).statusCode()).isEqualTo(200);
        }
        try (ConsoleFixture console = ConsoleFixture.localWithoutToken(dataDir)) {
            assertThat(console.send("GET", "/api/status", null, token).statusCode()).as("same token").isEqualTo(200);
        }
    }

    @Test
    void aRateChangedOverRestReachesALiveTransferWithinASecondAndDisablingClosesIt() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        assertThat(console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\",\"rate\":\"64KiB\"}")
                .statusCode()).isEqualTo(201);
        TestOrigin origin = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
        Socket tunnel = closer.track(console.tunnel("alice", "pw", origin.port()));
        AtomicLong received = new AtomicLong();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[32 * 1024];
            try {
                InputStream in = tunnel.getInputStream();
                for (int n; (n = in.read(buffer)) > 0; ) {
                    received.addAndGet(n);
                }
            } catch (java.io.IOException e) {
                // closed
            }
        });
        reader.setDaemon(true);
        reader.start();
        Await.until("the burst", Duration.ofSeconds(5), () -> received.get() >= 64 * 1024);
        long slowStart = received.get();
        long t0 = System.nanoTime();
        Await.until("one second at 64 KiB/s", Duration.ofSeconds(5), () -> System.nanoTime() - t0 >= 1_000_000_000L);
        long slow = received.get() - slowStart;
        assertThat(slow).as("64 KiB/s").isLessThan(160 * 1024);

        assertThat(console.send("PUT", "/api/users/alice", "{\"rate\":\"8MiB\"}").statusCode()).isEqualTo(200);
        long changed = System.nanoTime();
        long before = received.get();
        Await.until("the new rate", Duration.ofSeconds(1), () -> received.get() - before >= 1 << 20);
        assertThat(System.nanoTime() - changed).as("within a second").isLessThan(1_000_000_000L);

        assertThat(console.send("PUT", "/api/users/alice", "{\"enabled\":false}").statusCode()).isEqualTo(200);
        tunnel.setSoTimeout(2_000);
        Await.until("the tunnel closed", Duration.ofSeconds(2), () -> !reader.isAlive());
        assertThat(Sockets.awaitEnd(tunnel)).isNotEqualTo(Sockets.End.TIMEOUT);
    }

    @Test
    void deletingAUserClosesTheirLiveTunnelsAndRefusesNewOnes() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        assertThat(console.send("POST", "/api/users", "{\"name\":\"bob\",\"password\":\"pw\"}").statusCode())
                .isEqualTo(201);
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Socket tunnel = closer.track(console.tunnel("bob", "pw", echo.port()));
        tunnel.getOutputStream().write(new byte[10]);
        assertThat(tunnel.getInputStream().readNBytes(10)).hasSize(10);
        long start = System.nanoTime();
        assertThat(console.send("DELETE", "/api/users/bob", null).statusCode()).isEqualTo(204);
        tunnel.setSoTimeout(2_000);
        assertThat(Sockets.awaitEnd(tunnel)).isNotEqualTo(Sockets.End.TIMEOUT);
        assertThat(System.nanoTime() - start).as("closed within a second").isLessThan(1_000_000_000L);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> console.tunnel("bob", "pw", echo.port()))
                .hasMessageContaining("refused");
    }

    @Test
    void aUsersIdleLinksAreShownApartFromTheirTunnels() throws Exception {
        // The test's link client speaks the framing in the clear.
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data, "linkTls.mode", "off"));
        console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\"}");
        // Two authenticated links that carry nothing, as a local's warm pool holds them.
        closer.track(io.relaygate.testkit.LinkClient.login(console.gateway.address("link"), "alice", "pw"));
        closer.track(io.relaygate.testkit.LinkClient.login(console.gateway.address("link"), "alice", "pw"));
        Await.until("both links registered", Duration.ofSeconds(3),
                () -> console.gateway.sessions().links("alice") == 2);
        JsonNode alice = json(console.send("GET", "/api/users/alice", null));
        assertThat(alice.get("tunnels").asInt()).isZero();
        assertThat(alice.get("links").asInt()).isEqualTo(2);
        assertThat(alice.has("connections")).as("no figure that mixes both").isFalse();
        assertThat(console.send("GET", "/metrics", null).body())
                .contains("relaygate_user_tunnels{user=\"alice\"} 0")
                .contains("relaygate_user_idle_links{user=\"alice\"} 2");
    }

    @Test
    void theConsoleIsNeverATunnelsDestinationEvenWhenLoopbackIsAllowed() throws Exception {
        // The fixture's remote allows 127.0.0.1/32, where its console listens too.
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\"}");
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        console.tunnel("alice", "pw", echo.port()).close();
        int consolePort = java.net.URI.create(console.base()).getPort();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> console.tunnel("alice", "pw", consolePort))
                .hasMessageContaining("tunnel refused");
        assertThat(console.gateway.stats().tunnelFailures()).containsKey("NOT_ALLOWED");
    }

    @Test
    void metricsKeepABoundedSetOfLabelValuesWhateverClientsSend() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        java.util.Random random = new java.util.Random(9);
        InetSocketAddress direct = console.gateway.address("direct");
        for (int i = 0; i < 300; i++) {
            byte[] garbage = new byte[1 + random.nextInt(40)];
            random.nextBytes(garbage);
            if (i % 2 == 0) {
                garbage[0] = 5;     // past detection, into the SOCKS5 parser
            }
            try (Socket socket = new Socket(direct.getAddress(), direct.getPort())) {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(garbage);
                socket.shutdownOutput();
                socket.getInputStream().readAllBytes();
            } catch (java.io.IOException reset) {
                // a reset is one of the answers to garbage
            }
        }
        Await.until("all counted", Duration.ofSeconds(5), () -> console.gateway.stats().openConnections() == 0);
        long series = console.send("GET", "/metrics", null).body().lines()
                .filter(line -> line.startsWith("relaygate_handshake_failures_total{")).count();
        assertThat(series).isBetween(1L, 65L);
    }

    @Test
    void statusAndMetricsReportTheGateway() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        JsonNode status = json(console.send("GET", "/api/status", null));
        assertThat(status.get("role").asText()).isEqualTo("remote");
        assertThat(status.get("listeners").get("link").asText()).startsWith("127.0.0.1:");
        assertThat(status.has("openConnections")).isTrue();
        assertThat(console.send("POST", "/api/proxy/stop", null).statusCode()).as("remote has no proxy")
                .isEqualTo(409);

        console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\",\"rate\":4096}");
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        try (Socket tunnel = console.tunnel("alice", "pw", echo.port())) {
            tunnel.getOutputStream().write(new byte[1000]);
            tunnel.getInputStream().readNBytes(1000);
        }
        try (Socket refused = new Socket("127.0.0.1", console.gateway.address("direct").getPort())) {
            refused.getOutputStream().write(new byte[] {5, 1, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 5, 'w', 'r', 'o', 'n',
                'g'});
            refused.setSoTimeout(5_000);
            refused.getInputStream().readNBytes(4);
        }
        Await.until("counted", Duration.ofSeconds(3), () -> console.gateway.stats().openTunnels() == 0);
        HttpResponse<String> metrics = console.send("GET", "/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(metrics.body())
                .contains("# TYPE relaygate_connections_open gauge")
                .contains("relaygate_tunnels_total 1")
                .contains("relaygate_bytes_total{direction=\"up\"} 1000")
                .contains("relaygate_user_bytes_total{user=\"alice\",direction=\"down\"} 1000")
                .contains("relaygate_user_rate_limit_bytes{user=\"alice\"} 4096")
                .containsPattern("relaygate_auth_failures_total [1-9]")
                .contains("relaygate_ratelimit_parked_seconds_total{user=\"alice\"}");
    }

    @Test
    void tunnelsAreListedOnBothRolesWithTheReasonOfARefusalAndClosedOnlyOnTheRemote() throws Exception {
        int publicPort = Sockets.freeListenPorts(1).get(0);
        ConsoleFixture remote = closer.track(ConsoleFixture.remote(data.resolve("remote"), "reverse.bind",
                "127.0.0.1", "reverse.ports", String.valueOf(publicPort)));
        remote.accounts.put("alice", "pw-alice", true);
        ConsoleFixture local = closer.track(ConsoleFixture.localWithPassword(data.resolve("local"), "pw-alice", "remote",
                "127.0.0.1:" + remote.gateway.address("link").getPort(), "user", "alice",
                "remoteFingerprint", remote.gateway.linkFingerprint(), "expose.0.name", "web", "expose.0.target",
                "127.0.0.1:9"));
        ObjectMapper json = new ObjectMapper();
        java.util.function.BiFunction<ConsoleFixture, String, JsonNode> get = (console, path) -> {
            try {
                return json.readTree(console.send("GET", path, null).body());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        // alice may expose nothing yet: the local shows why.
        Await.until("the refusal shows", Duration.ofSeconds(10), () -> {
            JsonNode list = get.apply(local, "/api/tunnels");
            return list.size() == 1 && list.get(0).path("state").asText().equals("refused");
        });
        JsonNode refused = json.readTree(local.send("GET", "/api/tunnels", null).body()).get(0);
        assertThat(refused.path("name").asText()).isEqualTo("web");
        assertThat(refused.path("target").asText()).isEqualTo("127.0.0.1:9");
        assertThat(refused.path("reason").asText()).isEqualTo("this user may not expose ports");
        assertThat(json.readTree(remote.send("GET", "/api/tunnels", null).body())).isEmpty();

        // Allowed one port through the API, alice's local (asking again on a new link) gets it.
        assertThat(remote.send("PUT", "/api/users/alice", "{\"exposePorts\":1}").statusCode()).isEqualTo(200);
        assertThat(json.readTree(remote.send("GET", "/api/users/alice", null).body()).path("exposePorts").asInt())
                .isEqualTo(1);
        local.gateway.close();
        ConsoleFixture again = closer.track(ConsoleFixture.localWithPassword(data.resolve("local2"), "pw-alice", "remote",
                "127.0.0.1:" + remote.gateway.address("link").getPort(), "user", "alice",
                "remoteFingerprint", remote.gateway.linkFingerprint(), "expose.0.name", "web", "expose.0.target",
                "127.0.0.1:9"));
        Await.until("the remote lists it", Duration.ofSeconds(10), () -> {
            JsonNode list = get.apply(remote, "/api/tunnels");
            return list.size() == 1 && list.get(0).path("state").asText().equals("active");
        });
        JsonNode active = json.readTree(remote.send("GET", "/api/tunnels", null).body()).get(0);
        assertThat(active.path("user").asText()).isEqualTo("alice");
        assertThat(active.path("publicPort").asInt()).isEqualTo(publicPort);
        assertThat(active.path("target").isNull()).as("only the local knows its target").isTrue();
        assertThat(remote.send("GET", "/metrics", null).body())
                .contains("relaygate_exposed_service_up{user=\"alice\",service=\"web\"} 1");

        assertThat(again.send("DELETE", "/api/tunnels/alice/web", null).statusCode()).as("a local closes nothing")
                .isEqualTo(404);
        assertThat(remote.send("DELETE", "/api/tunnels/alice/a%2Fb", null).statusCode()).isEqualTo(400);
        assertThat(remote.send("DELETE", "/api/tunnels/alice/nope", null).statusCode()).isEqualTo(404);
        assertThat(remote.send("DELETE", "/api/tunnels/alice/web", null).statusCode()).isEqualTo(204);
        assertThat(json.readTree(remote.send("GET", "/api/tunnels", null).body())).isEmpty();
        Await.until("the local is told", Duration.ofSeconds(5), () -> get.apply(again, "/api/tunnels").get(0)
                .path("reason").asText().equals("closed by the remote"));
    }
}
