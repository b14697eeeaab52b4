package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.BothWays;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestChain;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SOCKS5 into a local gateway, over an authenticated link, out of a remote gateway: both in this JVM. */
@Timeout(60)
class LinkChainTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts();

    private TestChain chain() {
        return new TestChain(closer, List.of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                List.of(new Socks5Plugin()), data);
    }

    private Gateway remote(String... extra) {
        List<String> settings = new ArrayList<>(List.of("plugins.memory.users", "alice:secret,carol:pw:disabled"));
        settings.addAll(List.of(extra));
        return chain().remote(settings.toArray(String[]::new));
    }

    private Gateway local(Gateway remote, String user, String password) {
        return chain().local(remote, user, password);
    }

    private static int replyCode(Gateway local, int port) throws IOException {
        try (Socket socket = Socks5Client.open(local.address("mixed"))) {
            socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", port));
            new DataInputStream(socket.getInputStream()).readFully(new byte[2]);
            return Socks5Client.readReply(socket).code();
        }
    }

    @Test
    void tunnelsCrossTheLinkByteExactWithHalfClose() throws Exception {
        TestOrigin digest = closer.track(TestOrigin.start(TestOrigin.digestAfterEof()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        for (int size : new int[] {1, 1000, 200_000, 3_000_000}) {
            byte[] payload = Bytes.deterministic(size, size);
            try (Socket socket = Socks5Client.connect(local.address("mixed"), "127.0.0.1", digest.port())) {
                socket.getOutputStream().write(payload);
                socket.shutdownOutput();
                assertThat(Sockets.readToEnd(socket)).as("size %d", size).isEqualTo(Bytes.sha256().digest(payload));
            }
        }
        // Idle pool links stay open; tunnels and their buffers must not.
        Await.until("both sides quiet", Duration.ofSeconds(3), () -> local.stats().openTunnels() == 0
                && remote.stats().openTunnels() == 0);
        assertThat(local.bufferPool().inUse()).isZero();
        assertThat(remote.bufferPool().inUse()).isZero();
        assertThat(remote.stats().bytesUp()).isEqualTo(local.stats().bytesUp());
    }

    @Test
    void concurrentTunnelsInBothDirectionsAtOnce() throws Exception {
        BothWays transfer = new BothWays(16, 2L << 20);
        TestOrigin origin = closer.track(TestOrigin.start(transfer.origin()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        transfer.run(id -> Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
    }

    @Test
    void aStalledTunnelHoldsOnlyItsWindowWhileTheOthersOnItsLinksRunByteExact() throws Exception {
        // One client that never reads, downloading from an origin that never stops writing; the local grants each
        // stream 64 KiB, grown to at most 1 MiB while its client keeps up, and the link's streams may grow by
        // 256 KiB together: that is all the stalled stream may hold at the local, whatever the 32 others do.
        TestOrigin firehose = closer.track(TestOrigin.start(LinkChainTest::firehose));
        BothWays transfer = new BothWays(32, 1L << 20);
        TestOrigin origin = closer.track(TestOrigin.start(transfer.origin()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32", "limits.streamWindow", "64KiB");
        Gateway local = chain().local(remote, "alice", "secret", "limits.streamWindow", "64KiB",
                "limits.streamWindowMax", "1MiB", "limits.linkWindowGrowth", "256KiB", "linkPool", "1",
                "reactor.eventLoops", "1");
        try (Socket stalled = Socks5Client.connect(local.address("mixed"), "127.0.0.1", firehose.port())) {
            Await.until("the stalled tunnel relays", Duration.ofSeconds(5), () -> remote.stats().bytesDown() > 0);
            // 32 tunnels on the same single link, both ways at once, beside the stalled one.
            transfer.run(id -> Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
            long held = local.bufferPool().bytesInUse();
            assertThat(held).as("the local holds the stalled stream's window and a few buffers, not a flood")
                    .isLessThanOrEqualTo(8L * 64 * 1024 + 256 * 1024);
            assertThat(remote.sessions().links("alice")).as("all of it on one link").isEqualTo(1);
        }
    }

    @Test
    void wrongPasswordUnknownUserAndDisabledUserAreRefusedAndNothingIsRelayed() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        for (String[] credentials : new String[][] {{"alice", "wrong"}, {"mallory", "secret"}, {"carol", "pw"}}) {
            Gateway local = local(remote, credentials[0], credentials[1]);
            assertThat(replyCode(local, echo.port())).as(credentials[0]).isEqualTo(2);
        }
        assertThat(echo.accepted()).isZero();
        // At least the three tunnels' links; the locals' idle pools try (and back off) too.
        assertThat(remote.stats().handshakeFailures().get("link: authentication failed")).isGreaterThanOrEqualTo(3L);
    }

    @Test
    void theRemotesPolicyRefusesLoopbackUnlessAllowListed() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway strict = remote();
        io.relaygate.testkit.LogCapture policyLog = closer.track(io.relaygate.testkit.LogCapture.of(
                "io.relaygate.policy"));
        assertThat(replyCode(local(strict, "alice", "secret"), echo.port())).isEqualTo(2);
        assertThat(replyCode(local(strict, "alice", "secret"), echo.port())).isEqualTo(2);
        // The operator learns why, once per destination a minute, without reading the access log.
        assertThat(policyLog.linesContaining("destination 127.0.0.1:" + echo.port() + " refused: loopback"))
                .singleElement().asString().contains("--allow-destination");
        assertThat(echo.accepted()).isZero();
        assertThat(replyCode(local(strict, "alice", "secret"), strict.address("link").getPort()))
                .as("the remote's own link port").isEqualTo(2);
    }

    @Test
    void disablingOrDeletingAUserClosesTheirLiveTunnelsAndCountersArePersisted() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        accounts.put("dave", "pw", true);
        Gateway alice = local(remote, "alice", "secret");
        Gateway dave = local(remote, "dave", "pw");
        try (Socket aliceTunnel = Socks5Client.connect(alice.address("mixed"), "127.0.0.1", echo.port());
             Socket daveTunnel = Socks5Client.connect(dave.address("mixed"), "127.0.0.1", echo.port())) {
            for (Socket tunnel : List.of(aliceTunnel, daveTunnel)) {
                tunnel.getOutputStream().write(new byte[100]);
                new DataInputStream(tunnel.getInputStream()).readFully(new byte[100]);
            }
            Await.until("both registered", Duration.ofSeconds(2), () -> remote.sessions().tunnels("alice") >= 1
                    && remote.sessions().tunnels("dave") >= 1);
            long start = System.nanoTime();
            accounts.disable("alice");
            aliceTunnel.setSoTimeout(5_000);
            assertThat(Sockets.awaitEnd(aliceTunnel)).as("reset: a revoked tunnel is not a clean end")
                    .isEqualTo(Sockets.End.RESET);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            daveTunnel.getOutputStream().write(7);
            assertThat(daveTunnel.getInputStream().read()).as("another user's tunnel is untouched").isEqualTo(7);
            accounts.delete("dave");
            daveTunnel.setSoTimeout(5_000);
            assertThat(Sockets.awaitEnd(daveTunnel)).isEqualTo(Sockets.End.RESET);
        }
        assertThat(replyCode(alice, echo.port())).as("a disabled user opens nothing more").isEqualTo(2);
        remote.close();         // flushes the counters
        assertThat(accounts.traffic("alice")).containsExactly(100, 100);
        assertThat(accounts.traffic("dave")).containsExactly(101, 101);
    }

    @Test
    void tunnelsAreStreamsOfTheWarmLinksAndNeedNoNewLogin() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        // linkPool 2 over 2 loops: one link each, authenticated before any client comes.
        Await.until("the pool is warm", Duration.ofSeconds(5), () -> remote.sessions().links("alice") == 2);
        long linksBefore = remote.stats().acceptedConnections();
        List<Socket> tunnels = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port());
                tunnels.add(tunnel);
                tunnel.getOutputStream().write(i);
                assertThat(tunnel.getInputStream().read()).isEqualTo(i);
            }
            assertThat(remote.stats().openTunnels()).as("20 at once, over 2 links").isEqualTo(20);
        } finally {
            for (Socket tunnel : tunnels) {
                tunnel.close();
            }
        }
        Await.until("the tunnels closed", Duration.ofSeconds(5), () -> remote.stats().openTunnels() == 0);
        assertThat(remote.stats().acceptedConnections() - linksBefore).as("no new link").isZero();
        assertThat(remote.sessions().links("alice")).isEqualTo(2);
    }

    @Test
    void b5B6TheRemoteChecksTheResolvedAddressesAndRefusesANameWithAnyForbiddenOne() throws Exception {
        // Only loopback addresses anywhere: 127.0.0.2 is allow-listed, 127.0.0.1 is not.
        TestOrigin allowed = closer.track(TestOrigin.start(java.net.InetAddress.getByName("127.0.0.2"),
                TestOrigin.echo()));
        io.relaygate.spi.Resolver resolver = host -> switch (host) {
            case "allowed.test" -> List.of(java.net.InetAddress.getByName("127.0.0.2"));
            case "loopback.test" -> List.of(java.net.InetAddress.getByName("127.0.0.1"));
            case "mixed.test" -> List.of(java.net.InetAddress.getByName("127.0.0.2"),
                    java.net.InetAddress.getByName("127.0.0.1"));
            default -> throw new java.net.UnknownHostException(host);
        };
        List<String> settings = new ArrayList<>(List.of("role", "remote", "accountStore", "memory",
                "plugins.memory.users", "alice:secret", "dataDir", data.toString(), "allowDestination",
                "127.0.0.2/32"));
        Gateway remote = closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                resolver, settings.toArray(String[]::new)));
        Gateway local = local(remote, "alice", "secret");
        assertThat(nameReply(local, "loopback.test", allowed.port())).as("B5").isEqualTo(2);
        assertThat(nameReply(local, "mixed.test", allowed.port())).as("B6").isEqualTo(2);
        assertThat(allowed.accepted()).as("nothing dialled").isZero();
        assertThat(nameReply(local, "allowed.test", allowed.port())).as("B10").isZero();
        // The origin's accept thread may run just after the gateway saw the connection complete.
        Await.until("the allowed origin reached", Duration.ofSeconds(2), () -> allowed.accepted() == 1);
    }

    private static int nameReply(Gateway local, String name, int port) throws IOException {
        try (Socket socket = Socks5Client.open(local.address("mixed"))) {
            socket.getOutputStream().write(Socks5Client.greetingAndRequest(name, port));
            new DataInputStream(socket.getInputStream()).readFully(new byte[2]);
            return Socks5Client.readReply(socket).code();
        }
    }

    @Test
    void aStoppingRemoteDrainsTunnelsButNotIdleLinks() throws Exception {
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        Await.until("the pool is warm", Duration.ofSeconds(5), () -> remote.sessions().links("alice") == 2);
        long start = System.nanoTime();
        remote.shutdown(Duration.ofSeconds(30));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(local.stats().openConnections()).isZero();
    }

    @Test
    void aStoppingRemoteSendsGoawayLetsTheOpenTunnelFinishAndStopsOnceItHas() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        try (Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
            tunnel.getOutputStream().write(1);
            assertThat(tunnel.getInputStream().read()).isEqualTo(1);
            java.util.concurrent.CompletableFuture<Void> stopped = java.util.concurrent.CompletableFuture.runAsync(
                    () -> remote.shutdown(Duration.ofSeconds(20)));
            Await.until("the remote stopped accepting", Duration.ofSeconds(5),
                    () -> replyCodeQuietly(local, echo.port()) != 0);
            for (int i = 2; i < 12; i++) {
                tunnel.getOutputStream().write(i);
                assertThat(tunnel.getInputStream().read()).as("the open tunnel goes on while draining").isEqualTo(i);
            }
            assertThat(stopped).isNotDone();
            long closedAt = System.nanoTime();
            tunnel.close();
            stopped.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - closedAt)).as("the drain ends with the last tunnel")
                    .isLessThan(Duration.ofSeconds(3));
        }
    }

    /** An origin that writes to its client until the connection breaks. */
    private static void firehose(Socket socket) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        java.io.OutputStream out = socket.getOutputStream();
        while (true) {
            out.write(chunk);
        }
    }

    private static int replyCodeQuietly(Gateway local, int port) {
        try {
            return replyCode(local, port);
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    void aRevokedUsersClientThatReadsNothingIsResetWithinASecond() throws Exception {
        TestOrigin firehose = closer.track(TestOrigin.start(LinkChainTest::firehose));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        try (Socket slow = Socks5Client.connect(local.address("mixed"), "127.0.0.1", firehose.port())) {
            // The client reads nothing: its socket, the local's stream and the link fill up.
            Await.until("the download backs up", Duration.ofSeconds(5), () -> remote.stats().bytesDown() > 512 * 1024);
            long start = System.nanoTime();
            accounts.disable("alice");
            slow.setSoTimeout(5_000);
            assertThat(Sockets.awaitEnd(slow)).isNotEqualTo(Sockets.End.TIMEOUT);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("buffered bytes are dropped, not delivered")
                    .isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    @Timeout(300)
    void twoHundredFiftySixStreamsOfSixteenMebibytesBothWaysOverTwoLinksAreByteExact() throws Exception {
        BothWays transfer = new BothWays(256, Long.getLong("bigStreamBytes", 16L << 20));
        TestOrigin origin = closer.track(TestOrigin.start(transfer.origin()));
        // A client's upload ends long before its download on two loaded cores: the half-close timer must not cut it.
        Gateway remote = remote("allowDestination", "127.0.0.1/32", "limits.maxHandshakesPerSource", "1024",
                "timeouts.halfClosed", "10m");
        Gateway local = chain().local(remote, "alice", "secret", "limits.maxHandshakesPerSource", "1024",
                "timeouts.halfClosed", "10m");
        transfer.run(id -> Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
        assertThat(remote.sessions().links("alice")).as("the local's two links carried them all").isEqualTo(2);
        assertThat(remote.stats().bytesUp()).isEqualTo(local.stats().bytesUp());
    }

    @Test
    void whenTheRemoteGoesAwayOpenTunnelsClosePromptlyAndNewOnesFail() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("allowDestination", "127.0.0.1/32");
        Gateway local = local(remote, "alice", "secret");
        try (Socket tunnel = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
            tunnel.getOutputStream().write(1);
            assertThat(tunnel.getInputStream().read()).isEqualTo(1);
            long start = System.nanoTime();
            remote.close();
            tunnel.setSoTimeout(5_000);
            assertThat(Sockets.awaitEnd(tunnel)).isNotEqualTo(Sockets.End.TIMEOUT);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
        assertThat(replyCode(local, echo.port())).as("remote unreachable").isEqualTo(1);
    }
}
