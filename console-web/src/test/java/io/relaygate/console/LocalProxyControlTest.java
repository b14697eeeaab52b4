package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestOrigin;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The local role's console: the proxy listener stopped and started, the remote changed and saved, without restart. */
@Timeout(60)
class LocalProxyControlTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();


    private static void echoesThrough(InetSocketAddress proxy, TestOrigin echo) throws Exception {
        try (Socket tunnel = Socks5Client.connect(proxy, "127.0.0.1", echo.port())) {
            tunnel.getOutputStream().write("ping".getBytes());
            assertThat(new String(tunnel.getInputStream().readNBytes(4))).isEqualTo("ping");
        }
    }

    @Test
    void theProxyListenerStopsAndStartsOnTheSameAddress() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.local(data.resolve("local")));
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        InetSocketAddress proxy = console.gateway.address("mixed");
        JsonNode status = JSON.readTree(console.send("GET", "/api/status", null).body());
        assertThat(status.get("role").asText()).isEqualTo("local");
        assertThat(status.get("running").asBoolean()).isTrue();
        assertThat(status.get("settings").get("remoteHost").isNull()).isTrue();
        echoesThrough(proxy, echo);

        assertThat(JSON.readTree(console.send("POST", "/api/proxy/stop", null).body()).get("running").asBoolean())
                .isFalse();
        assertThatThrownBy(() -> new Socket(proxy.getAddress(), proxy.getPort()).close())
                .isInstanceOf(ConnectException.class);
        assertThat(JSON.readTree(console.send("GET", "/api/status", null).body()).get("running").asBoolean())
                .isFalse();
        assertThat(console.send("POST", "/api/proxy/stop", null).statusCode()).as("idempotent").isEqualTo(200);

        assertThat(JSON.readTree(console.send("POST", "/api/proxy/start", null).body()).get("running").asBoolean())
                .isTrue();
        assertThat(console.gateway.address("mixed")).isEqualTo(proxy);
        echoesThrough(proxy, echo);
    }

    @Test
    void newSettingsApplyToNewTunnelsAtOnceAndAreSavedPrivately() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        ConsoleFixture remote = closer.track(ConsoleFixture.remote(data.resolve("remote")));
        assertThat(remote.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw-alice\"}").statusCode())
                .isEqualTo(201);
        Path localData = data.resolve("local");
        ConsoleFixture local = closer.track(ConsoleFixture.local(localData));
        int linkPort = remote.gateway.address("link").getPort();

        String[][] bad = {
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":0,\"user\":\"alice\",\"password\":\"x\"}", "remotePort"},
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":\"7080\",\"user\":\"alice\",\"password\":\"x\"}",
                "remotePort"},
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":" + linkPort + ",\"user\":\"../x\",\"password\":\"x\"}",
                "user name"},
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":" + linkPort + ",\"user\":\"alice\"}", "password"},
            {"{\"remoteHost\":\"not a host\",\"remotePort\":" + linkPort + ",\"user\":\"alice\",\"password\":\"x\"}",
                "remoteHost"},
            {"{\"proxy\":1}", "unknown field"},
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":" + linkPort + ",\"user\":\"alice\",\"password\":\"x\"}",
                "remoteFingerprint: required with a remote"},
            {"{\"remoteHost\":\"127.0.0.1\",\"remotePort\":" + linkPort + ",\"user\":\"alice\",\"password\":\"x\","
                + "\"remoteFingerprint\":\"sha256:12\"}", "remoteFingerprint: expected sha256:"},
        };
        for (String[] c : bad) {
            var response = local.send("PUT", "/api/proxy/settings", c[0]);
            assertThat(response.statusCode()).as(c[0]).isEqualTo(400);
            assertThat(JSON.readTree(response.body()).get("error").asText()).as(c[0]).contains(c[1]);
        }
        assertThat(localData.resolve("console-settings.yaml")).doesNotExist();

        var applied = local.send("PUT", "/api/proxy/settings", "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":"
                + linkPort + ",\"user\":\"alice\",\"password\":\"pw-alice\",\"remoteFingerprint\":\""
                + remote.gateway.linkFingerprint() + "\"}");
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        assertThat(applied.body()).contains("\"remoteFingerprint\":\"" + remote.gateway.linkFingerprint() + "\"");
        assertThat(applied.body()).doesNotContain("pw-alice").contains("\"passwordSet\":true");
        long remoteTunnelsBefore = remote.gateway.stats().totalTunnels();
        echoesThrough(local.gateway.address("mixed"), echo);
        assertThat(remote.gateway.stats().totalTunnels()).as("through the remote now").isGreaterThan(remoteTunnelsBefore);
        io.relaygate.testkit.Await.until("the status shows the links up", java.time.Duration.ofSeconds(5),
                () -> "connected".equals(link(local).path("state").asText()));
        JsonNode link = JSON.readTree(local.send("GET", "/api/status", null).body()).get("link");
        assertThat(link.get("links").asInt()).isPositive();
        assertThat(link.get("lastProblem").isNull()).as(link.toString()).isTrue();
        assertThat(link.get("refusedOpens").asLong()).as("the remote opened nothing").isZero();

        // A wrong password: the page would otherwise say "running" while every tunnel fails.
        assertThat(local.send("PUT", "/api/proxy/settings", "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":"
                + linkPort + ",\"user\":\"alice\",\"password\":\"wrong\"}").statusCode()).isEqualTo(200);
        io.relaygate.testkit.Await.until("the status says why the link fails", java.time.Duration.ofSeconds(5),
                () -> link(local).path("lastProblem").asText().startsWith("credentials refused"));
        JsonNode failing = JSON.readTree(local.send("GET", "/api/status", null).body()).get("link");
        assertThat(failing.get("state").asText()).isEqualTo("failing");
        assertThat(failing.get("lastProblemAt").asText()).as("with its time").matches("\\d{4}-\\d{2}-\\d{2}T.*Z");
        assertThat(local.send("PUT", "/api/proxy/settings", "{\"remoteHost\":\"127.0.0.1\",\"remotePort\":"
                + linkPort + ",\"user\":\"alice\",\"password\":\"pw-alice\"}").statusCode()).isEqualTo(200);

        Path saved = localData.resolve("console-settings.yaml");
        assertThat(Files.getPosixFilePermissions(saved)).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE);
        assertThat(Files.readString(saved)).contains("127.0.0.1:" + linkPort).contains("alice").contains("pw-alice")
                .contains(remote.gateway.linkFingerprint());

        var direct = local.send("PUT", "/api/proxy/settings", "{\"remoteHost\":null}");
        assertThat(direct.statusCode()).isEqualTo(200);
        assertThat(direct.body()).contains("\"passwordSet\":false");
        assertThat(Files.readString(saved)).doesNotContain("pw-alice");
        long remoteTunnels = remote.gateway.stats().totalTunnels();
        echoesThrough(local.gateway.address("mixed"), echo);
        assertThat(remote.gateway.stats().totalTunnels()).as("direct again").isEqualTo(remoteTunnels);
    }

    /** {@return the {@code link} of the console's status} */
    private static JsonNode link(ConsoleFixture console) {
        try {
            return JSON.readTree(console.send("GET", "/api/status", null).body()).path("link");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
