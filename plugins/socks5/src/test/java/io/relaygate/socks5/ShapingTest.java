package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-user shaping on the remote, through a local over a real link, in this JVM. The hard properties are asserted
 * strictly (never more than rate × time + burst, nothing lost, no CPU while parked); the ±5 % figures against curl
 * are the distribution's RateIT.
 */
@Timeout(60)
class ShapingTest {

    /** The token bucket's default burst floor: what a fresh bucket grants at once. */
    private static final long BURST = 64 * 1024;

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts();


    private Gateway remote() {
        return closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts,
                        new TokenBucketPlugin()), "role", "remote", "accountStore", "memory",
                "plugins.memory.users", "alice:secret", "dataDir", data.toString(), "passwordIterations", "64",
                "allowDestination", "127.0.0.1/32"));
    }

    private Gateway local(Gateway remote) {
        return closer.track(Gateway.builder(TestGateway.config("remote", "127.0.0.1:"
                        + remote.address("link").getPort(), "user", "alice", "remoteFingerprint", remote.linkFingerprint()))
                .plugins(List.of(new Socks5Plugin())).linkPassword("secret".getBytes(StandardCharsets.UTF_8))
                .start());
    }

    /** Writes bytes until the peer goes away. */
    private static TestOrigin firehose() {
        return TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        });
    }

    /** Reads from {@code tunnels} on one thread each for {@code nanos}, {@return the bytes each received} */
    private static long[] readFor(List<Socket> tunnels, long nanos) throws InterruptedException {
        long[] received = new long[tunnels.size()];
        long deadline = System.nanoTime() + nanos;
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < tunnels.size(); i++) {
            int index = i;
            Thread reader = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                try {
                    Socket socket = tunnels.get(index);
                    socket.setSoTimeout(50);
                    InputStream in = socket.getInputStream();
                    while (System.nanoTime() < deadline) {
                        try {
                            int n = in.read(buffer);
                            if (n < 0) {
                                return;
                            }
                            received[index] += n;
                        } catch (java.net.SocketTimeoutException e) {
                            // check the deadline again
                        }
                    }
                } catch (IOException e) {
                    received[index] = -1;
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (Thread reader : readers) {
            reader.join();
        }
        return received;
    }

    /**
     * Opens {@code tunnels} downloads from a fresh firehose through {@code proxy}'s mixed port and reads them for
     * {@code nanos}; checks every one got a share. {@return the bytes they received together}
     */
    private long downloadTogether(Gateway proxy, int tunnels, long nanos) throws Exception {
        TestOrigin origin = closer.track(firehose());
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < tunnels; i++) {
            sockets.add(closer.track(Socks5Client.connect(proxy.address("mixed"), "127.0.0.1", origin.port())));
        }
        long total = 0;
        for (long received : readFor(sockets, nanos)) {
            assertThat(received).as("every tunnel gets a share").isPositive();
            total += received;
        }
        return total;
    }

    @Test
    void aUsersTunnelsTogetherNeverGetMoreThanRateTimesTimePlusBurst() throws Exception {
        long rate = 256 * 1024;
        accounts.put("alice", "secret", true);
        Gateway remote = remote();
        accounts.rate("alice", rate);
        Gateway local = local(remote);
        long start = System.nanoTime();
        long total = downloadTogether(local, 4, 2_000_000_000L);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(total).as("never more than rate × time + burst").isLessThanOrEqualTo((long) (rate * seconds) + BURST);
        assertThat(total).as("and not starved").isGreaterThan((long) (rate * (seconds - 1) * 0.7));
        Shaping.Meter meter = remote.shaping().meters().get("alice");
        assertThat(meter.rate()).isEqualTo(rate);
        assertThat(meter.parkedNanos()).as("time parked is counted").isPositive();
        assertThat(meter.shapedBytes()).as("bytes that waited are counted").isPositive();
        assertThat(meter.bytesDown()).isGreaterThanOrEqualTo(total);
    }

    @Test
    void theLocalsRateLimitCapsTheWholeProxy() throws Exception {
        long rate = 256 * 1024;
        Gateway local = closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(),
                new TokenBucketPlugin()), "rateLimit", "256KiB/s"));
        long start = System.nanoTime();
        long total = downloadTogether(local, 3, 1_500_000_000L);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(total).as("all clients together").isLessThanOrEqualTo((long) (rate * seconds) + BURST);
        Shaping.Meter meter = local.shaping().meters().get(Shaping.LOCAL_PROXY);
        assertThat(meter.rate()).isEqualTo(rate);
        assertThat(meter.bytesDown()).isGreaterThanOrEqualTo(total);
        assertThat(meter.parkedNanos()).isPositive();
    }

    @Test
    void uploadsAreShapedAndArriveByteExact() throws Exception {
        long rate = 128 * 1024;
        accounts.put("alice", "secret", true);
        Gateway remote = remote();
        accounts.rate("alice", rate);
        Gateway local = local(remote);
        TestOrigin digest = closer.track(TestOrigin.start(TestOrigin.digestAfterEof()));
        byte[] payload = Bytes.deterministic(320 * 1024, 7);
        try (Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", digest.port())) {
            long start = System.nanoTime();
            tunnel.getOutputStream().write(payload);
            tunnel.shutdownOutput();
            tunnel.setSoTimeout(10_000);
            byte[] answer = Sockets.readToEnd(tunnel);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(answer).isEqualTo(Bytes.sha256().digest(payload));
            // 320 KiB at 128 KiB/s with a 64 KiB burst: at least 2 s, whatever the machine.
            assertThat(seconds).isGreaterThanOrEqualTo((payload.length - BURST) / (double) rate);
        }
        assertThat(remote.shaping().meters().get("alice").bytesUp()).isGreaterThanOrEqualTo(payload.length);
    }

    @Test
    void aRateChangeReachesLiveTunnelsAndRateZeroIsUnlimited() throws Exception {
        accounts.put("alice", "secret", true);
        Gateway remote = remote();
        accounts.rate("alice", 32 * 1024);
        Gateway local = local(remote);
        TestOrigin origin = closer.track(firehose());
        Socket tunnel = closer.track(Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
        long slow = readFor(List.of(tunnel), 1_000_000_000L)[0];
        assertThat(slow).as("32 KiB/s for 1 s after a 64 KiB burst").isLessThanOrEqualTo(BURST + 32 * 1024 + 1024);
        accounts.rate("alice", 0);
        long fast = readFor(List.of(tunnel), 1_000_000_000L)[0];
        assertThat(fast).as("unlimited at once").isGreaterThan(8L << 20);
    }

    @Test
    @Timeout(30)
    void aParkedTunnelCostsTheEventLoopsNoCpu() throws Exception {
        accounts.put("alice", "secret", true);
        Gateway remote = remote();
        accounts.rate("alice", 1024);          // one reservation (1 KiB) a second once the burst is spent
        Gateway local = local(remote);
        TestOrigin origin = closer.track(firehose());
        Socket tunnel = closer.track(Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
        AtomicLong received = new AtomicLong();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = tunnel.getInputStream();
                for (int n; (n = in.read(buffer)) > 0; ) {
                    received.addAndGet(n);
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        });
        reader.setDaemon(true);
        reader.start();
        Await.until("the burst delivered", Duration.ofSeconds(5), () -> received.get() >= BURST);
        Await.until("parked", Duration.ofSeconds(5), () -> remote.shaping().meters().get("alice").parkedNanos() > 0);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long before = loopCpuNanos(threads);
        long receivedBefore = received.get();
        long start = System.nanoTime();
        // A parked tunnel has nothing to wait for but its timer: let five seconds pass, then compare.
        Await.until("five seconds parked", Duration.ofSeconds(10), () -> System.nanoTime() - start >= 5_000_000_000L);
        long cpu = loopCpuNanos(threads) - before;
        long moved = received.get() - receivedBefore;
        assertThat(cpu).as("event loops' CPU time over 5 s parked").isLessThan(100_000_000L);
        // Parked, the tunnel holds no relay buffer on either gateway (only a pump in progress would).
        Await.until("no buffer held while parked", Duration.ofSeconds(2),
                () -> remote.bufferPool().inUse() == 0 && local.bufferPool().inUse() == 0);
        assertThat(moved).as("about 1 KiB/s meanwhile").isBetween(1024L, 8 * 1024L);
    }

    private static long loopCpuNanos(ThreadMXBean threads) {
        long total = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("relaygate-loop-")) {
                long cpu = threads.getThreadCpuTime(thread.getId());
                if (cpu > 0) {
                    total += cpu;
                }
            }
        }
        return total;
    }
}
