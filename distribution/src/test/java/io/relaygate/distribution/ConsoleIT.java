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

    private static final String PIN = "sha256:" + "ab".repeat(32);

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
            java.util.concurrent.CompletableFuture<CharSequence> first = new java.util.concurrent.CompletableFuture<>();
            java.net.http.WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .header("Origin", base).header("Authorization", "Bearer " + token)
                    .buildAsync(URI.create(base.replace("http:", "ws:") + "/ws/stats"),
                            new java.net.http.WebSocket.Listener() {
                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws,
                                                                                       CharSequence data, boolean last) {
                                    first.complete(data);
                                    return null;
                                }
                            }).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(first.get(10, java.util.concurrent.TimeUnit.SECONDS).toString()).contains("\"role\":\"remote\"");
            socket.abort();
            // The web framework finds the host's logging backend: no advice about missing loggers on stderr.
            assertThat(remote.stderr()).doesNotContain("javalin.io/documentation#logging");
        }
        try (GatewayProcess again = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                "--listen=127.0.0.1:0", "--console=127.0.0.1:0", "--data-dir=" + data)) {
            again.awaitListening();
            again.awaitListener("console");
            assertThat(again.stdout()).noneMatch(line -> line.startsWith("console admin token"));
        }
    }

    private static HttpResponse<String> put(String url, String token, String json) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void settingsSavedByTheLocalsConsoleAreUsedAtTheNextStartBelowTheFlags() throws Exception {
        Path data = work.resolve("local-data");
        String[] args = {"--listen=127.0.0.1:0", "--console=127.0.0.1:0", "--data-dir=" + data};
        try (GatewayProcess local = GatewayProcess.start(GatewayProcess.HOME, work, args)) {
            local.awaitListener("console");
            String token = Files.readString(data.resolve("admin.token")).trim();
            String settings = "http://127.0.0.1:" + local.address("console").getPort() + "/api/proxy/settings";
            HttpResponse<String> untrusted = put(settings, token,
                    "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":7999,\"user\":\"alice\",\"password\":\"pw-a\"}");
            assertThat(untrusted.statusCode()).as("a remote without a way to trust it").isEqualTo(400);
            assertThat(untrusted.body()).contains("remoteFingerprint: required with a remote");
            HttpResponse<String> saved = put(settings, token,
                    "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":7999,\"user\":\"alice\",\"password\":\"pw-a\","
                    + "\"remoteFingerprint\":\"" + PIN + "\"}");
            assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
            assertThat(saved.body()).contains("\"remoteFingerprint\":\"" + PIN + "\"");
        }
        assertThat(Files.readString(data.resolve("console-settings.yaml"))).contains("127.0.0.1:7999", "alice");
        try (GatewayProcess again = GatewayProcess.start(GatewayProcess.HOME, work, args)) {
            again.awaitListener("console");
            Await.until("the start-up log", Duration.ofSeconds(10), () -> again.stderr().contains("gateway started"));
            assertThat(again.stderr()).contains("remote 127.0.0.1:7999 as alice").doesNotContain("pw-a");
            assertThat(again.stderr()).as("says which saved settings apply, and from where")
                    .contains("applying settings saved by the console in " + data.resolve("console-settings.yaml")
                            + ": remote 127.0.0.1:7999, user alice, remote fingerprint " + PIN + ", the link password");
        }
        String[] withFlag = {"--listen=127.0.0.1:0", "--console=127.0.0.1:0", "--data-dir=" + data,
            "--remote=127.0.0.1:7998", "--user=bob", "--remote-fingerprint=first-use"};
        ProcessBuilder builder = new ProcessBuilder(java.util.stream.Stream.concat(
                java.util.stream.Stream.of(GatewayProcess.HOME.resolve("bin/gateway").toString()),
                java.util.stream.Stream.of(withFlag)).toList());
        builder.environment().put("GATEWAY_PASSWORD", "pw-b");
        try (GatewayProcess flagged = GatewayProcess.start(builder, work)) {
            flagged.awaitListener("console");
            Await.until("the start-up log", Duration.ofSeconds(10),
                    () -> flagged.stderr().contains("gateway started"));
            assertThat(flagged.stderr()).as("flags win").contains("remote 127.0.0.1:7998 as bob")
                    .doesNotContain("applying settings saved by the console");
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
