package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code gateway user …} against the SQLite store of the built distribution, and clients authenticated by it. */
@Timeout(180)
class UserCliIT {

    @TempDir
    Path work;

    /** What a finished command printed. */
    private record Run(int exit, String out, String err) {
    }

    private Run user(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(GatewayProcess.HOME.resolve("bin/gateway").toString(), "user"));
        command.addAll(List.of(args));
        command.add("--config=" + config());
        command.add("--data-dir=" + work.resolve("data"));
        Path out = Files.createTempFile(work, "user", ".out");
        Path err = Files.createTempFile(work, "user", ".err");
        Path in = Files.createTempFile(work, "user", ".in");
        Files.writeString(in, stdin == null ? "" : stdin);
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(in.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway user hung: " + command);
        }
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private Path config() throws IOException {
        Path config = work.resolve("auth.yaml");
        if (!Files.exists(config)) {
            Files.writeString(config, "accountStore: sqlite\npasswordIterations: 4096\n");
        }
        return config;
    }

    @Test
    void usersAreManagedFromTheCommandLineAndAuthenticateClientsOfARunningGateway() throws Exception {
        assertThat(user("s3cret\n", "add", "alice", "--rate=64KiB", "--password-stdin").exit()).isZero();
        // The account database is as private as the admin token: a StoredKey and a captured login would log in.
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                work.resolve("data")))).isEqualTo("rwx------");
        try (var files = Files.list(work.resolve("data"))) {
            for (Path file : files.toList()) {
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                        .as(file.toString()).isEqualTo("rw-------");
            }
        }
        Run list = user(null, "list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).containsPattern("alice\\s+65536\\s+yes");
        Run show = user(null, "show", "alice");
        assertThat(show.out()).contains("rate:           65536 bytes/s", "enabled:        yes",
                        "iterations:     4096")
                .doesNotContain("s3cret");

        Run duplicate = user("x\n", "add", "alice", "--password-stdin");
        assertThat(duplicate.exit()).isEqualTo(1);
        assertThat(duplicate.err().strip()).isEqualTo("gateway: user alice exists already");
        Run badName = user("x\n", "add", "../x", "--password-stdin");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err().strip()).isEqualTo("gateway: user name: expected 1 to 64 of the characters"
                + " A-Z a-z 0-9 . _ -");
        assertThat(user("x\n", "add", "bob", "--rate=fast", "--password-stdin").exit()).isEqualTo(2);
        assertThat(user("\n", "add", "bob", "--password-stdin").exit()).as("empty password").isEqualTo(2);
        assertThat(user(null, "show", "nobody").exit()).isEqualTo(1);

        byte[] database = Files.readAllBytes(work.resolve("data/gateway.db"));
        assertThat(new String(database, StandardCharsets.ISO_8859_1)).doesNotContain("s3cret");

        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress());
             GatewayProcess gateway = GatewayProcess.startLocal(work, "--config=" + config())) {
            String proxy = "127.0.0.1:" + gateway.address("mixed").getPort();
            String url = "http://127.0.0.1:" + origin.port() + "/bytes/100000";
            assertThat(Curl.run(work, "--socks5-hostname", "alice:s3cret@" + proxy, url).exit()).isZero();
            assertThat(Curl.run(work, "-p", "-x", "http://alice:s3cret@" + proxy, url).exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "alice:wrong@" + proxy, url).exit()).isEqualTo(97);
            assertThat(Curl.run(work, "--socks5-hostname", proxy, url).exit()).as("no credentials").isEqualTo(97);
            Curl.Result noAuth = Curl.run(work, "-p", "-x", "http://" + proxy, url);
            assertThat(noAuth.exit()).isEqualTo(56);
            assertThat(noAuth.stderr()).contains("407");

            // Changes from the command line apply to the running gateway at once.
            assertThat(user("pw2\n", "add", "carol", "--password-stdin").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw2@" + proxy, url).exit()).isZero();
            assertThat(user(null, "set", "carol", "--disable").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw2@" + proxy, url).exit()).isEqualTo(97);
            assertThat(user("pw3\n", "set", "carol", "--enable", "--password-stdin").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw2@" + proxy, url).exit()).isEqualTo(97);
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw3@" + proxy, url).exit()).isZero();
            assertThat(user(null, "set", "carol", "--expires=2020-01-01").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw3@" + proxy, url).exit()).as("expired")
                    .isEqualTo(97);
            assertThat(user(null, "set", "carol", "--expires=never").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw3@" + proxy, url).exit()).isZero();
            assertThat(user(null, "del", "carol").exit()).isZero();
            assertThat(Curl.run(work, "--socks5-hostname", "carol:pw3@" + proxy, url).exit()).isEqualTo(97);
        }
    }

    @Test
    void everyLimitIsSetShownAndClearedFromTheCommandLine() throws Exception {
        assertThat(user("pw\n", "add", "dave", "--password-stdin", "--rate=1MiB", "--rate-up=256KiB",
                "--rate-down=512KiB", "--max-connections=8", "--expires=2099-01-31", "--quota=50GiB/month",
                "--expose-ports=1").exit()).isZero();
        Run show = user(null, "show", "dave");
        assertThat(show.exit()).isZero();
        assertThat(show.out()).contains("rate:           1048576 bytes/s", "rateUp:         262144 bytes/s",
                "rateDown:       524288 bytes/s", "maxConnections: 8", "expires:        2099-02-01T00:00:00Z",
                "quota:          50GiB/month", "quotaUsed:      0 bytes since ", "quotaRemaining: 53687091200 bytes"
                + " until ", "exposePorts:    1");
        Run list = user(null, "list");
        assertThat(list.out()).containsPattern("dave\\s+1048576\\s+yes\\s+2099-02-01T00:00:00Z\\s+50GiB/month\\s+8");

        assertThat(user(null, "set", "dave", "--expires=never", "--quota=none", "--max-connections=0",
                "--rate-up=0").exit()).isZero();
        assertThat(user(null, "show", "dave").out()).contains("expires:        never", "quota:          none",
                "maxConnections: 0 (no cap)", "rateUp:         0 (no separate limit)",
                "rateDown:       524288 bytes/s").doesNotContain("quotaUsed");
    }

    @Test
    void aBadLimitExitsWith2NamingTheValueAndWhatIsExpectedAndChangesNothing() throws Exception {
        assertThat(user("pw\n", "add", "erin", "--password-stdin").exit()).isZero();
        String[][] cases = {
            {"--expires=yesterday-ish", "--expires: \"yesterday-ish\" (expected: a UTC date such as 2027-01-31"},
            {"--expires=2027-02-30", "--expires: \"2027-02-30\" (expected: a UTC date"},
            {"--quota=5/fortnight", "--quota: \"5/fortnight\" (expected: an amount per day, week or month"},
            {"--quota=-1GiB/month", "--quota: \"-1GiB/month\" (expected: an amount per day"},
            {"--quota=2EiB/month", "--quota: \"2EiB/month\" (expected: an amount per day"},
            {"--max-connections=-1", "--max-connections: \"-1\" (expected: 0 (no cap) to 10000000)"},
            {"--max-connections=99999999999", "--max-connections: \"99999999999\" (expected: a whole number)"},
            {"--rate-up=fast", "--rate-up: \"fast\" (expected: bytes per second such as 1500"},
            {"--rate-down=2000TiB", "--rate-down: \"2000TiB\" (expected: 0 (unlimited) to"},
            {"--expose-ports=70000", "--expose-ports: \"70000\" (expected: 0 (none) to 65535)"},
        };
        for (String[] c : cases) {
            Run set = user(null, "set", "erin", c[0]);
            assertThat(set.exit()).as(c[0]).isEqualTo(2);
            assertThat(set.err().strip()).as(c[0]).startsWith("gateway: " + c[1]);
            Run add = user("pw\n", "add", "frank", "--password-stdin", c[0]);
            assertThat(add.exit()).as("add " + c[0]).isEqualTo(2);
        }
        assertThat(user(null, "show", "erin").out()).contains("expires:        never", "quota:          none",
                "maxConnections: 0 (no cap)");
        assertThat(user(null, "show", "frank").exit()).as("never added").isEqualTo(1);
    }

    @Test
    void aCorruptDatabaseStopsTheGatewayWithOneLine() throws Exception {
        Files.createDirectories(work.resolve("data"));
        Files.writeString(work.resolve("data/gateway.db"), "not a database");
        try (GatewayProcess gateway = GatewayProcess.start(GatewayProcess.HOME, work, "--listen=127.0.0.1:0",
                "--console=off", "--config=" + config(), "--data-dir=" + work.resolve("data"))) {
            assertThat(gateway.awaitExit(30)).isEqualTo(1);
            List<String> lines = gateway.stderr().strip().lines().toList();
            assertThat(lines.get(lines.size() - 1)).startsWith("gateway: account store sqlite: ")
                    .contains("not a SQLite database");
            // Before it, only the log lines of the data directory's modes being tightened (made 0644 above).
            assertThat(lines.subList(0, lines.size() - 1)).allMatch(line -> line.contains("INFO")
                    && line.contains("tightened"));
            assertThat(gateway.stderr()).doesNotContain("\tat ");
        }
        assertThat(Files.readString(work.resolve("data/gateway.db"))).isEqualTo("not a database");
    }
}
