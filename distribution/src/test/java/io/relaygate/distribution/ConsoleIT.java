package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.relaygate.testkit.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The console as the distribution ships it: loaded from plugins/console-web in its own class loader. */
@Timeout(120)
class ConsoleIT {

    @TempDir
    Path work;

    private static HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theRemotesConsoleServesWithATokenMadeOnFirstStartAndShownOnce() throws Exception {
        Path data = work.resolve("data");
        try (GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:0", "--console=127.0.0.1:0", "--data-dir=" + data)) {
            remote.awaitListening();
            remote.awaitListener("console");
            String base = "http://127.0.0.1:" + remote.address("console").getPort();
            String token = Files.readString(data.resolve("admin.token")).trim();
            assertThat(remote.stdout()).anyMatch(line -> line.startsWith("console admin token") && line.endsWith(token));
            assertThat(remote.stderr()).doesNotContain(token);

            assertThat(get(base + "/api/users", null).statusCode()).isEqualTo(401);
            HttpResponse<String> users = get(base + "/api/users", token);
            assertThat(users.statusCode()).isEqualTo(200);
            assertThat(users.body()).isEqualTo("[]");
            assertThat(get(base + "/", null).body()).contains("Relaygate console");
            assertThat(get(base + "/metrics", token).body()).contains("relaygate_connections_open 0");
        }
        try (GatewayProcess again = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:0", "--console=127.0.0.1:0", "--data-dir=" + data)) {
            again.awaitListening();
            again.awaitListener("console");
            assertThat(again.stdout()).noneMatch(line -> line.startsWith("console admin token"));
        }
    }

    @Test
    void withoutTheConsolePluginTheGatewayRunsAndSaysSo() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Files.walk(GatewayProcess.HOME.resolve("plugins/socks5")).filter(Files::isRegularFile).forEach(jar -> {
            try {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (GatewayProcess local = GatewayProcess.start(GatewayProcess.HOME, work, "--listen=127.0.0.1:0",
                "--console=127.0.0.1:0", "--data-dir=" + work.resolve("data"), "--plugins-dir=" + plugins)) {
            local.awaitListening();
            Await.until("the start-up log", Duration.ofSeconds(10), () -> local.stderr().contains("gateway started"));
            assertThat(local.stdout()).noneMatch(line -> line.startsWith("listening console"));
            assertThat(local.stderr()).contains("no console plugin installed");
        }
    }
}
