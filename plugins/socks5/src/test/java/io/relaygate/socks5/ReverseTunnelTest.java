package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.Gateway;
import io.relaygate.core.link.ExposedServices;
import io.relaygate.core.link.ReversePorts;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.ProxyHeader;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LinkClient;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestChain;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reverse tunnel with both gateways in this JVM: a service behind the local reached on a public port of the
 * remote, byte-exact both ways; sticky and requested ports; every typed refusal; PROXY protocol v2; allowFrom and
 * maxVisitors; a local that goes away and comes back; a user disabled, lowered or deleted; the operator's close.
 */
@Timeout(90)
class ReverseTunnelTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts();

    private TestChain chain() {
        return new TestChain(closer, List.of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                List.of(new Socks5Plugin()), data);
    }

    /**
     * {@return {@code count} ports that were free a moment ago, for a pool} Below the ephemeral range, so that no
     * outgoing connection of the test takes one between this check and the remote's bind.
     */
    private static List<Integer> freePorts(int count) throws IOException {
        return io.relaygate.testkit.Sockets.freeListenPorts(count);
    }

    private static String pool(List<Integer> ports) {
        return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private Gateway remote(List<Integer> pool, String... extra) {
        accounts.put("alice", "secret", true).put("bob", "pw", true);
        List<String> settings = new ArrayList<>(List.of("reverse.bind", "127.0.0.1", "reverse.ports", pool(pool),
                "reverse.holdFor", "30s"));
        settings.addAll(List.of(extra));
        return chain().remote(settings.toArray(String[]::new));
    }

    /** A local of {@code user} exposing services given as name, target, then key, value… of the entry. */
    private Gateway local(Gateway remote, String user, String password, String[]... services) {
        List<String> settings = new ArrayList<>(List.of("timeouts.handshake", "2s"));
        for (int i = 0; i < services.length; i++) {
            String[] service = services[i];
            settings.addAll(List.of("expose." + i + ".name", service[0], "expose." + i + ".target", service[1]));
            for (int j = 2; j < service.length; j += 2) {
                settings.addAll(List.of("expose." + i + "." + service[j], service[j + 1]));
            }
        }
        return chain().local(remote, user, password, settings.toArray(String[]::new));
    }

    private static Optional<ExposedServices.Snapshot> state(Gateway local, String name) {
        return local.exposedServices().snapshot().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** Waits until {@code name} is exposed; {@return its public port} */
    private static int exposed(Gateway local, String name) {
        Await.until(name + " exposed", Duration.ofSeconds(10),
                () -> state(local, name).map(s -> s.state().equals("exposed")).orElse(false));
        return state(local, name).orElseThrow().publicPort();
    }

    private static Optional<ReversePorts.Snapshot> remoteState(Gateway remote, String user, String name) {
        return remote.reversePorts().snapshot().stream().filter(s -> s.user().equals(user) && s.name().equals(name))
                .findFirst();
    }

    private static Socket visit(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** {@return whether a visitor on {@code port} is refused or closed before it gets a byte back} */
    private static boolean refused(int port) {
        try (Socket socket = visit(port)) {
            socket.getOutputStream().write(1);
            return socket.getInputStream().read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void aServiceBehindTheLocalIsReachedOnThePublicPortByteExactBothWays() throws Exception {
        long size = 64L << 20;
        TestOrigin digest = closer.track(TestOrigin.start(TestOrigin.digestAfterEof()));
        TestOrigin source = closer.track(TestOrigin.start(socket -> {
            socket.getInputStream().read();
            Bytes.writeRandom(socket.getOutputStream(), size, 42);
            socket.shutdownOutput();
        }));
        accounts.put("alice", "secret", true);
        Gateway remote = remote(freePorts(3));
        accounts.exposePorts("alice", 2);
        LogCapture reverseLog = closer.track(LogCapture.of("io.relaygate.reverse"));
        Gateway local = local(remote, "alice", "secret", new String[] {"up", "127.0.0.1:" + digest.port()},
                new String[] {"down", "127.0.0.1:" + source.port()});
        int up = exposed(local, "up");
        int down = exposed(local, "down");
        assertThat(up).isNotEqualTo(down);
        assertThat(reverseLog.linesContaining("exposed up 127.0.0.1:" + digest.port() + " at 127.0.0.1:" + up))
                .hasSize(1);

        CompletableFuture<byte[]> upload = CompletableFuture.supplyAsync(() -> {
            try (Socket visitor = visit(up)) {
                byte[] sent = Bytes.writeRandom(visitor.getOutputStream(), size, 7);
                visitor.shutdownOutput();
                assertThat(Sockets.readToEnd(visitor)).isEqualTo(sent);
                return sent;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Socket visitor = visit(down)) {
            visitor.getOutputStream().write(1);
            long[] count = new long[1];
            byte[] received = Bytes.readAll(visitor.getInputStream(), count);
            assertThat(count[0]).isEqualTo(size);
            assertThat(received).isEqualTo(Bytes.writeRandom(OutputStream.nullOutputStream(), size, 42));
        }
        upload.get(60, TimeUnit.SECONDS);
        // The visits count as alice's traffic on the remote, both ways.
        Await.until("the visits ended", Duration.ofSeconds(5), () -> remoteState(remote, "alice", "up")
                .map(s -> s.visitors() == 0 && s.bytesUp() >= size).orElse(false)
                && remoteState(remote, "alice", "down").map(s -> s.bytesDown() >= size).orElse(false));
        assertThat(remote.stats().bytesUp()).isGreaterThanOrEqualTo(size);
        assertThat(remote.stats().bytesDown()).isGreaterThanOrEqualTo(size);
    }

    @Test
    void theRequestedPortIsGrantedAndTheSamePortComesBackAfterTheLocalReturns() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        List<Integer> pool = freePorts(4);
        Gateway remote = remote(pool);
        accounts.exposePorts("alice", 2);
        Gateway local = local(remote, "alice", "secret",
                new String[] {"web", "127.0.0.1:" + echo.port()},
                new String[] {"ssh", "127.0.0.1:" + echo.port(), "remotePort", String.valueOf(pool.get(3))});
        assertThat(exposed(local, "ssh")).isEqualTo(pool.get(3));
        int web = exposed(local, "web");
        assertThat(echoes(web)).isTrue();

        local.close();
        Await.until("the port refuses visitors", Duration.ofSeconds(5), () -> refused(web));
        assertThat(remoteState(remote, "alice", "web").orElseThrow().state()).isEqualTo("held");

        Gateway again = local(remote, "alice", "secret",
                new String[] {"web", "127.0.0.1:" + echo.port()},
                new String[] {"ssh", "127.0.0.1:" + echo.port(), "remotePort", String.valueOf(pool.get(3))});
        assertThat(exposed(again, "web")).as("the same port back").isEqualTo(web);
        assertThat(echoes(web)).isTrue();
    }

    private static boolean echoes(int port) throws IOException {
        try (Socket socket = visit(port)) {
            socket.getOutputStream().write("ping".getBytes());
            byte[] back = new byte[4];
            new DataInputStream(socket.getInputStream()).readFully(back);
            return new String(back).equals("ping");
        }
    }

    @Test
    void everyRefusalHasItsReasonInTheLocalsStateAndLog() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        List<Integer> pool = freePorts(2);
        int outside = freePorts(1).get(0);
        Gateway remote = remote(pool);
        accounts.put("carol", "pw", true).put("dave", "pw", true);
        accounts.exposePorts("alice", 1).exposePorts("bob", 1).exposePorts("dave", 1);
        LogCapture reverseLog = closer.track(LogCapture.of("io.relaygate.reverse"));

        // carol may expose nothing.
        Gateway carol = local(remote, "carol", "pw", new String[] {"web", "127.0.0.1:" + echo.port()});
        awaitRefusal(carol, "web", "this user may not expose ports");
        // alice may hold one port: her second service is over quota; a port outside the pool is refused.
        Gateway alice = local(remote, "alice", "secret", new String[] {"one", "127.0.0.1:" + echo.port(),
            "remotePort", String.valueOf(pool.get(0))}, new String[] {"two", "127.0.0.1:" + echo.port()},
            new String[] {"three", "127.0.0.1:" + echo.port(), "remotePort", String.valueOf(outside)});
        assertThat(exposed(alice, "one")).isEqualTo(pool.get(0));
        awaitRefusal(alice, "two", "this user's public ports are all in use");
        awaitRefusal(alice, "three", "outside the remote's pool");
        // bob asks for alice's port: taken (and asked again later, since that can change).
        Gateway bob = local(remote, "bob", "pw", new String[] {"web", "127.0.0.1:" + echo.port(), "remotePort",
            String.valueOf(pool.get(0))});
        awaitRefusal(bob, "web", "the port is taken");
        // dave takes the last port; nobody else finds one.
        Gateway dave = local(remote, "dave", "pw", new String[] {"web", "127.0.0.1:" + echo.port()});
        assertThat(exposed(dave, "web")).isEqualTo(pool.get(1));
        accounts.exposePorts("carol", 1);
        Gateway carolAgain = local(remote, "carol", "pw", new String[] {"db", "127.0.0.1:" + echo.port()});
        awaitRefusal(carolAgain, "db", "the remote's port pool is full");
        assertThat(reverseLog.linesContaining("exposing two refused by the remote: this user's public ports are all"
                + " in use")).as("logged once").hasSize(1);
        assertThat(reverseLog.linesContaining("exposing web refused by the remote: the port is taken; trying again"))
                .isNotEmpty();
        // Everything else still serves.
        assertThat(echoes(pool.get(0))).isTrue();
        assertThat(echoes(pool.get(1))).isTrue();
    }

    private static void awaitRefusal(Gateway local, String name, String reason) {
        Await.until(name + " refused: " + reason, Duration.ofSeconds(10), () -> state(local, name)
                .map(s -> s.state().equals("refused") && s.reason() != null && s.reason().contains(reason))
                .orElse(false));
    }

    @Test
    void theServiceLearnsTheVisitorsAddressByProxyProtocolTwo() throws Exception {
        CompletableFuture<InetSocketAddress[]> seen = new CompletableFuture<>();
        TestOrigin service = closer.track(TestOrigin.start(socket -> {
            byte[] header = new byte[28];
            new DataInputStream(socket.getInputStream()).readFully(header);
            seen.complete(ProxyHeader.parse(ByteBuffer.wrap(header)));
            socket.getOutputStream().write("hello".getBytes());
            socket.shutdownOutput();
        }));
        Gateway remote = remote(freePorts(2));
        accounts.exposePorts("alice", 1);
        Gateway local = local(remote, "alice", "secret", new String[] {"web", "127.0.0.1:" + service.port(),
            "proxyProtocol", "v2"});
        int port = exposed(local, "web");
        try (Socket visitor = visit(port)) {
            assertThat(new String(Sockets.readToEnd(visitor))).isEqualTo("hello");
            InetSocketAddress[] addresses = seen.get(10, TimeUnit.SECONDS);
            assertThat(addresses[0]).as("the visitor").isEqualTo(visitor.getLocalSocketAddress());
            assertThat(addresses[1].getPort()).isEqualTo(service.port());
        }
    }

    @Test
    void allowFromAndMaxVisitorsAreCheckedBeforeAnyStreamOpens() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(2));
        accounts.exposePorts("alice", 2);
        Gateway local = local(remote, "alice", "secret",
                new String[] {"strict", "127.0.0.1:" + echo.port(), "allowFrom", "10.0.0.0/8"},
                new String[] {"single", "127.0.0.1:" + echo.port(), "maxVisitors", "1"});
        int strict = exposed(local, "strict");
        int single = exposed(local, "single");
        assertThat(refused(strict)).as("127.0.0.1 is not in 10.0.0.0/8").isTrue();
        assertThat(echo.accepted()).isZero();
        try (Socket first = visit(single)) {
            first.getOutputStream().write("ping".getBytes());
            new DataInputStream(first.getInputStream()).readFully(new byte[4]);
            assertThat(refused(single)).as("a second visitor beyond maxVisitors 1").isTrue();
        }
        Await.until("the first visit ended", Duration.ofSeconds(5),
                () -> remoteState(remote, "alice", "single").orElseThrow().visitors() == 0);
        assertThat(echoes(single)).isTrue();
        assertThat(echo.accepted()).isEqualTo(2);
    }

    @Test
    void disablingLoweringOrClosingEndsPortsAndVisitorsWithinASecond() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(3));
        accounts.exposePorts("alice", 2);
        Gateway local = local(remote, "alice", "secret", new String[] {"a", "127.0.0.1:" + echo.port()},
                new String[] {"b", "127.0.0.1:" + echo.port()});
        int a = exposed(local, "a");
        int b = exposed(local, "b");
        try (Socket visitorB = visit(b)) {
            visitorB.getOutputStream().write(1);
            visitorB.getInputStream().read();
            // The operator closes b: its port and its visitor end, the local is told.
            long start = System.nanoTime();
            assertThat(remote.reversePorts().close("alice", "b")).isTrue();
            assertThat(Sockets.awaitEnd(visitorB)).as("reset, not a clean end").isEqualTo(Sockets.End.RESET);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
        Await.until("the local knows", Duration.ofSeconds(5), () -> state(local, "b")
                .map(s -> s.state().equals("refused") && s.reason().contains("closed by the remote")).orElse(false));
        assertThatThrownBy(() -> visit(b).close()).isInstanceOf(ConnectException.class);

        try (Socket visitorA = visit(a)) {
            visitorA.getOutputStream().write(1);
            visitorA.getInputStream().read();
            long start = System.nanoTime();
            accounts.disable("alice");
            assertThat(Sockets.awaitEnd(visitorA)).isEqualTo(Sockets.End.RESET);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
        Await.until("a's port closed", Duration.ofSeconds(1), () -> refused(a));
        assertThat(remote.reversePorts().snapshot()).as("a disabled user holds no port").isEmpty();
    }

    @Test
    void anAccountThatExpiresLosesItsPortsAndVisitorsWithinASecondOfTheInstant() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(2));
        accounts.exposePorts("alice", 1);
        Gateway local = local(remote, "alice", "secret", new String[] {"a", "127.0.0.1:" + echo.port()});
        int a = exposed(local, "a");
        try (Socket visitor = visit(a)) {
            visitor.getOutputStream().write(1);
            visitor.getInputStream().read();
            java.time.Instant expires = java.time.Instant.now().plusMillis(300);
            accounts.limits("alice", l -> l.withExpires(expires));
            assertThat(Sockets.awaitEnd(visitor)).isEqualTo(Sockets.End.RESET);
            assertThat(Duration.between(expires, java.time.Instant.now())).isLessThan(Duration.ofSeconds(1));
        }
        Await.until("the port closed", Duration.ofSeconds(1), () -> refused(a));
        // Not even held for a return: the local's links may end a moment before the expiry is enforced.
        Await.until("an expired user holds no port", Duration.ofSeconds(1),
                () -> remote.reversePorts().snapshot().isEmpty());
        Await.until("the local knows its login is refused", Duration.ofSeconds(10),
                () -> remote.sessions().links("alice") == 0);
    }

    @Test
    void aLowerAllowanceClosesThePortsBeyondIt() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(3));
        accounts.exposePorts("alice", 2);
        Gateway local = local(remote, "alice", "secret", new String[] {"a", "127.0.0.1:" + echo.port()},
                new String[] {"b", "127.0.0.1:" + echo.port()});
        exposed(local, "a");
        exposed(local, "b");
        accounts.exposePorts("alice", 1);
        Await.until("one port left", Duration.ofSeconds(1), () -> remote.reversePorts().snapshot().size() == 1);
        Await.until("the local knows", Duration.ofSeconds(5), () -> local.exposedServices().snapshot().stream()
                .filter(s -> s.state().equals("exposed")).count() == 1);
    }

    @Test
    void aThousandConcurrentVisitorsAcrossTwoServices() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(2));
        accounts.exposePorts("alice", 2);
        Gateway local = local(remote, "alice", "secret", new String[] {"a", "127.0.0.1:" + echo.port()},
                new String[] {"b", "127.0.0.1:" + echo.port()});
        int[] ports = {exposed(local, "a"), exposed(local, "b")};
        int visitors = 1000;
        List<Socket> open = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(32);
        try {
            List<java.util.concurrent.Future<Boolean>> answers = new ArrayList<>();
            for (int i = 0; i < visitors; i++) {
                int id = i;
                answers.add(pool.submit(() -> {
                    Socket socket = visit(ports[id % 2]);
                    open.add(socket);
                    byte[] message = ("visitor " + id).getBytes();
                    socket.getOutputStream().write(message);
                    byte[] back = new byte[message.length];
                    new DataInputStream(socket.getInputStream()).readFully(back);
                    return java.util.Arrays.equals(back, message);
                }));
            }
            for (java.util.concurrent.Future<Boolean> answer : answers) {
                assertThat(answer.get(60, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(remote.reversePorts().snapshot()).extracting(ReversePorts.Snapshot::visitors)
                    .as("all of them connected at once").containsExactly(visitors / 2, visitors / 2);
        } finally {
            pool.shutdownNow();
            for (Socket socket : open) {
                socket.close();
            }
        }
        Await.until("every visit ended", Duration.ofSeconds(10), () -> remote.reversePorts().snapshot().stream()
                .allMatch(s -> s.visitors() == 0) && remote.stats().openTunnels() == 0);
        assertThat(remote.bufferPool().inUse()).isZero();
    }

    @Test
    void aRateLimitedUsersVisitorsHoldTheRate() throws Exception {
        TestOrigin firehose = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
        Gateway remote = remote(freePorts(1));
        accounts.exposePorts("alice", 1);
        long rate = 1L << 20;
        accounts.rate("alice", rate);
        Gateway local = local(remote, "alice", "secret", new String[] {"feed", "127.0.0.1:" + firehose.port()});
        int port = exposed(local, "feed");
        try (Socket visitor = visit(port)) {
            InputStream in = visitor.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            long start = System.nanoTime();
            long settle = start + Duration.ofSeconds(1).toNanos();
            long end = settle + Duration.ofSeconds(4).toNanos();
            long counted = 0;
            long countedFrom = -1;
            long now;
            while ((now = System.nanoTime()) < end) {
                int n = in.read(buffer);
                assertThat(n).isPositive();
                if (now >= settle) {
                    if (countedFrom < 0) {
                        countedFrom = now;
                    } else {
                        counted += n;
                    }
                }
            }
            double measured = counted / ((System.nanoTime() - countedFrom) / 1e9);
            assertThat(measured).as("bytes/s over 4 s after the first second").isBetween(rate * 0.95, rate * 1.05);
        }
    }

    @Test
    void aFloodOfRegistrationsADuplicateAndABadNameGetRefusalsOrACloseAndTheServiceGoesOn() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(freePorts(2), "linkTls.mode", "off");
        accounts.exposePorts("alice", 1);
        Gateway local = local(remote, "alice", "secret", new String[] {"web", "127.0.0.1:" + echo.port()});
        int web = exposed(local, "web");
        InetSocketAddress link = remote.address("link");
        try (LinkClient client = LinkClient.login(link, "alice", "secret")) {
            client.socket().setSoTimeout(30_000);
            int flood = 10_000;
            for (int i = 0; i < flood; i++) {
                client.send(Frames.REGISTER, 0, LinkMessages.register(new LinkMessages.Register("s" + i, 0, 0,
                        List.of())));
            }
            java.util.Map<LinkMessages.RegisterOutcome, Integer> outcomes = new java.util.EnumMap<>(
                    LinkMessages.RegisterOutcome.class);
            for (int i = 0; i < flood; i++) {
                LinkClient.Frame frame = client.read();
                assertThat(frame.type()).isEqualTo(Frames.REGISTER_RESULT);
                outcomes.merge(LinkMessages.registerResult(ByteBuffer.wrap(frame.payload())).outcome(), 1,
                        Integer::sum);
            }
            assertThat(outcomes.keySet()).as("alice's one port is in use; the rest waited too long")
                    .containsOnly(LinkMessages.RegisterOutcome.QUOTA_REACHED, LinkMessages.RegisterOutcome.INVALID);
            client.send(Frames.REGISTER, 0, LinkMessages.register(new LinkMessages.Register("web", 0, 0, List.of())));
            assertThat(LinkMessages.registerResult(ByteBuffer.wrap(client.read().payload())).outcome())
                    .as("the local's own service, from another link").isEqualTo(LinkMessages.RegisterOutcome.NAME_IN_USE);
            // A name outside the rules is a protocol violation: that link closes, nothing else.
            client.send(Frames.REGISTER, 0, new byte[] {3, 'a', '/', 'b', 0, 0, 0, 0, 0, 0, 0, 0});
            assertThat(client.awaitClosed()).isTrue();
        }
        assertThat(echoes(web)).isTrue();
        assertThat(remote.reversePorts().snapshot()).singleElement()
                .satisfies(s -> assertThat(s.name()).isEqualTo("web"));
    }
}
