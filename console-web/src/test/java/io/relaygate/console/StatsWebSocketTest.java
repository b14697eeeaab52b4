package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.TestOrigin;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.Socket;
import java.net.URI;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The stats WebSocket: what it pushes, who may open it, and what happens to a client that stops reading. */
@Timeout(60)
class StatsWebSocketTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();


    /** Collects text messages. */
    private static final class Collector implements WebSocket.Listener {
        final List<String> messages = new CopyOnWriteArrayList<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }

    private static WebSocket open(ConsoleFixture console, String query, String origin, String token,
                                  WebSocket.Listener listener) throws Exception {
        WebSocket.Builder builder = console.http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (origin != null) {
            builder.header("Origin", origin);
        }
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        URI uri = URI.create(console.base().replace("http:", "ws:") + "/ws/stats" + query);
        return builder.buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
    }

    private static int refusal(ConsoleFixture console, String query, String origin, String token) {
        Throwable failure = null;
        try {
            open(console, query, origin, token, new Collector()).abort();
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (Exception e) {
            failure = e;
        }
        assertThat(failure).as("refused").isInstanceOf(WebSocketHandshakeException.class);
        return ((WebSocketHandshakeException) failure).getResponse().statusCode();
    }

    @Test
    void aClientGetsAMessageASecondWhoseRatesMatchALiveTransfer() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        long rate = 1 << 20;
        assertThat(console.send("POST", "/api/users", "{\"name\":\"alice\",\"password\":\"pw\",\"rate\":" + rate + "}")
                .statusCode()).isEqualTo(201);
        TestOrigin origin = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
        Socket tunnel = closer.track(console.tunnel("alice", "pw", origin.port()));
        AtomicLong received = new AtomicLong();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[32 * 1024];
            try (InputStream in = tunnel.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    received.addAndGet(n);
                }
            } catch (java.io.IOException e) {
                // closed at the end
            }
        });
        reader.setDaemon(true);
        reader.start();
        // Past the burst: the transfer runs at the user's rate from here.
        Await.until("past the burst", Duration.ofSeconds(5), () -> received.get() >= 512 * 1024);

        Collector collector = new Collector();
        WebSocket socket = open(console, "", console.base(), ConsoleFixture.TOKEN, collector);
        long start = System.nanoTime();
        long startBytes = received.get();
        Await.until("3.5 s of messages", Duration.ofSeconds(10), () -> System.nanoTime() - start >= 3_500_000_000L);
        double measured = (received.get() - startBytes) / ((System.nanoTime() - start) / 1e9);
        socket.abort();
        assertThat(console.gateway.shaping().meters().get("alice").parkedNanos()).as("the tunnel waited, not spun")
                .isGreaterThan(1_000_000_000L);

        assertThat(collector.messages).hasSizeGreaterThanOrEqualTo(3);
        List<String> messages = collector.messages;
        for (String text : messages.subList(1, messages.size())) {
            JsonNode message = JSON.readTree(text);
            assertThat(message.get("downBytesPerSecond").asDouble()).as(text).isCloseTo(measured,
                    org.assertj.core.data.Percentage.withPercentage(20));
            JsonNode alice = message.get("users").get(0);
            assertThat(alice.get("name").asText()).isEqualTo("alice");
            assertThat(alice.get("limit").asLong()).isEqualTo(rate);
            assertThat(alice.get("tunnels").asInt()).isEqualTo(1);
            assertThat(alice.get("links").asInt()).isZero();
            assertThat(alice.get("downBytesPerSecond").asDouble()).as(text).isCloseTo(measured,
                    org.assertj.core.data.Percentage.withPercentage(20));
            assertThat(message.get("openConnections").asInt()).isGreaterThanOrEqualTo(1);
        }
        assertThat(measured).as("the transfer itself runs at the user's rate").isCloseTo((double) rate,
                org.assertj.core.data.Percentage.withPercentage(20));
    }

    @Test
    void aForeignOriginNoOriginNoTokenOrAUsedTicketIsRefusedBeforeTheUpgrade() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        assertThat(refusal(console, "", "http://evil.test", ConsoleFixture.TOKEN)).isEqualTo(403);
        assertThat(refusal(console, "", null, ConsoleFixture.TOKEN)).isEqualTo(403);
        assertThat(refusal(console, "", console.base(), null)).isEqualTo(401);
        assertThat(refusal(console, "", console.base(), "wrong-token-0123456789")).isEqualTo(401);
        assertThat(refusal(console, "?ticket=made-up", console.base(), null)).isEqualTo(401);

        String ticket = JSON.readTree(console.send("POST", "/api/ws-ticket", null).body()).get("ticket").asText();
        assertThat(refusal(console, "?ticket=" + ticket, "http://evil.test", null)).as("origin first").isEqualTo(403);
        String fresh = JSON.readTree(console.send("POST", "/api/ws-ticket", null).body()).get("ticket").asText();
        Collector collector = new Collector();
        WebSocket socket = open(console, "?ticket=" + fresh, console.base(), null, collector);
        Await.until("a message", Duration.ofSeconds(3), () -> !collector.messages.isEmpty());
        socket.abort();
        assertThat(refusal(console, "?ticket=" + fresh, console.base(), null)).as("one use only").isEqualTo(401);
    }

    @Test
    @Timeout(120)
    void tenThousandConnectsAndDisconnectsLeaveNoThreadsOrMemoryBehind() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data));
        Runnable cycle = () -> {
            try {
                open(console, "", console.base(), ConsoleFixture.TOKEN, new Collector()).abort();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        for (int i = 0; i < 500; i++) {
            cycle.run();                      // warm up: pools and caches reach their working size
        }
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        int threadsBefore = Thread.activeCount();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        for (int i = 0; i < 10_000; i++) {
            cycle.run();
        }
        Await.until("the server to see every client go", Duration.ofSeconds(10),
                () -> statsClients(console) == 0);
        System.gc();
        long heapAfter = memory.getHeapMemoryUsage().getUsed();
        assertThat(Thread.activeCount()).as("threads").isLessThanOrEqualTo(threadsBefore + 4);
        assertThat(heapAfter - heapBefore).as("heap growth after 10,000 sessions").isLessThan(32L << 20);
        assertThat(console.send("GET", "/api/status", null).statusCode()).as("still serving").isEqualTo(200);
    }

    private static int statsClients(ConsoleFixture console) {
        try {
            return JSON.readTree(console.send("GET", "/api/status", null).body()).get("statsClients").asInt();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aClientThatStopsReadingIsDroppedOnceItsUnsentBytesPassTheBound() {
        AtomicBoolean closed = new AtomicBoolean();
        AtomicLong sent = new AtomicLong();
        // A session whose writes never complete: what a peer that never reads looks like once its buffers are full.
        Session stalled = (Session) Proxy.newProxyInstance(Session.class.getClassLoader(),
                new Class<?>[] {Session.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "isOpen" -> !closed.get();
                    case "sendText" -> {
                        sent.incrementAndGet();
                        yield null;
                    }
                    case "close" -> {
                        closed.set(true);
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
        StatsHub hub = new StatsHub(new QuietGateway(), JSON, 1024);
        try {
            hub.joined(stalled);
            int ticks = 0;
            while (!closed.get() && ticks < 100) {
                hub.tick();
                ticks++;
            }
            assertThat(closed).as("dropped").isTrue();
            assertThat(hub.clients()).isZero();
            long messageSize = hub.latest().length();
            assertThat(sent.get() * messageSize).as("never more than the bound queued").isLessThanOrEqualTo(1024);
        } finally {
            hub.close();
        }
    }

    /** A gateway with nothing going on. */
    private static final class QuietGateway implements io.relaygate.spi.AdminApi {
        @Override
        public io.relaygate.spi.GatewayContext context() {
            return new io.relaygate.spi.GatewayContext() {
                @Override
                public Role role() {
                    return Role.REMOTE;
                }

                @Override
                public Path dataDir() {
                    return Path.of("target");
                }

                @Override
                public java.util.concurrent.Executor blockingExecutor() {
                    return Runnable::run;
                }
            };
        }

        @Override
        public Snapshot snapshot() {
            return new Snapshot(0, 0, 0, 0, 0, 0, java.util.Map.of(), java.util.Map.of(),
                    List.of(new Principal("alice", 1024, 0, 0, 0, 0, 0, 0, 0, -1)), java.util.Map.of(),
                    new io.relaygate.spi.AdminApi.Udp(0, 0, 0, java.util.Map.of()));
        }

        @Override
        public java.util.Optional<io.relaygate.spi.AccountStore> accounts() {
            return java.util.Optional.empty();
        }

        @Override
        public io.relaygate.spi.ScramCredential credential(byte[] password) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.util.Optional<ProxyControl> proxy() {
            return java.util.Optional.empty();
        }
    }
}
