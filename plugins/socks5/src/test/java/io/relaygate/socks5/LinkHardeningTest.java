package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.wire.Frames;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LinkClient;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestChain;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The remote's link listener under hostile peers (issue 9): a lockout attempt on one user, links that break the
 * protocol in every state, and one user's idle links. Attack traffic comes from other loopback addresses
 * (127.0.0.2 and up), as from other machines.
 */
@Timeout(90)
class LinkHardeningTest {

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
        // The test's link client speaks the framing in the clear; the locals follow (TestChain sees no fingerprint).
        List<String> settings = new ArrayList<>(List.of("plugins.memory.users", "alice:secret,bob:pw",
                "allowDestination", "127.0.0.1/32", "linkTls.mode", "off"));
        settings.addAll(List.of(extra));
        return chain().remote(settings.toArray(String[]::new));
    }

    private Gateway local(Gateway remote, String user, String password) {
        return chain().local(remote, user, password);
    }

    /** {@return the SOCKS5 reply code of a tunnel through {@code local}, after an echo when it succeeded} */
    private static int tunnel(Gateway local, TestOrigin echo) throws IOException {
        try (Socket socket = Socks5Client.open(local.address("mixed"))) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", echo.port()));
            new DataInputStream(socket.getInputStream()).readFully(new byte[2]);
            int code = Socks5Client.readReply(socket).code();
            if (code == 0) {
                socket.getOutputStream().write(42);
                assertThat(socket.getInputStream().read()).isEqualTo(42);
            }
            return code;
        }
    }

    private static InetAddress loopback(int third, int fourth) throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, (byte) third, (byte) fourth});
    }

    @Test
    void aSustainedLockoutAttackOnAUserSlowsTheAttackerWhileTheOwnersLocalKeepsServing() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote();
        InetSocketAddress link = remote.address("link");
        Gateway local = local(remote, "alice", "secret");
        Await.until("the owner's pool is warm", Duration.ofSeconds(5), () -> remote.sessions().links("alice") == 2);
        LogCapture damping = closer.track(LogCapture.of("io.relaygate.auth"));

        // 60 failed logins for alice in a few seconds, each from its own address and costing the sender no key
        // derivation; then the same pace goes on while the owner works.
        ExecutorService attackers = Executors.newFixedThreadPool(60);
        closer.track(attackers::shutdownNow);
        AtomicInteger answered = new AtomicInteger();
        List<Future<?>> wave = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            InetAddress source = loopback(0, 2 + i);
            wave.add(attackers.submit(() -> forge(link, source, answered)));
        }
        for (Future<?> attempt : wave) {
            attempt.get(30, TimeUnit.SECONDS);
        }
        assertThat(answered.get()).as("every forged login got an answer").isEqualTo(60);
        AtomicBoolean sustaining = new AtomicBoolean(true);
        Future<?> sustained = attackers.submit(() -> {
            for (int i = 0; i < 200 && sustaining.get(); i++) {
                forge(link, loopback(1, 1 + i), answered);
            }
            return null;
        });

        // The owner's tunnels are streams of the links its local logged in before the attack.
        for (int i = 0; i < 20; i++) {
            assertThat(tunnel(local, echo)).as("tunnel %d of the owner during the attack", i).isZero();
        }
        // A device of the owner's that never logged in before is delayed, not refused.
        try (LinkClient newDevice = LinkClient.connect(link, loopback(2, 1))) {
            newDevice.preamble();
            assertThat(newDevice.authenticate("alice", "secret".getBytes(StandardCharsets.UTF_8))).isTrue();
        }
        sustaining.set(false);
        sustained.get(30, TimeUnit.SECONDS);

        assertThat(remote.stats().handshakeFailures()).as("no attempt was refused for being alice's")
                .doesNotContainKey("link: authentication damped");
        assertThat(damping.linesContaining("login damping:")).as("the damping is logged, with counts")
                .singleElement().asString().contains("answers delayed").contains("most failures for user alice");
    }

    /** One forged login: a hello for alice, a random proof. */
    private static Void forge(InetSocketAddress link, InetAddress source, AtomicInteger answered) throws IOException {
        try (LinkClient attacker = LinkClient.connect(link, source)) {
            LinkClient.Frame answer = attacker.forgeLogin("alice");
            assertThat(answer.type()).isEqualTo(Frames.SERVER_OUTCOME);
            assertThat(answer.payload()[0]).as("refused").isEqualTo((byte) 1);
            answered.incrementAndGet();
        }
        return null;
    }

    /** A way for a link to go wrong; the client closes right after (the remote may have closed first). */
    private interface Breakage {
        void play(LinkClient client) throws IOException;
    }

    @Test
    void aLinkThatFailsInAnyStateReleasesItsSessionAndItsPermit() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        // Damping off: this test fails logins from one address on purpose.
        Gateway remote = remote("limits.authFailuresBeforeDelay", "0", "timeouts.handshake", "2s");
        InetSocketAddress link = remote.address("link");
        byte[] secret = "secret".getBytes(StandardCharsets.UTF_8);
        // Version 2's OPEN: the window the opener grants, then the destination.
        byte[] openEcho = ByteBuffer.allocate(11).putInt(65536).put((byte) 1).put(new byte[] {127, 0, 0, 1})
                .putShort((short) echo.port()).array();
        Map<String, Breakage> breakages = new LinkedHashMap<>();
        breakages.put("not a link client", c -> c.sendRaw("GET / HTTP/1.1\r\n\r\n".getBytes()));
        breakages.put("unknown version", c -> c.sendRaw(new byte[] {0x52, 0x47, 0x4C, 0x4B, 9, 0}));
        breakages.put("malformed hello", c -> {
            c.preamble();
            c.send(Frames.CLIENT_HELLO, 0, new byte[] {40, 1, 2});
        });
        breakages.put("gone after hello", c -> {
            c.preamble();
            c.send(Frames.CLIENT_HELLO, 0, new io.relaygate.core.wire.ScramClient("alice", secret,
                    new java.security.SecureRandom()).hello());
            c.read();
        });
        breakages.put("wrong proof", c -> c.forgeLogin("alice"));
        breakages.put("DATA before OPEN", c -> login(c, secret).send(Frames.DATA, 1, new byte[] {1, 2, 3}));
        breakages.put("unknown frame type", c -> login(c, secret).send(0x7F, 0, new byte[0]));
        breakages.put("OPEN on stream 2", c -> login(c, secret).send(Frames.OPEN, 2, openEcho));
        breakages.put("malformed OPEN", c -> login(c, secret).send(Frames.OPEN, 1, new byte[] {9}));
        breakages.put("RST before OPEN", c -> login(c, secret).send(Frames.RST, 1, new byte[0]));
        breakages.put("EOF after login", c -> login(c, secret).socket().shutdownOutput());
        breakages.put("OPEN refused by policy", c -> login(c, secret).send(Frames.OPEN, 1,
                ByteBuffer.allocate(11).putInt(65536).put((byte) 1).put(new byte[] {10, 0, 0, 1})
                        .putShort((short) 80).array()));
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        breakages.put("random frames after login", c -> {
            login(c, secret);
            for (int f = 0; f < 50; f++) {
                byte[] payload = new byte[random.nextInt(64)];
                random.nextBytes(payload);
                c.send(random.nextInt(0x10, 0x1A), random.nextInt(0, 8), payload);
            }
        });
        breakages.put("reset while relaying", c -> {
            login(c, secret).send(Frames.OPEN, 1, openEcho);
            c.read();
            c.socket().setSoLinger(true, 0);
        });
        for (Map.Entry<String, Breakage> breakage : breakages.entrySet()) {
            for (int i = 0; i < 10; i++) {
                try (LinkClient client = LinkClient.connect(link, null)) {
                    breakage.getValue().play(client);
                } catch (IOException expected) {
                    // the remote may close first: that is the point
                }
            }
            Await.until(breakage.getKey() + ": every session and permit released", Duration.ofSeconds(5),
                    () -> remote.sessions().size() == 0 && remote.stats().openConnections() == 0);
        }
        // And the remote still serves.
        try (LinkClient client = LinkClient.login(link, "alice", "secret")) {
            client.send(Frames.OPEN, 1, openEcho);
            LinkClient.Frame result = client.read();
            assertThat(result.type()).isEqualTo(Frames.OPEN_RESULT);
            assertThat(result.payload()[0]).as("OPEN_RESULT ok").isZero();
        }
    }

    private static LinkClient login(LinkClient client, byte[] password) throws IOException {
        client.preamble();
        assertThat(client.authenticate("alice", password)).isTrue();
        return client;
    }

    @Test
    void oneUsersLinksAreCappedAndCannotCrowdOutAnotherUser() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("limits.maxConnections", "50", "limits.maxLinksPerUser", "8");
        InetSocketAddress link = remote.address("link");
        List<LinkClient> links = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            links.add(closer.track(LinkClient.login(link, "alice", "secret")));
        }
        // A login's answer goes out just before its link registers: wait for the last registration too.
        Await.until("all but 8 refused", Duration.ofSeconds(5),
                () -> Long.valueOf(32).equals(remote.stats().handshakeFailures().get("link: too many links")));
        assertThat(remote.sessions().links("alice")).isEqualTo(8);
        int told = 0;
        for (LinkClient client : links) {
            client.socket().setSoTimeout(300);     // the closed ones have their ERROR waiting already
            try {
                LinkClient.Frame frame = client.read();
                told += frame.type() == Frames.ERROR && frame.errorMessage().contains("too many links for this user")
                        ? 1 : 0;
            } catch (java.net.SocketTimeoutException kept) {
                // one of the 8 that stay
            } catch (IOException closed) {
                // closed after the ERROR was read by an earlier frame? not expected, counted as not told
            }
        }
        assertThat(told).as("each closed link was told why").isEqualTo(32);
        Gateway bob = local(remote, "bob", "pw");
        for (int i = 0; i < 5; i++) {
            assertThat(tunnel(bob, echo)).as("bob's tunnel %d", i).isZero();
        }
    }

    @Test
    void aBurstOfNewTunnelsSharesTheLinksAndNeverMeetsTheLinkCap() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote("limits.maxLinksPerUser", "2");
        Gateway local = local(remote, "alice", "secret");
        // Version 2: every tunnel is a stream of one of the local's two links (one per event loop).
        List<java.util.concurrent.Future<Integer>> burst = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(32);
        closer.track(clients::shutdownNow);
        for (int i = 0; i < 64; i++) {
            burst.add(clients.submit(() -> tunnel(local, echo)));
        }
        for (java.util.concurrent.Future<Integer> tunnel : burst) {
            assertThat(tunnel.get(30, TimeUnit.SECONDS)).isZero();
        }
        assertThat(remote.stats().handshakeFailures()).doesNotContainKey("link: too many links");
        assertThat(remote.sessions().links("alice")).isEqualTo(2);
    }

    @Test
    void theRemoteClosesAnAuthenticatedLinkThatOpensNothingEvenIfItPings() throws Exception {
        Gateway remote = remote("timeouts.idleLink", "300ms");
        try (LinkClient client = LinkClient.login(remote.address("link"), "alice", "secret")) {
            client.send(Frames.PING, 0, new byte[8]);
            // The remote pings too (the client answers); neither side's PINGs count as use of the link.
            assertThat(client.read().type()).isEqualTo(Frames.PONG);
            long start = System.nanoTime();
            LinkClient.Frame last = client.read();
            assertThat(last.type()).isEqualTo(Frames.ERROR);
            assertThat(last.errorMessage()).contains("idle");
            assertThat(client.awaitClosed()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
        Await.until("released", Duration.ofSeconds(2), () -> remote.sessions().size() == 0);
    }
}
