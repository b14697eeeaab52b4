package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a contract: exit codes, one-line errors, the listening lines, running from anywhere. */
@Timeout(120)
class CliIT {

    @TempDir
    Path work;

    private GatewayProcess run(String... args) throws IOException {
        return GatewayProcess.start(GatewayProcess.HOME, work, args);
    }

    @Test
    void helpAndVersionExitZero() throws Exception {
        try (GatewayProcess help = run("--help")) {
            assertThat(help.awaitExit(30)).isZero();
            assertThat(String.join("\n", help.stdout())).contains("--role", "--listen", "--remote", "--console",
                    "--data-dir", "--plugins-dir", "--allow-open-proxy", "Exit status");
        }
        try (GatewayProcess version = run("--version")) {
            assertThat(version.awaitExit(30)).isZero();
            assertThat(version.stdout()).anyMatch(line -> line.startsWith("relaygate 0.1.0"));
        }
        // JAVA_OPTS overrides the launcher's bounded defaults, the collector among them.
        ProcessBuilder g1 = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(), "--version");
        g1.environment().put("JAVA_OPTS", "-XX:+UseG1GC -Xmx512m");
        try (GatewayProcess version = GatewayProcess.start(g1, work)) {
            assertThat(version.awaitExit(30)).as(version.stderr()).isZero();
            assertThat(version.stdout()).anyMatch(line -> line.startsWith("relaygate 0.1.0"));
        }
    }

    @Test
    void usageAndConfigurationErrorsExit2WithOneLine() throws Exception {
        Path bad = work.resolve("bad.yaml");
        Files.writeString(bad, "listen: 127.0.0.1:0\ntimeouts:\n  idle: forever\n");
        Path unknownPlugin = work.resolve("plugin.yaml");
        Files.writeString(unknownPlugin, "plugins:\n  sock5: {}\n");
        String[][] cases = {
            {"--bogus"},
            {"--listen=nowhere"},
            {"--config=" + bad},
            {"--config=" + unknownPlugin},
            {"--config=" + work.resolve("absent.yaml")},
            {"--listen=0.0.0.0:0", "--console=off"},
        };
        String[] expected = {
            "gateway: Unknown option: '--bogus' (see gateway --help)",
            "gateway: --listen: listen: \"nowhere\" (expected: HOST:PORT, IPv6 in brackets, port 0-65535)",
            "gateway: " + bad + ":3: timeouts.idle: \"forever\" (expected: a duration from 1ms to 24h,"
                + " such as 500ms, 10s or 15m)",
            "gateway: " + unknownPlugin + ":2: plugins.sock5: no plugin provides \"sock5\" (found: postgres, sqlite,"
                + " console, httpConnect, redis, tokenBucket, socks5)",
            "gateway: --config=" + work.resolve("absent.yaml") + ": no such file",
            "gateway: --listen: listen: \"0.0.0.0:0\" would be an open proxy",
        };
        for (int i = 0; i < cases.length; i++) {
            try (GatewayProcess gateway = run(cases[i])) {
                assertThat(gateway.awaitExit(30)).as(String.join(" ", cases[i])).isEqualTo(2);
                List<String> lines = gateway.stderr().lines().toList();
                assertThat(lines).as(String.join(" ", cases[i])).hasSize(1);
                assertThat(lines.get(0)).startsWith(expected[i]);
                assertThat(gateway.stdout()).noneMatch(line -> line.startsWith("listening"));
            }
        }
    }

    @Test
    void configCheckValidatesAFileWithoutStartingAndNamesFileAndLine() throws Exception {
        try (GatewayProcess shipped = run("config", "check")) {
            assertThat(shipped.awaitExit(30)).as("the shipped, commented file").isZero();
            assertThat(shipped.stdout()).anyMatch(l -> l.endsWith("conf/gateway.yaml: valid (role local)"));
        }
        Path remote = work.resolve("remote.yaml");
        Files.writeString(remote, "role: remote\nudp:\n  enabled: true\nreverse:\n  ports: 60000-60009\n");
        try (GatewayProcess good = run("config", "check", "--config=" + remote)) {
            assertThat(good.awaitExit(30)).isZero();
            assertThat(good.stdout()).contains(remote + ": valid (role remote)");
            assertThat(good.stdout()).noneMatch(line -> line.startsWith("listening"));
        }
        Path bad = work.resolve("bad.yaml");
        Files.writeString(bad, "role: remote\nudp:\n  maxPacketsPerSecond: lots\n");
        Path plugin = work.resolve("plugin.yaml");
        Files.writeString(plugin, "plugins:\n  sock5: {}\n");
        Path yaml = work.resolve("broken.yaml");
        Files.writeString(yaml, "role: [remote\n");
        String[][] cases = {{bad.toString(), bad + ":3: udp.maxPacketsPerSecond: "},
            {plugin.toString(), plugin + ":2: plugins.sock5: no plugin provides \"sock5\""},
            {yaml.toString(), yaml + ":2: invalid YAML"}};
        for (String[] c : cases) {
            try (GatewayProcess check = run("config", "check", "--config=" + c[0])) {
                assertThat(check.awaitExit(30)).as(c[0]).isEqualTo(2);
                List<String> lines = check.stderr().lines().toList();
                assertThat(lines).hasSize(1);
                assertThat(lines.get(0)).startsWith("gateway: " + c[1]);
            }
        }
    }

    @Test
    void aLocalWithARemoteAndNoWayToTrustItExits2SayingWhereTheFingerprintIs() throws Exception {
        try (GatewayProcess gateway = run("--role=local", "--remote=127.0.0.1:7080", "--user=alice", "--console=off",
                "--listen=127.0.0.1:0", "--data-dir=" + work.resolve("data"))) {
            assertThat(gateway.awaitExit(30)).isEqualTo(2);
            List<String> lines = gateway.stderr().lines().toList();
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0)).startsWith("gateway: ").contains("remoteFingerprint: missing")
                    .contains("`link fingerprint`").contains("--remote-fingerprint=first-use").contains("--remote-ca");
            assertThat(gateway.stdout()).noneMatch(line -> line.startsWith("listening"));
        }
    }

    @Test
    void aPortInUseExits1WithOneLineAndNoStackTrace() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             GatewayProcess gateway = run("--listen=127.0.0.1:" + taken.getLocalPort(), "--console=off")) {
            assertThat(gateway.awaitExit(30)).isEqualTo(1);
            assertThat(gateway.stderr()).contains("gateway: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + ": Address already in use").doesNotContain("Exception", "\tat ");
        }
    }

    @Test
    void runsFromAnotherDirectoryAndFromTheUnpackedTarball() throws Exception {
        Path home = GatewayProcess.unpackTarball(work.resolve("elsewhere"));
        assertThat(home.resolve("bin/gateway")).isExecutable();
        assertThat(home.resolve("conf/gateway.yaml")).exists();
        Path cwd = Files.createDirectories(work.resolve("cwd"));
        try (GatewayProcess gateway = GatewayProcess.start(home, cwd, "--listen=127.0.0.1:0", "--console=off")) {
            gateway.awaitListening();
            assertThat(gateway.stdout()).anyMatch(line -> line.matches("listening mixed 127\\.0\\.0\\.1:\\d+"));
            try (Socket socket = new Socket(gateway.address("mixed").getAddress(),
                    gateway.address("mixed").getPort())) {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(new byte[] {5, 1, 0});
                assertThat(socket.getInputStream().readNBytes(2)).containsExactly(5, 0);
            }
            gateway.terminate();
            assertThat(gateway.awaitExit(30)).isZero();
            assertThat(home.resolve("logs/access.log")).exists();
        }
    }

    @Test
    void linkFingerprintMakesTheCertificateOnceAndPrintsTheSameLineEachTime() throws Exception {
        Path data = work.resolve("remote-data");
        String first;
        try (GatewayProcess fingerprint = run("link", "fingerprint", "--data-dir=" + data)) {
            assertThat(fingerprint.awaitExit(30)).isZero();
            first = String.join("\n", fingerprint.stdout()).trim();
        }
        assertThat(first).matches("sha256:[0-9a-f]{64}");
        assertThat(java.nio.file.Files.getPosixFilePermissions(data.resolve("link-key.pem")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        try (GatewayProcess again = run("link", "fingerprint", "--data-dir=" + data)) {
            assertThat(again.awaitExit(30)).isZero();
            assertThat(String.join("\n", again.stdout()).trim()).isEqualTo(first);
        }
    }

    @Test
    void pluginsListsEachPluginWithKindVersionAndJar() throws Exception {
        try (GatewayProcess plugins = run("plugins")) {
            assertThat(plugins.awaitExit(30)).isZero();
            String out = String.join("\n", plugins.stdout());
            assertThat(out).containsPattern("socks5\\s+0\\.1\\.0-SNAPSHOT\\s+protocol socks5\\s+\\S+plugins/socks5")
                    .containsPattern("http-connect\\s+0\\.1\\.0-SNAPSHOT\\s+protocol httpConnect\\s+\\S+"
                            + "plugins/http-connect");
            // Columns line up whatever the longest name ("ratelimit-tokenbucket") or list of contributions.
            List<String> lines = plugins.stdout();
            for (String column : new String[] {"VERSION", "PROVIDES", "FROM"}) {
                int at = lines.get(0).indexOf(column);
                for (String line : lines.subList(1, lines.size())) {
                    assertThat(line.charAt(at - 1)).as("%s column of: %s", column, line).isEqualTo(' ');
                    assertThat(line.charAt(at)).as("%s column of: %s", column, line).isNotEqualTo(' ');
                }
            }
        }
    }

    @Test
    void userHelpListsEachCommandsFlagsAndAMissingNamePointsAtItsCommandsHelp() throws Exception {
        try (GatewayProcess help = run("user", "--help")) {
            assertThat(help.awaitExit(30)).isZero();
            assertThat(String.join("\n", help.stdout())).contains("gateway user add NAME [LIMITS]",
                    "[--rate=RATE] [--rate-up=RATE] [--rate-down=RATE] [--max-connections=N]", "--expires=WHEN",
                    "--quota=QUOTA", "--password-stdin", "--enable | --disable", "--data-dir=DIR");
        }
        try (GatewayProcess add = run("user", "add", "--help")) {
            assertThat(add.awaitExit(30)).isZero();
            assertThat(String.join("\n", add.stdout())).containsPattern("--rate=RATE\\s+the user's bandwidth");
        }
        try (GatewayProcess missing = run("user", "add")) {
            assertThat(missing.awaitExit(30)).isEqualTo(2);
            assertThat(missing.stderr().strip()).isEqualTo(
                    "gateway: Missing required parameter: 'NAME' (see gateway user add --help)");
        }
    }
}
