package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Udp;
import io.relaygate.testkit.TestChain;
import io.relaygate.testkit.TestGateway;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** SOCKS5 UDP ASSOCIATE (RFC 1928 §7) through real gateways, direct and over the link, against a UDP echo server. */
@Timeout(60)
class Socks5UdpTest {

    @RegisterExtension
    final Closer closer = new Closer();
    @TempDir
    Path data;
    private final MemoryAccounts accounts = new MemoryAccounts();

    /** Echoes every datagram to its sender, counting them. */
    static final class UdpEcho implements AutoCloseable {
        final DatagramSocket socket;
        final AtomicInteger received = new AtomicInteger();

        UdpEcho(String address) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0));
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[70_000];
                while (!socket.isClosed()) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    try {
                        socket.receive(packet);
                        received.incrementAndGet();
                        socket.send(new DatagramPacket(buffer, packet.getLength(), packet.getSocketAddress()));
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "udp-echo");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    private UdpEcho echo() throws IOException {
        return closer.track(new UdpEcho("127.0.0.1"));
    }

    private Gateway local(String... settings) {
        return closer.track(TestGateway.start(List.of(new Socks5Plugin()), settings));
    }

    private Socks5Udp associate(Gateway gateway) throws IOException {
        return closer.track(Socks5Udp.associate(gateway.address("mixed"), null, null));
    }

    private static void assertEchoes(Socks5Udp udp, String host, UdpEcho echo, int size) throws IOException {
        byte[] payload = Bytes.deterministic(size, size);
        udp.send(host, echo.port(), payload);
        Socks5Udp.Received reply = udp.receive(5_000);
        assertThat(reply).as("an echo of " + size + " bytes").isNotNull();
        assertThat(reply.data()).isEqualTo(payload);
        assertThat(reply.source()).isEqualTo(new InetSocketAddress("127.0.0.1", echo.port()));
    }

    @Test
    void datagramsOfEverySizeGoAndComeBackWrappedWithTheirSource() throws Exception {
        UdpEcho echo = echo();
        Gateway gateway = local();
        Socks5Udp udp = associate(gateway);
        assertThat(udp.relay().getAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
        for (int size : new int[] {0, 1, 64, 1400, 8192, 65_497}) {      // 65,507 with the header
            assertEchoes(udp, "127.0.0.1", echo, size);
        }
        assertEchoes(udp, "localhost", echo, 512);      // a name, resolved off the loop and cached
        // counted after the send: the client may hear the echo a moment before the gateway counts it
        Await.until("seven datagrams counted each way", Duration.ofSeconds(5),
                () -> gateway.stats().datagramsUp() == 7 && gateway.stats().datagramsDown() == 7);
        assertThat(gateway.stats().openAssociations()).isEqualTo(1);
    }

    @Test
    void theAssociationEndsWithItsControlConnection() throws Exception {
        UdpEcho echo = echo();
        Gateway gateway = local();
        Socks5Udp udp = associate(gateway);
        assertEchoes(udp, "127.0.0.1", echo, 10);
        udp.control().close();
        Await.until("the association closed", Duration.ofSeconds(5),
                () -> gateway.stats().openAssociations() == 0);
        udp.send("127.0.0.1", echo.port(), new byte[] {1});
        assertThat(udp.receive(300)).as("the relay is gone").isNull();
    }

    @Test
    void fragmentsMalformedHeadersAndForeignSourcesAreDroppedAndCounted() throws Exception {
        UdpEcho echo = echo();
        Gateway gateway = local();
        Socks5Udp udp = associate(gateway);
        assertEchoes(udp, "127.0.0.1", echo, 10);
        udp.sendRaw(Socks5Udp.header("127.0.0.1", echo.port(), 1), new byte[] {1, 2, 3});
        udp.sendRaw(new byte[] {0, 1, 0, 1, 127, 0, 0, 1, 0, 7}, new byte[] {1});      // RSV not zero
        udp.sendRaw(new byte[] {0, 0, 0, 9, 1, 2, 3, 4, 0, 7}, new byte[] {1});                         // unknown address type
        udp.sendRaw(new byte[] {0, 0}, new byte[0]);                                    // truncated
        udp.sendRaw(new byte[] {0, 0, 0, 3, 3, 'a', '!', 'b', 0, 53}, new byte[] {1});   // not a host name
        try (DatagramSocket stranger = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            byte[] datagram = Socks5Udp.header("127.0.0.1", echo.port(), 0);
            stranger.send(new DatagramPacket(datagram, datagram.length, udp.relay()));
        }
        Await.until("six drops counted", Duration.ofSeconds(5), () -> gateway.stats().datagramsDropped().values()
                .stream().mapToLong(Long::longValue).sum() == 6);
        assertThat(gateway.stats().datagramsDropped()).containsEntry("fragmented", 1L).containsEntry("malformed", 2L)
                .containsEntry("address type", 1L).containsEntry("bad destination", 1L)
                .containsEntry("foreign source", 1L);
        assertThat(echo.received.get()).as("none reached the destination").isEqualTo(1);
        assertEchoes(udp, "127.0.0.1", echo, 20);       // and the association goes on
    }

    @Test
    void associationsAreCappedPerSourceAndCanBeTurnedOff() throws Exception {
        Gateway gateway = local("udp.maxAssociationsPerSource", "2");
        associate(gateway);
        associate(gateway);
        assertThatThrownBy(() -> associate(gateway)).hasMessageContaining("reply 2");
        Gateway off = local("udp.enabled", "false");
        assertThatThrownBy(() -> associate(off)).hasMessageContaining("reply 7");
    }

    @Test
    void anIdleAssociationIsClosed() throws Exception {
        Gateway gateway = local("udp.idle", "300ms");
        Socks5Udp udp = associate(gateway);
        Await.until("closed when idle", Duration.ofSeconds(5), () -> gateway.stats().openAssociations() == 0);
        assertThat(udp.control().getInputStream().read()).as("the control connection closed").isEqualTo(-1);
    }

    private TestChain chain() {
        return new TestChain(closer, List.of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                List.of(new Socks5Plugin()), data);
    }

    @Test
    void overTheLinkTheRemoteSendsAndItsPolicyDecidesPerDatagram() throws Exception {
        UdpEcho echo = echo();
        UdpEcho forbidden = closer.track(new UdpEcho("127.0.0.2"));
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        Gateway local = chain().local(remote, "alice", "secret");
        Socks5Udp udp = associate(local);
        for (int size : new int[] {1, 1400, 65_497}) {
            assertEchoes(udp, "127.0.0.1", echo, size);
        }
        assertEchoes(udp, "localhost", echo, 100);
        udp.send("127.0.0.2", forbidden.port(), new byte[] {1});
        Await.until("the remote dropped it", Duration.ofSeconds(5),
                () -> remote.stats().datagramsDropped().getOrDefault("not allowed", 0L) == 1L);
        assertThat(forbidden.received.get()).isZero();
        assertThat(remote.shaping().meters().get("alice").bytesUp()).isEqualTo(1 + 1400 + 65_497 + 100 + 1);
        Await.until("the remote holds the association", Duration.ofSeconds(5),
                () -> remote.stats().openAssociations() == 1);
        udp.control().close();
        Await.until("the remote's end closed with the local's", Duration.ofSeconds(5),
                () -> remote.stats().openAssociations() == 0 && local.stats().openAssociations() == 0);
    }

    /** RELIABILITY.md E4: the remote's policy drops datagrams to its loopback and to link-local metadata. */
    @Test
    void theRemotesDefaultPolicyDropsDatagramsToLoopbackAndMetadataAddresses() throws Exception {
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote();
        Gateway local = chain().local(remote, "alice", "secret");
        Socks5Udp udp = associate(local);
        udp.send("127.0.0.1", 53, new byte[] {1});
        udp.send("169.254.169.254", 80, new byte[] {1});
        udp.send("localhost", 53, new byte[] {1});
        Await.until("three dropped by the policy", Duration.ofSeconds(5),
                () -> remote.stats().datagramsDropped().getOrDefault("not allowed", 0L) == 3L);
        assertThat(remote.stats().datagramsUp()).as("counted as sent on by the stream, dropped by the policy")
                .isEqualTo(3);
    }

    /** RELIABILITY.md E7: a request that elicits many replies meets the association's packet budget. */
    @Test
    void anAssociationsPacketBudgetBoundsAFlood() throws Exception {
        UdpEcho echo = echo();
        Gateway gateway = local("udp.maxPacketsPerSecond", "50");
        Socks5Udp udp = associate(gateway);
        for (int i = 0; i < 200; i++) {
            udp.send("127.0.0.1", echo.port(), new byte[] {(byte) i});
        }
        Await.until("the flood met the budget", Duration.ofSeconds(5),
                () -> gateway.stats().datagramsDropped().getOrDefault("association rate", 0L) >= 100);
        assertThat(gateway.stats().datagramsUp() + gateway.stats().datagramsDown()).isLessThanOrEqualTo(100);
    }

    @Test
    void theRemoteCapsAUsersDatagramStreams() throws Exception {
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32", "udp.maxAssociationsPerUser", "1");
        Gateway local = chain().local(remote, "alice", "secret");
        associate(local);
        assertThatThrownBy(() -> associate(local)).hasMessageContaining("reply 2");
        // the remote counts its end once it has answered the OPEN: a moment after the local's client hears of it
        Await.until("the remote holds one", Duration.ofSeconds(5), () -> remote.stats().openAssociations() == 1);
    }

    @Test
    void theUsersAssociationsCountUnderTheirCapAndCloseWhenTheyExpire() throws Exception {
        accounts.put("alice", "secret", true).limits("alice", l -> l.withMaxConnections(1));
        UdpEcho echo = echo();
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        Gateway local = chain().local(remote, "alice", "secret");
        Socks5Udp udp = associate(local);
        assertEchoes(udp, "127.0.0.1", echo, 10);
        assertThat(remote.allowances().tunnels("alice")).as("an association is one of the user's tunnels")
                .isEqualTo(1);
        assertThatThrownBy(() -> associate(local)).as("over the cap").hasMessageContaining("reply 2");

        java.time.Instant expires = java.time.Instant.now().plusMillis(200);
        accounts.limits("alice", l -> l.withExpires(expires));
        Await.until("the remote's end closed", Duration.ofSeconds(2), () -> remote.stats().openAssociations() == 0);
        assertThat(Duration.between(expires, java.time.Instant.now())).isLessThan(Duration.ofSeconds(1));
        Await.until("the slot given back", Duration.ofSeconds(2), () -> remote.allowances().tunnels("alice") == 0);
    }

    @Test
    void overTheUsersRateDatagramsAreDroppedNotQueued() throws Exception {
        UdpEcho echo = echo();
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        accounts.rate("alice", 64 * 1024);
        Gateway local = chain().local(remote, "alice", "secret");
        Socks5Udp udp = associate(local);
        assertEchoes(udp, "127.0.0.1", echo, 100);
        byte[] payload = new byte[1400];
        for (int i = 0; i < 400; i++) {         // 560 KB at once against 64 KiB/s and its burst
            udp.send("127.0.0.1", echo.port(), payload);
        }
        Await.until("datagrams over the rate dropped", Duration.ofSeconds(5),
                () -> remote.stats().datagramsDropped().getOrDefault("over rate", 0L) > 100);
        assertThat(echo.received.get()).as("what passed stayed near the burst").isLessThan(200);
    }
}
