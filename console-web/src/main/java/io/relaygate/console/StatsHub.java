package io.relaygate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relaygate.spi.AdminApi;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the gateway once a second and pushes one JSON message to every stats client. A client that does not read
 * is dropped once the bytes it left unsent pass a bound, so a stalled browser costs bounded memory. Also hands out
 * one-time tickets for the page's WebSocket (browsers cannot set headers on one). Thread-safe.
 */
final class StatsHub implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StatsHub.class);
    private static final long TICKET_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_TICKETS = 1024;

    private final AdminApi admin;
    private final ObjectMapper json;
    private final long maxQueued;
    private final ScheduledExecutorService sampler;
    private final Map<Session, AtomicLong> clients = new ConcurrentHashMap<>();
    private final Map<String, Long> tickets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private AdminApi.Snapshot last;
    private long lastNanos;
    private volatile String latest;

    StatsHub(AdminApi admin, ObjectMapper json, long maxQueued) {
        this.admin = admin;
        this.json = json;
        this.maxQueued = maxQueued;
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relaygate-console-stats");
            t.setDaemon(true);
            return t;
        });
        sample();
        sampler.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** {@return a new one-time ticket, valid 30 s} */
    String newTicket() {
        if (tickets.size() >= MAX_TICKETS) {
            long now = System.nanoTime();
            tickets.values().removeIf(expiry -> now - expiry > 0);
            if (tickets.size() >= MAX_TICKETS) {
                throw new IllegalStateException("too many unused tickets");
            }
        }
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        tickets.put(ticket, System.nanoTime() + TICKET_NANOS);
        return ticket;
    }

    /** {@return whether {@code ticket} is valid}, using it up */
    boolean redeem(String ticket) {
        if (ticket == null) {
            return false;
        }
        Long expiry = tickets.remove(ticket);
        return expiry != null && System.nanoTime() - expiry < 0;
    }

    void joined(Session session) {
        clients.put(session, new AtomicLong());
        String now = latest;
        if (now != null) {
            send(session, clients.get(session), now);
        }
    }

    void left(Session session) {
        clients.remove(session);
    }

    int clients() {
        return clients.size();
    }

    /** {@return the last message pushed, for tests and the status page} */
    String latest() {
        return latest;
    }

    void tick() {
        try {
            String message = sample();
            clients.forEach((session, queued) -> send(session, queued, message));
        } catch (RuntimeException e) {
            log.warn("sampling the gateway's counters failed: {}", e.toString());
        }
    }

    private void send(Session session, AtomicLong queued, String message) {
        if (!session.isOpen()) {
            clients.remove(session);
            return;
        }
        long size = message.length();
        if (queued.addAndGet(size) > maxQueued) {
            clients.remove(session);
            log.debug("dropping a stats client that stopped reading ({} bytes unsent)", queued.get());
            session.close(1008, "not reading", Callback.NOOP);
            return;
        }
        session.sendText(message, Callback.from(() -> queued.addAndGet(-size), failure -> {
            queued.addAndGet(-size);
            clients.remove(session);
        }));
    }

    /** Takes a snapshot and turns the change since the last one into rates; only the sampler thread calls it. */
    private synchronized String sample() {
        AdminApi.Snapshot now = admin.snapshot();
        long nanos = System.nanoTime();
        double seconds = last == null ? 1 : Math.max(0.001, (nanos - lastNanos) / 1e9);
        ObjectNode message = json.createObjectNode();
        message.put("time", System.currentTimeMillis());
        message.put("role", admin.context().role().name().toLowerCase(java.util.Locale.ROOT));
        message.put("upBytesPerSecond", last == null ? 0 : Math.round((now.bytesUp() - last.bytesUp()) / seconds));
        message.put("downBytesPerSecond",
                last == null ? 0 : Math.round((now.bytesDown() - last.bytesDown()) / seconds));
        message.put("openConnections", now.openConnections());
        message.put("openTunnels", now.openTunnels());
        if (admin.proxy().isPresent()) {
            message.put("running", admin.proxy().get().running());
        }
        Map<String, AdminApi.Principal> before = new HashMap<>();
        if (last != null) {
            last.principals().forEach(p -> before.put(p.name(), p));
        }
        ArrayNode users = message.putArray("users");
        for (AdminApi.Principal p : now.principals()) {
            AdminApi.Principal b = before.get(p.name());
            ObjectNode user = users.addObject();
            user.put("name", p.name());
            user.put("limit", p.rate());
            // A principal new since the last sample started from zero within this interval.
            user.put("upBytesPerSecond", Math.round((p.bytesUp() - (b == null ? 0 : b.bytesUp())) / seconds));
            user.put("downBytesPerSecond", Math.round((p.bytesDown() - (b == null ? 0 : b.bytesDown())) / seconds));
            user.put("tunnels", p.tunnels());
            user.put("links", p.links());
            user.put("parkedMillisTotal", p.parkedNanos() / 1_000_000);
        }
        last = now;
        lastNanos = nanos;
        String text = message.toString();
        latest = text;
        return text;
    }

    @Override
    public void close() {
        sampler.shutdownNow();
        clients.keySet().forEach(session -> session.close(1001, "console stopping", Callback.NOOP));
        clients.clear();
    }
}
