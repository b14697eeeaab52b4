package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP, as {@code systemctl reload} sends it: the built gateway reads its configuration file again, applies the live
 * keys to what starts from then on, names the keys that wait for a restart, and keeps everything as it was when the
 * file does not validate.
 */
@Timeout(120)
class ReloadIT {

    @TempDir
    Path work;

    private Path config;

    private void writeConfig(String... extra) throws Exception {
        String base = String.join("\n", "role: remote", "listen: 127.0.0.1:0", "directListen: 127.0.0.1:0",
                "console: off", "linkTls:", "  mode: off", "passwordIterations: 4096", "dataDir: "
                        + work.resolve("data"));
        Files.writeString(config, base + "\n" + String.join("\n", extra) + "\n");
    }

    private void addUser() throws Exception {
        Process add = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(), "user", "add", "alice",
                "--password-stdin", "--config=" + config).redirectInput(writeStdin("pw\n").toFile())
                .redirectErrorStream(true).start();
        assertThat(add.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(add.exitValue()).as(new String(add.getInputStream().readAllBytes())).isZero();
    }

    private Path writeStdin(String text) throws Exception {
        Path in = Files.createTempFile(work, "stdin", ".txt");
        Files.writeString(in, text);
        return in;
    }

    @Test
    void aReloadAppliesThePolicyToNewTunnelsNamesRestartOnlyKeysAndABrokenFileChangesNothing() throws Exception {
        config = work.resolve("gateway.yaml");
        writeConfig();
        addUser();
        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress());
             GatewayProcess gateway = GatewayProcess.start(GatewayProcess.HOME, work, "--config=" + config)) {
            gateway.awaitListener("direct");
            String proxy = "alice:pw@127.0.0.1:" + gateway.address("direct").getPort();
            String url = "http://127.0.0.1:" + origin.port() + "/bytes/1000";
            assertThat(Curl.run(work, "--socks5-hostname", proxy, url).exit()).as("loopback is refused by default")
                    .isNotZero();

            writeConfig("allowDestination: 127.0.0.1/32", "timeouts:", "  idle: 5m", "reactor:", "  eventLoops: 1",
                    "logLevel: debug");
            gateway.hangUp();
            Await.until("the reload logged", Duration.ofSeconds(10), () -> gateway.stderr().contains(
                    "SIGHUP: configuration reloaded; applied to what starts from now on: allowDestination,"
                            + " timeouts.idle, logLevel"));
            Await.until("the restart-only key named", Duration.ofSeconds(10), () -> gateway.stderr().contains(
                    "SIGHUP: reactor changed; it applies only at a restart"));
            Curl.Result allowed = Curl.run(work, "--socks5-hostname", proxy, url);
            assertThat(allowed.exit()).as("the new policy for a new tunnel").isZero();
            assertThat(allowed.size()).isEqualTo(1000);
            assertThat(gateway.address("direct").getPort()).as("still where it was").isPositive();
            assertThat(gateway.stderr()).doesNotContain(" DEBUG ");
            Curl.run(work, "--socks5-hostname", proxy, "http://127.0.0.1:1/");    // a refused tunnel: a DEBUG line
            Await.until("debug lines once logLevel is debug", Duration.ofSeconds(5),
                    () -> gateway.stderr().contains(" DEBUG io.relaygate.tunnel - socks5 "));

            Files.writeString(config, "role: remote\nlimits:\n  maxConnections: lots\n");
            gateway.hangUp();
            Await.until("the refusal logged", Duration.ofSeconds(10), () -> gateway.stderr().contains(
                    "SIGHUP: the configuration was not reloaded, nothing changed: " + config + ":3:"
                            + " limits.maxConnections"));
            assertThat(Curl.run(work, "--socks5-hostname", proxy, url).exit()).as("the last good policy stays")
                    .isZero();

            writeConfig("logLevel: info");
            gateway.hangUp();
            Await.until("the second reload logged", Duration.ofSeconds(10), () -> gateway.stderr().lines()
                    .filter(l -> l.contains("SIGHUP: configuration reloaded; applied")).count() == 2);
            assertThat(Curl.run(work, "--socks5-hostname", proxy, url).exit()).as("refused again").isNotZero();

            gateway.terminate();
            assertThat(gateway.awaitExit(30)).as("a reload never stopped it").isZero();
        }
    }
}
