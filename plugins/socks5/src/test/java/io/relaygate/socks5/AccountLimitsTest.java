package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.Gateway;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.Quota;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestClock;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The account limits that are not rates, through a local over a real link: the cap on concurrent tunnels, the quota
 * per period and the expiry, each reached while tunnels run; and the separate rates per direction. The remote's
 * wall clock is a test clock, so periods turn and accounts expire when the test says.
 */
@Timeout(60)
class AccountLimitsTest {

    /** Expiry and quota close tunnels within this of the moment (the promise is a second). */
    private static final Duration WITHIN = Duration.ofSeconds(1);
    private static final long BURST = 64 * 1024;

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts().put("alice", "secret", true);
    private final TestClock clock = new TestClock(Instant.parse("2026-11-28T12:00:00Z"));

    private Gateway remote() {
        return closer.track(Gateway.builder(TestGateway.config("role", "remote", "accountStore", "memory",
                        "dataDir", data.toString(), "passwordIterations", "64", "allowDestination", "127.0.0.1/32"))
                .plugins(List.<GatewayPlugin>of(new Socks5Plugin(), accounts, new TokenBucketPlugin()))
                .clock(clock).start());
    }

    private Gateway local(Gateway remote) {
        return closer.track(Gateway.builder(TestGateway.config("remote", "127.0.0.1:"
                        + remote.address("link").getPort(), "user", "alice", "remoteFingerprint",
                        remote.linkFingerprint()))
                .plugins(List.of(new Socks5Plugin())).linkPassword("secret".getBytes(StandardCharsets.UTF_8))
                .start());
    }

    /** An origin that writes until its client goes away. */
    private TestOrigin firehose() {
        return closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
    }

    /** An origin that reads until its client goes away. */
    private TestOrigin sink() {
        return closer.track(TestOrigin.start(socket -> socket.getInputStream().transferTo(OutputStream.nullOutputStream())));
    }

    private Socket tunnel(Gateway local, TestOrigin origin) throws IOException {
        return closer.track(Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
    }

    /** The SOCKS5 reply code a new tunnel gets. */
    private int replyTo(Gateway local, TestOrigin origin) throws IOException {
        try (Socket socket = Socks5Client.open(local.address("mixed"))) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", origin.port()));
            assertThat(socket.getInputStream().readNBytes(2)).containsExactly(5, 0);
            return Socks5Client.readReply(socket).code();
        }
    }

    @Test
    void theTunnelOverTheCapIsRefusedWithNotAllowedUntilOneCloses() throws Exception {
        accounts.limits("alice", l -> l.withMaxConnections(2));
        Gateway remote = remote();
        Gateway local = local(remote);
        TestOrigin origin = sink();
        Socket first = tunnel(local, origin);
        Socket second = tunnel(local, origin);
        Await.until("two tunnels held", Duration.ofSeconds(5), () -> remote.allowances().tunnels("alice") == 2);

        assertThat(replyTo(local, origin)).as("the third: not allowed (0x02)").isEqualTo(2);
        assertThat(remote.allowances().tunnels("alice")).as("a refusal holds nothing").isEqualTo(2);
        second.getOutputStream().write(1);
        first.getOutputStream().write(1);
        assertThat(first.isClosed()).as("the existing tunnels are untouched").isFalse();

        second.close();
        Await.until("the slot given back", Duration.ofSeconds(5), () -> remote.allowances().tunnels("alice") == 1);
        Socket third = tunnel(local, origin);
        third.getOutputStream().write(1);
        assertThat(replyTo(local, origin)).isEqualTo(2);

        accounts.limits("alice", l -> l.withMaxConnections(0));         // live: no cap any more
        Await.until("the cap lifted", Duration.ofSeconds(5), () -> {
            try {
                return replyTo(local, origin) == 0;
            } catch (IOException e) {
                return false;
            }
        });
        first.close();
        third.close();
        Await.until("every slot given back", Duration.ofSeconds(5), () -> remote.allowances().tunnels("alice") == 0);
    }

    @Test
    void aFailedDialGivesItsSlotBack() throws Exception {
        accounts.limits("alice", l -> l.withMaxConnections(1));
        Gateway remote = remote();
        Gateway local = local(remote);
        int closedPort;
        try (java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = gone.getLocalPort();
        }
        for (int i = 0; i < 3; i++) {
            try (Socket socket = Socks5Client.open(local.address("mixed"))) {
                socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", closedPort));
                socket.getInputStream().readNBytes(2);
                assertThat(Socks5Client.readReply(socket).code()).as("connection refused").isEqualTo(5);
            }
        }
        assertThat(remote.allowances().tunnels("alice")).isZero();
        tunnel(local, sink()).getOutputStream().write(1);
    }

    @Test
    void reachingTheQuotaMidTransferClosesTheTunnelsWithinASecondAndRefusesNewOnesUntilThePeriodTurns()
            throws Exception {
        long quota = 1 << 20;
        long rate = 512 * 1024;
        accounts.limits("alice", l -> l.withRate(rate).withQuota(new Quota(quota, Quota.Period.DAY)));
        Gateway remote = remote();
        Gateway local = local(remote);
        TestOrigin origin = firehose();
        Socket download = tunnel(local, origin);
        download.setSoTimeout(10_000);
        InputStream in = download.getInputStream();
        byte[] buffer = new byte[16 * 1024];
        long received = 0;
        long crossedAt = 0;
        long giveUp = System.nanoTime() + 20_000_000_000L;
        try (LogCapture log = LogCapture.of("io.relaygate.accounts")) {
            while (true) {
                assertThat(System.nanoTime()).as("the tunnel is closed at the quota").isLessThan(giveUp);
                int n;
                try {
                    n = in.read(buffer);
                } catch (IOException e) {
                    n = -1;                     // closed with a reset: as good as an end
                }
                if (n < 0) {
                    break;
                }
                received += n;
                if (crossedAt == 0 && received >= quota) {
                    crossedAt = System.nanoTime();
                }
            }
            long closedAt = System.nanoTime();
            assertThat(crossedAt).as("the tunnel ran up to the quota").isPositive();
            assertThat(Duration.ofNanos(closedAt - crossedAt)).as("closed within a second of the quota")
                    .isLessThan(WITHIN);
            assertThat(received).as("no more than a second at the rate beyond it").isLessThan(quota + rate + BURST);
            Await.until("the reason logged", Duration.ofSeconds(2),
                    () -> !log.linesContaining("user alice reached their quota of 1MiB/day").isEmpty());
        }
        assertThat(replyTo(local, origin)).as("a new tunnel: not allowed (0x02)").isEqualTo(2);
        assertThat(remote.sessions().links("alice")).as("the link stays; only tunnels are refused").isPositive();

        clock.set(Instant.parse("2026-11-29T00:00:01Z"));            // the next UTC day: a new period
        Await.until("the new period admits tunnels", Duration.ofSeconds(5), () -> {
            try {
                return replyTo(local, origin) == 0;
            } catch (IOException e) {
                return false;
            }
        });

        Shaping.Meter meter = remote.shaping().meters().get("alice");
        local.close();
        remote.close();                             // persists what is left
        long[] persisted = accounts.traffic("alice");
        assertThat(persisted[0] + persisted[1]).as("every byte moved is persisted, once")
                .isEqualTo(meter.bytesUp() + meter.bytesDown());
        assertThat(persisted[1]).isGreaterThanOrEqualTo(received);
        assertThat(accounts.traffic("alice", java.time.LocalDate.of(2026, 11, 28))[1])
                .as("counted on the remote's day").isPositive();
    }

    @Test
    void anAccountThatExpiresMidTransferLosesItsTunnelsAndLinksWithinASecondAndCannotLogInAgain() throws Exception {
        Instant expires = clock.instant().plusSeconds(3600);
        accounts.limits("alice", l -> l.withRate(256 * 1024).withExpires(expires));
        Gateway remote = remote();
        Gateway local = local(remote);
        Socket download = tunnel(local, firehose());
        download.setSoTimeout(10_000);
        InputStream in = download.getInputStream();
        byte[] buffer = new byte[16 * 1024];
        assertThat(in.read(buffer)).as("the transfer runs").isPositive();
        try (LogCapture log = LogCapture.of("io.relaygate.accounts");
             LogCapture link = LogCapture.of("io.relaygate.link")) {
            clock.set(expires);
            long expiredAt = System.nanoTime();
            try {
                while (in.read(buffer) >= 0) {
                    assertThat(Duration.ofNanos(System.nanoTime() - expiredAt)).as("closed at the expiry")
                            .isLessThan(Duration.ofSeconds(10));
                }
            } catch (IOException e) {
                // a reset ends it too
            }
            assertThat(Duration.ofNanos(System.nanoTime() - expiredAt)).isLessThan(WITHIN);
            Await.until("the link closed too", Duration.ofSeconds(2), () -> remote.sessions().links("alice") == 0);
            assertThat(log.linesContaining("user alice expired at 2026-11-28T13:00:00Z")).isNotEmpty();
            assertThat(replyTo(local, firehose())).as("the link's login is refused: 0x02").isEqualTo(2);
            Await.until("the remote says why", Duration.ofSeconds(5),
                    () -> !link.linesContaining("authentication failed for user alice (expired user)").isEmpty());
        }
        accounts.limits("alice", l -> l.withExpires(null));
        Await.until("a renewed account logs in again", Duration.ofSeconds(20), () -> {
            try {
                return replyTo(local, firehose()) == 0;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void theDownloadRateLimitsDownloadsOnlyAndFollowsAChangeLive() throws Exception {
        long down = 256 * 1024;
        accounts.limits("alice", l -> l.withRateDown(down));
        Gateway remote = remote();
        Gateway local = local(remote);
        long start = System.nanoTime();
        long received = readFor(tunnel(local, firehose()), 1_500_000_000L);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(received).as("down: rate × time + burst").isLessThanOrEqualTo((long) (down * seconds) + BURST);
        assertThat(received).as("and not starved").isGreaterThan((long) (down * (seconds - 1) * 0.7));

        long sent = writeFor(tunnel(local, sink()), 1_500_000_000L);
        assertThat(sent).as("uploads are not held to the download rate").isGreaterThan(8 * down);

        accounts.limits("alice", l -> l.withRateDown(0).withRateUp(down));
        Await.until("the new rates reach the meter", Duration.ofSeconds(2), () -> {
            Shaping.Meter meter = remote.shaping().meters().get("alice");
            return meter.rate(true) == down && meter.rate(false) == 0;
        });
        long upStart = System.nanoTime();
        long limitedUp = writeFor(tunnel(local, sink()), 1_500_000_000L);
        double upSeconds = (System.nanoTime() - upStart) / 1e9;
        // What the client wrote may sit in socket buffers on the way: allow them beside rate × time + burst.
        assertThat(limitedUp).as("up: now limited").isLessThanOrEqualTo((long) (down * upSeconds) + BURST
                + 8L * 1024 * 1024);
        long freeDown = readFor(tunnel(local, firehose()), 1_000_000_000L);
        assertThat(freeDown).as("down: now free").isGreaterThan(8 * down);
    }

    private static long readFor(Socket socket, long nanos) throws IOException {
        socket.setSoTimeout(50);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[16 * 1024];
        long total = 0;
        long deadline = System.nanoTime() + nanos;
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                total += n;
            } catch (java.net.SocketTimeoutException e) {
                // check the deadline again
            }
        }
        return total;
    }

    /** Writes for about {@code nanos} from another thread, the socket closed at the deadline. */
    private static long writeFor(Socket socket, long nanos) throws Exception {
        long[] sent = {0};
        Thread writer = new Thread(() -> {
            byte[] chunk = new byte[16 * 1024];
            try {
                OutputStream out = socket.getOutputStream();
                while (true) {
                    out.write(chunk);
                    sent[0] += chunk.length;
                }
            } catch (IOException e) {
                // closed at the deadline
            }
        });
        writer.start();
        writer.join(nanos / 1_000_000);
        socket.close();
        writer.join(5_000);
        return sent[0];
    }

    @Test
    void aBadLimitNeverReachesTheStore() {
        assertThatThrownBy(() -> Quota.parse("5/fortnight")).hasMessageContaining("day, week or month");
        List<String> refused = new ArrayList<>();
        for (String quota : List.of("0/day", "-1GiB/month", "2EiB/month", "GiB/month", "10GiB")) {
            try {
                Quota.parse(quota);
            } catch (IllegalArgumentException e) {
                refused.add(quota);
            }
        }
        assertThat(refused).hasSize(5);
    }
}
