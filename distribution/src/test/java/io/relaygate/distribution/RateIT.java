package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-user rates end to end: a remote and locals as real processes, curl as the client, bytes timed where curl
 * delivers them. Failsafe runs one class at a time and this one last ({@link Order}), so that the ±5 % bounds
 * measure the limiter and not a busy machine.
 */
@Timeout(300)
@Order(Integer.MAX_VALUE)
class RateIT {

    private static final long MIB = 1L << 20;
    private static final long KIB = 1L << 10;
    /** The token bucket's default burst: 200 ms of rate, at least 64 KiB. */
    private static final double BURST_SECONDS = 0.2;

    @TempDir
    static Path work;
    private static Path remoteData;
    private static Path config;
    private static GatewayProcess remote;
    private static HttpOrigin origin;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void startRemote() throws Exception {
        remoteData = Files.createDirectories(work.resolve("remote-data"));
        config = work.resolve("rate.yaml");
        Files.writeString(config, "passwordIterations: 4096\n");
        String[][] users = {{"alice", "1MiB"}, {"bob", "512KiB"}, {"carol", "2MiB"}, {"dave", "0"},
                {"erin", "4MiB/s"}, {"frank", "1MiB"}, {"grace", "1MiB"}};
        for (String[] user : users) {
            assertThat(cli(user[0] + "-pw\n", "add", user[0], "--password-stdin", "--rate", user[1])).isZero();
        }
        remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote", "--listen=127.0.0.1:0",
                "--console=off", "--data-dir=" + remoteData, "--config=" + config,
                "--allow-destination=127.0.0.1/32");
        remote.awaitListening();
        origin = new HttpOrigin(InetAddress.getLoopbackAddress());
    }

    @AfterAll
    static void stopRemote() throws Exception {
        if (origin != null) {
            origin.close();
        }
        if (remote != null) {
            remote.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private static int cli(String stdin, String... args) throws Exception {
        return new UserCli(work, remoteData, config).run(stdin, args);
    }

    private GatewayProcess local(String user) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(GatewayProcess.HOME.resolve("bin/gateway").toString(),
                "--role=local", "--listen=127.0.0.1:0", "--console=off",
                "--data-dir=" + work.resolve("local-" + user), "--remote=127.0.0.1:" + remote.address("link").getPort(),
                "--user=" + user, remote.fingerprintFlag());
        builder.environment().put("GATEWAY_PASSWORD", user + "-pw");
        GatewayProcess local = GatewayProcess.start(builder, work);
        closing.add(0, local);
        local.awaitListening();
        return local;
    }

    private Download download(GatewayProcess local, String proxyScheme, long size) throws IOException {
        Download download = new Download(hostPort(local), proxyScheme, origin, size);
        closing.add(0, download);
        return download;
    }

    private static String hostPort(GatewayProcess local) {
        return "127.0.0.1:" + local.address("mixed").getPort();
    }

    /** Waits for the clock: these tests measure rates over fixed windows. */
    private static void waitUntil(long nanoTime) {
        for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    /**
     * Runs one small request through {@code local} and lets the bucket refill: the measured transfer then starts on
     * warm processes (link pool ready, code compiled) with a full burst, as the expected times assume.
     */
    private void warmUp(GatewayProcess local) throws Exception {
        Curl.Result warm = Curl.run(work, "-x", "socks5h://" + hostPort(local),
                "http://127.0.0.1:" + origin.port() + "/bytes/1024");
        assertThat(warm.exit()).as(warm.stderr()).isZero();
        waitUntil(System.nanoTime() + (long) (2 * BURST_SECONDS * 1e9));
    }

    /** {@return the seconds between two of the times curl printed with -w, by their positions} */
    private static double seconds(Curl.Result result, int from, int to) {
        String[] times = result.stdout().trim().split(" ");
        return Double.parseDouble(times[to]) - Double.parseDouble(times[from]);
    }

    private static long[] snapshot(List<Download> downloads) {
        return downloads.stream().mapToLong(Download::received).toArray();
    }

    /** Jain's fairness index: 1 when all shares are equal, 1/n when one takes everything. */
    private static double jain(long[] shares) {
        double sum = 0;
        double squares = 0;
        for (long share : shares) {
            sum += share;
            squares += (double) share * share;
        }
        return sum * sum / (shares.length * squares);
    }

    private static long[] minus(long[] after, long[] before) {
        long[] delta = new long[after.length];
        for (int i = 0; i < after.length; i++) {
            delta[i] = after[i] - before[i];
        }
        return delta;
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long v : values) {
            total += v;
        }
        return total;
    }

    @Test
    void oneUserAtOneMiBPerSecondGetsItFairlyOverOneFourAndSixteenConnections() throws Exception {
        GatewayProcess local = local("alice");
        for (int connections : new int[] {1, 4, 16}) {
            List<Download> downloads = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < connections; i++) {
                downloads.add(download(local, "socks5h", 1L << 30));
            }
            waitUntil(start + 1_000_000_000L);
            long[] first = snapshot(downloads);
            long windowStart = System.nanoTime();
            waitUntil(windowStart + 10_000_000_000L);
            long[] shares = minus(snapshot(downloads), first);
            double seconds = (System.nanoTime() - windowStart) / 1e9;
            for (Download download : downloads) {
                download.close();
            }
            double rate = sum(shares) / seconds;
            assertThat(rate).as("%d connections: bytes/s over 10 s", connections)
                    .isCloseTo(MIB, within(0.05 * MIB));
            assertThat(jain(shares)).as("%d connections: Jain's index of %s", connections,
                    java.util.Arrays.toString(shares)).isGreaterThanOrEqualTo(0.9);
        }
    }

    @Test
    void twoUsersGetTheirOwnRatesAtOnceAndAnUnlimitedUserBesideThemIsNotSlowed() throws Exception {
        GatewayProcess bob = local("bob");
        GatewayProcess carol = local("carol");
        GatewayProcess dave = local("dave");
        long big = 512 * MIB;
        Download alone = download(dave, "socks5h", big);
        long aloneStart = System.nanoTime();
        double aloneRate = big / ((alone.awaitEnd(120) - aloneStart) / 1e9);
        assertThat(alone.received()).isEqualTo(big);

        List<Download> limited = List.of(download(bob, "socks5h", 1L << 30), download(bob, "http", 1L << 30),
                download(carol, "socks5h", 1L << 30), download(carol, "http", 1L << 30));
        long start = System.nanoTime();
        waitUntil(start + 1_000_000_000L);
        long[] first = snapshot(limited);
        long windowStart = System.nanoTime();
        Download beside = download(dave, "socks5h", big);
        double besideRate = big / ((beside.awaitEnd(120) - windowStart) / 1e9);
        waitUntil(windowStart + 10_000_000_000L);
        long[] shares = minus(snapshot(limited), first);
        double seconds = (System.nanoTime() - windowStart) / 1e9;
        assertThat((shares[0] + shares[1]) / seconds).as("bob at 512 KiB/s").isCloseTo(512.0 * KIB,
                within(0.05 * 512 * KIB));
        assertThat((shares[2] + shares[3]) / seconds).as("carol at 2 MiB/s").isCloseTo(2.0 * MIB,
                within(0.05 * 2 * MIB));
        assertThat(beside.received()).isEqualTo(big);
        assertThat(besideRate).as("dave unlimited beside them (alone: %.0f MB/s)", aloneRate / 1e6)
                .isGreaterThan(aloneRate * 0.6);
    }

    @Test
    void uploadsAreShapedToo() throws Exception {
        GatewayProcess frank = local("frank");
        warmUp(frank);
        long size = 6 * MIB;
        Path file = work.resolve("upload.bin");
        HttpOrigin.writeBody(size, file);
        Curl.Result result = Curl.run(work, "-T", file.toString(), "-H", "Expect:", "-p", "-x",
                "http://" + hostPort(frank), "-w", "%{time_pretransfer} %{time_total}",
                "http://127.0.0.1:" + origin.port() + "/upload");
        assertThat(result.exit()).as(result.stderr()).isZero();
        assertThat(result.body()).isEqualTo(size + " " + HttpOrigin.expectedSha256(size));
        double rate = (size - BURST_SECONDS * MIB) / seconds(result, 0, 1);
        assertThat(rate).as("upload bytes/s after the burst").isCloseTo(MIB, within(0.05 * MIB));
    }

    @Test
    void thirtyTwoMiBAtFourMiBPerSecondArriveByteExactInEightSeconds() throws Exception {
        GatewayProcess erin = local("erin");
        warmUp(erin);
        long size = 32 * MIB;
        Curl.Result result = Curl.run(work, "-x", "socks5h://" + hostPort(erin), "-w",
                "%{time_starttransfer} %{time_total}", "http://127.0.0.1:" + origin.port() + "/bytes/" + size);
        assertThat(result.exit()).as(result.stderr()).isZero();
        assertThat(result.size()).isEqualTo(size);
        assertThat(result.sha256()).isEqualTo(HttpOrigin.expectedSha256(size));
        double expected = (size - BURST_SECONDS * 4 * MIB) / (4.0 * MIB);
        assertThat(seconds(result, 0, 1)).as("seconds from the first byte to the last (expected %.2f)", expected)
                .isBetween(expected * 0.97, expected * 1.05);
    }

    @Test
    void aRateRaisedDuringATransferTakesEffectWithinOneSecond() throws Exception {
        GatewayProcess grace = local("grace");
        Download download = download(grace, "socks5h", 1L << 30);
        long start = System.nanoTime();
        waitUntil(start + 1_000_000_000L);
        long before = download.received();
        waitUntil(start + 3_000_000_000L);
        double slow = (download.received() - before) / 2.0;
        assertThat(slow).as("1 MiB/s before").isCloseTo(MIB, within(0.05 * MIB));

        assertThat(cli(null, "set", "grace", "--rate", "4MiB")).isZero();
        long changed = System.nanoTime();
        waitUntil(changed + 1_000_000_000L);
        long at1 = download.received();
        long windowStart = System.nanoTime();
        waitUntil(windowStart + 3_000_000_000L);
        double fast = (download.received() - at1) / ((System.nanoTime() - windowStart) / 1e9);
        assertThat(fast).as("4 MiB/s from 1 s after the change").isCloseTo(4.0 * MIB, within(0.05 * 4 * MIB));
    }
}
