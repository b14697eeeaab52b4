package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.TestServices;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two built remotes sharing their accounts in the machine's PostgreSQL (a schema of this test's own): a user added by
 * the command line logs in on both, and disabled by the command line loses a live tunnel on the other remote at
 * once.
 */
@Timeout(120)
class PostgresIT {

    private static final String URL = TestServices.postgresUrl();
    private static final String USER = TestServices.postgresUser();

    @TempDir
    Path work;
    private final String schema = "relaygate_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final List<AutoCloseable> processes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable process : processes) {
            process.close();
        }
        try (Connection c = DriverManager.getConnection(URL, USER, null); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    private GatewayProcess remote(Path config, String name) throws Exception {
        GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--config=" + config,
                "--data-dir=" + work.resolve(name));
        processes.add(0, remote);
        remote.awaitListener("direct");
        return remote;
    }

    @Test
    void twoRemotesShareTheAccountsAndADisableOnTheCommandLineReachesBoth() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, USER, null); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        Path config = work.resolve("remote.yaml");
        Files.writeString(config, String.join("\n", "role: remote", "listen: 127.0.0.1:0",
                "directListen: 127.0.0.1:0", "console: off", "passwordIterations: 4096",
                "allowDestination: [127.0.0.1/32]", "accountStore: postgres", "plugins:", "  postgres:",
                "    url: " + URL + "?currentSchema=" + schema, "    user: " + USER, ""));
        assertThat(new UserCli(work, work.resolve("cli-data"), config).run("s3cret\n", "add", "alice",
                "--password-stdin", "--rate=256KiB")).isZero();
        GatewayProcess first = remote(config, "first");
        GatewayProcess second = remote(config, "second");
        try (HttpOrigin origin = new HttpOrigin(InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + origin.port() + "/bytes/100000";
            for (GatewayProcess remote : List.of(first, second)) {
                Curl.Result result = Curl.run(work, "--socks5-hostname", "alice:s3cret@127.0.0.1:"
                        + remote.address("direct").getPort(), url);
                assertThat(result.exit()).as(result.stderr()).isZero();
                assertThat(result.size()).isEqualTo(100_000);
            }

            // A download through the second remote, slowed by alice's rate there (so that nothing waits in curl's
            // socket buffer), then the command line disables alice.
            Process download = new ProcessBuilder("curl", "-sS", "-o", "/dev/null",
                    "--socks5-hostname", "alice:s3cret@127.0.0.1:" + second.address("direct").getPort(),
                    "http://127.0.0.1:" + origin.port() + "/bytes/" + (100L << 20))
                    .redirectErrorStream(true).redirectOutput(work.resolve("download.log").toFile()).start();
            processes.add(0, download::destroyForcibly);
            assertThat(download.waitFor(1, TimeUnit.SECONDS)).as("the download runs").isFalse();
            assertThat(new UserCli(work, work.resolve("cli-data"), config).run(null, "set", "alice", "--disable"))
                    .isZero();
            long disabledAt = System.nanoTime();
            assertThat(download.waitFor(10, TimeUnit.SECONDS)).as("the tunnel on the other remote closed").isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disabledAt)).as("within a second")
                    .isLessThan(1_500);
            assertThat(download.exitValue()).isNotZero();
            assertThat(Curl.run(work, "--socks5-hostname", "alice:s3cret@127.0.0.1:"
                    + first.address("direct").getPort(), url).exit()).as("refused on both").isNotZero();
        }
    }
}
